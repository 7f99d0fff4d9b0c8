// Proc2PDDL as an evaluation task (Zhang et al., "PROC2PDDL: Open-Domain Planning Representations from Texts",
// https://aclanthology.org/2024.nlrse-1.2; code https://github.com/zharry29/proc2pddl): one doc per domain;
// the model writes the domain's actions from the
// paper's prompt (generate_until); the completion's fenced `(:action` blocks are appended to domain_header.pddl;
// then, as task metrics:
//   success_rate                  OFFICIAL: solved problem files / all problem files (BFS, 30 s per file, an
//                                 empty plan counts as unsolved, plans are not checked against gold)
//   action/parameter/precondition/effect_accuracy
//                                 OFFICIAL intrinsic scores (bug-for-bug action_equal and second action_dist,
//                                 by position, over the domains whose prediction parses)
//   valid_under_gold_rate         OURS: solved files whose plan is also valid under the gold domain
//   strict_action_accuracy        OURS: equality up to a real renaming of parameters
// Corpus metrics sit on the last doc (see ../digital-socrates/generation-task.ts); per-domain counts on each doc.
//
// Task ids: proc2pddl (= proc2pddl_desc_zpd, the paper's best gpt-4o setting, 45%), and
// proc2pddl_{desc,whole,pair}[_zpd|_cot]: desc = action names and descriptions only (instruction_no_text),
// whole = plus the whole text (instruction_text), pair = action–step pairs (instruction_pair).
import { readFileSync } from 'node:fs';
import {
  assembleDomain,
  evaluateDomain,
  predictedActionsFromCompletion,
  scoreIntrinsic,
  summarizeIntrinsic,
  summarizeSuccess,
  type DomainEvaluation,
  type IntrinsicDomainResult,
} from '../../../pddl/index.ts';
import type { DatasetSource } from '../../data/source.ts';
import type { GenerationKwargs } from '../../types.ts';
import * as chatGen from '../../kinds/chat-generation.ts';
import { loadProc2PddlDomains, PROC2PDDL_PATH, resolveProc2PddlData, type Proc2PddlDomain } from './data.ts';
import {
  checkTemplates,
  flattenMessages,
  proc2pddlMessages,
  type InstructionKind,
  type PddlPromptKind,
  type PromptTemplates,
} from './prompts.ts';

/**
 * Decoding: the official script sets no temperature (the API default, 1.0, samples) and max_tokens 10000; we
 * decode greedily so runs repeat. The official "continue" turns (up to 7 when the last action is missing) need a
 * multi-turn exchange and are not made.
 */
export const PROC2PDDL_GENERATION: GenerationKwargs = {
  max_gen_toks: 10000,
  do_sample: false,
  temperature: 0,
  stop_sequences: [],
};

export interface Proc2PddlOptions {
  name?: string;
  prompt?: PddlPromptKind;
  instruction?: InstructionKind;
  regime?: string;
  /** data folder (a clone of zharry29/proc2pddl or a folder of domain folders); else $OLMO_PROC2PDDL_DIR or the source's folders */
  dataDir?: string;
  /** prompt templates (predict_scripts/prompts.json); else found beside the data */
  templates?: PromptTemplates;
  /** per problem file; default the official 30 s */
  timeLimitMs?: number;
  maxStates?: number;
  maxBytes?: number;
}

type P2Doc = chatGen.GenDoc<{ domain: Proc2PddlDomain }>;

export class Proc2PddlTask extends chatGen.ChatGenerationTask<P2Doc> {
  constructor(
    config: chatGen.GenerationTaskConfig,
    public templates: PromptTemplates | null = null,
    readonly dataDir: string | null = null,
  ) {
    super(config);
  }

  static create(o: Proc2PddlOptions = {}): Proc2PddlTask {
    const prompt = o.prompt ?? 'desc';
    const instruction = o.instruction ?? 'zpd';
    const name = o.name ?? `proc2pddl_${prompt}${instruction === 'plain' ? '' : `_${instruction}`}`;
    const cfg = chatGen.makeGenerationConfig({
      name,
      regime: o.regime ?? 'olmes',
      datasetPath: PROC2PDDL_PATH,
      split: 'pddl_data',
      primaryMetric: 'success_rate',
      limit: null,
      protocol:
        'official (evaluate.py success rate, compare_actions.py intrinsic scores) + ours (valid_under_gold_rate, strict_action_accuracy)',
      generationKwargs: PROC2PDDL_GENERATION,
      extra: {
        prompt_setting: prompt,
        instruction,
        num_fewshot_examples: 0,
        time_limit_ms: o.timeLimitMs ?? 30_000,
        max_states: o.maxStates ?? null,
        max_bytes: o.maxBytes ?? null,
      },
    });
    return new Proc2PddlTask(cfg, o.templates ?? null, o.dataDir ?? null);
  }

  get limits() {
    const c = this.config;
    return {
      timeLimitMs: c.time_limit_ms as number,
      ...(c.max_states !== null ? { maxStates: c.max_states as number } : {}),
      ...(c.max_bytes !== null ? { maxBytes: c.max_bytes as number } : {}),
    };
  }

  async loadDocs(source: DatasetSource): Promise<P2Doc[]> {
    if (this.config.num_shots > 0) {
      throw new Error(
        `${this.config.alias}: few-shot prompts need the official few-shot examples (predict_scripts/few_shot_examples.py), which this task does not read; use num_shots 0`,
      );
    }
    const r = resolveProc2PddlData(source, this.dataDir);
    if (!this.templates) {
      if (!r.templatesFile)
        throw new Error(
          `Proc2PDDL prompt templates not found: expected predict_scripts/prompts.json in the clone, or prompt_templates.json beside the domain folders of ${r.dir}`,
        );
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(r.templatesFile, 'utf8'));
      } catch (e) {
        throw new Error(`${r.templatesFile}: malformed JSON: ${(e as Error).message}`, { cause: e });
      }
      this.templates = checkTemplates(json, r.templatesFile);
    }
    return this.docsFromDomains(loadProc2PddlDomains(r.dir, r.evalRoot));
  }

  docsFromDomains(domains: Proc2PddlDomain[]): P2Doc[] {
    return domains.map((domain, index) => ({
      index,
      native_id: domain.id,
      query: domain.id,
      choices: [],
      gold: 0,
      extra: { domain },
    }));
  }

  messages(d: Proc2PddlDomain) {
    if (!this.templates) throw new Error(`${this.config.alias}: prompt templates not loaded`);
    return proc2pddlMessages(
      d,
      this.templates,
      this.config.prompt_setting as PddlPromptKind,
      this.config.instruction as InstructionKind,
    );
  }

  requests(doc: P2Doc): chatGen.ChatGenerateRequest[] {
    const messages = this.messages(doc.extra.domain);
    return [
      {
        type: 'generate_until',
        context: flattenMessages(messages),
        messages,
        generation_kwargs: this.config.generation_kwargs,
      },
    ];
  }

  score(doc: P2Doc, outputs: string[]): chatGen.ScoredDoc {
    const d = doc.extra.domain;
    const raw = outputs[0];
    const predicted = predictedActionsFromCompletion(raw);
    const ev = evaluateDomain(
      {
        id: d.id,
        domainHeader: d.domainHeader,
        predictedActions: predicted,
        goldActionsTxt: d.actionsTxt,
        problems: d.problems,
        goldDomain: d.goldDomain,
      },
      this.limits,
    );
    const intr = scoreIntrinsic(assembleDomain(d.domainHeader, predicted), d.goldDomain);
    const n = ev.problems.length;
    const solved = ev.problems.filter((p) => p.outcome === 'solved').length;
    const metrics: Record<string, number> = {
      problems: n,
      solved,
      domain_success_rate: n ? solved / n : 0,
      valid_under_gold: ev.problems.filter((p) => p.validUnderGold).length,
      domain_parsed: ev.intrinsic === 'parsing_error' ? 0 : 1,
      actions_complete: ev.intrinsic === 'pass' ? 1 : 0,
    };
    const output = {
      continuation: raw,
      predicted_actions: predicted,
      intrinsic_status: ev.intrinsic,
      missing_actions: ev.missingActions ?? [],
      problems: ev.problems.map((p) => ({
        problem: p.problem,
        outcome: p.outcome,
        plan: p.planText,
        valid_under_gold: p.validUnderGold ?? null,
      })),
      intrinsic: intr.parsed ? intr.perAction : null,
    };
    return { metrics, outputs: [output], data: { ev, intr } };
  }

  override corpus(scored: chatGen.ScoredDoc[]): Record<string, number> {
    const evs = scored.map((s) => (s.data as { ev: DomainEvaluation }).ev);
    const intrs = scored.map((s) => (s.data as { intr: IntrinsicDomainResult }).intr);
    const s = summarizeSuccess(evs);
    const i = summarizeIntrinsic(intrs);
    const rate = (k: number) => (s.total ? k / s.total : 0);
    return {
      success_rate: s.successRate,
      valid_under_gold_rate: s.validUnderGoldRate ?? 0,
      unsolved_rate: rate(s.unsolved),
      timeout_rate: rate(s.timeout),
      parse_error_rate: rate(s.parseError + s.crash),
      memory_limit_rate: rate(s.memoryLimit),
      total_problems: s.total,
      intrinsic_pass_rate: evs.length ? s.intrinsic.pass / evs.length : 0,
      parsed_domains: i.parsedDomains,
      gold_actions: i.goldActions,
      action_accuracy: i.actionAccuracy,
      parameter_accuracy: i.parameterAccuracy,
      precondition_accuracy: i.preconditionAccuracy,
      effect_accuracy: i.effectAccuracy,
      strict_action_accuracy: i.strictActionAccuracy,
    };
  }
}

const factory =
  (prompt: PddlPromptKind, instruction: InstructionKind, name?: string): chatGen.GenerationTaskFactory =>
  (args) => {
    const t = Proc2PddlTask.create({ prompt, instruction, name, regime: args.regime });
    return new Proc2PddlTask(chatGen.applyArgs(t.config, args));
  };

export const PROC2PDDL_TASKS: Record<string, chatGen.GenerationTaskFactory> = {
  proc2pddl: factory('desc', 'zpd', 'proc2pddl'),
  ...Object.fromEntries(
    (['desc', 'whole', 'pair'] as const).flatMap((p) =>
      (['plain', 'zpd', 'cot'] as const).map((ins) => [
        `proc2pddl_${p}${ins === 'plain' ? '' : `_${ins}`}`,
        factory(p, ins),
      ]),
    ),
  ),
};

export const proc2pddlResolver = chatGen.generationResolver(
  'proc2pddl, proc2pddl_{desc,whole,pair}[_zpd|_cot]',
  PROC2PDDL_TASKS,
);
