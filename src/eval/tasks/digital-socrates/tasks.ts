// Digital Socrates as evaluation tasks over DS Critique Bank (HF allenai/DS_Critique_Bank, one JSONL file per
// split: DSCB-dev-crowd-anno, DSCB-dev-non-anno, DSCB-train-expert, …, read from a local HF-layout folder or the
// hub cache, e.g. <data>/allenai/DS_Critique_Bank/DSCB-dev-crowd-anno.jsonl).
//
//   digital_socrates          the evaluated model critiques DSCB explanations (dev-crowd-anno); its explanation
//                             scores are compared with the mean human score, its dimensions with GPT-4's
//   digital_socrates_dev      the same on dev-non-anno, against the gpt-4-0613 critique
//   digital_socrates_expert   the same on train-expert, against the human-edited critique
//   digital_socrates_student  stage 1 of the critic mode: the evaluated model answers and explains DSCB questions
//                             (pipeline.ts: a second backend then critiques those explanations)
import { readFileSync } from 'node:fs';
import type { DatasetSource, LoadedSplit } from '../../data/source.ts';
import { RowError } from '../../data/fields.ts';
import type { Task } from '../../task.ts';
import type { GenerationKwargs, Row } from '../../types.ts';
import {
  DIMENSIONS,
  DS_SYSTEM_PROMPT,
  fillCritiquePrompt,
  llama2CardPrompt,
  OURS_TEMPLATE,
  parseCritique,
  templateFromPromptsJson,
  type CritiqueTemplate,
  type Dimension,
} from './critique.ts';
import * as chatGen from '../../kinds/chat-generation.ts';
import { findDatasetFile, rowLocator } from '../../data/dataset-files.ts';
import { pearson, spearman } from '../../correlation.ts';

export const DSCB_PATH = 'allenai/DS_Critique_Bank';
export const DEFAULT_REFERENCE_CRITIC = 'gpt-4-0613';

/** Critique decoding of the model cards: up to 512 new tokens, greedy. */
export const CRITIQUE_GENERATION: GenerationKwargs = {
  max_gen_toks: 512,
  do_sample: false,
  temperature: 0,
  stop_sequences: [],
};

export interface DsItem {
  id: string;
  qid: string | null;
  question: string;
  gold_answer: string;
  student_model: string | null;
  student_answer: string;
  student_explanation: string;
  student_accuracy: number | null;
  /** mean of explanation_annotations[].explanation_score, when annotated */
  human_score: number | null;
  human_annotations: number;
  /** the reference critique (critique_model = reference critic), when present */
  ref_critique: { model: string; score: number | null; dimension: Dimension | null } | null;
}

function str(row: Row, k: string, where: string): string {
  const v = row[k];
  if (typeof v !== 'string')
    throw new RowError(
      `${where}: field "${k}" must be a string, got ${v === undefined ? 'nothing (field missing)' : JSON.stringify(v)?.slice(0, 60)}`,
    );
  return v;
}

function optStr(row: Row, k: string): string | null {
  const v = row[k];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return parseFloat(v);
  return null;
}

/** A DSCB record → the fields the tasks use; `referenceCritic` '*' takes the first critique. */
export function dsItemFromRow(row: Row, where: string, referenceCritic = DEFAULT_REFERENCE_CRITIC): DsItem {
  const id = optStr(row, 'id') ?? where;
  let human: number[] = [];
  const ann = row.explanation_annotations;
  if (ann !== undefined && ann !== null) {
    if (!Array.isArray(ann))
      throw new RowError(`${where}: field "explanation_annotations" must be a list, got ${typeof ann}`);
    human = ann.flatMap((a, i) => {
      if (a === null || typeof a !== 'object')
        throw new RowError(`${where}: explanation_annotations[${i}] must be an object, got ${JSON.stringify(a)}`);
      const s = (a as Row).explanation_score;
      if (s === undefined || s === null) return [];
      const n = num(s);
      if (n === null)
        throw new RowError(
          `${where}: explanation_annotations[${i}].explanation_score must be a number, got ${JSON.stringify(s)}`,
        );
      return [n];
    });
  }
  let ref: DsItem['ref_critique'] = null;
  const crits = row.critiques;
  if (crits !== undefined && crits !== null) {
    if (!Array.isArray(crits)) throw new RowError(`${where}: field "critiques" must be a list, got ${typeof crits}`);
    const c = crits.find((x) => referenceCritic === '*' || (x as Row | null)?.critique_model === referenceCritic) as
      Row | undefined;
    if (c) {
      const el = c.critique_elements as Row | undefined;
      if (!el || typeof el !== 'object')
        throw new RowError(`${where}: critique by ${String(c.critique_model)} has no "critique_elements" object`);
      const score = num(el.explanation_score);
      let dim: Dimension | null = null;
      if (typeof el.dimension === 'string' && el.dimension.trim() !== '') {
        const d = el.dimension.trim().toLowerCase();
        if (!(DIMENSIONS as readonly string[]).includes(d) && !['none', 'n/a'].includes(d)) {
          throw new RowError(
            `${where}: critique_elements.dimension ${JSON.stringify(el.dimension)} is not one of ${DIMENSIONS.join(', ')}`,
          );
        }
        dim = (DIMENSIONS as readonly string[]).includes(d) ? (d as Dimension) : null;
      }
      ref = { model: String(c.critique_model ?? 'first'), score, dimension: dim };
    }
  }
  const acc = row.student_accuracy;
  return {
    id,
    qid: optStr(row, 'qid'),
    question: str(row, 'question', where),
    gold_answer: str(row, 'gold_answer', where).trim(),
    student_model: optStr(row, 'student_model'),
    student_answer: str(row, 'student_answer', where).trim(),
    student_explanation: str(row, 'student_explanation', where),
    student_accuracy: acc === undefined || acc === null ? null : num(acc),
    human_score: human.length ? human.reduce((a, b) => a + b, 0) / human.length : null,
    human_annotations: human.length,
    ref_critique: ref,
  };
}

function safeKey(s: string): string {
  return s.replace(/[^A-Za-z0-9.]+/g, '_');
}

export type Reference = 'human' | 'critique' | 'none';
export type PromptStyle = 'llama2-card' | 'plain';

export interface DigitalSocratesOptions {
  name: string;
  split: string;
  reference: Reference;
  referenceCritic?: string;
  promptStyle?: PromptStyle;
  /** use this template instead of looking for DSCB-prompts.json next to the data */
  template?: CritiqueTemplate;
  limit?: number | null;
  regime?: string;
  datasetPath?: string;
}

type DsDoc = chatGen.GenDoc<{ item: DsItem }>;

/** The evaluated model writes one critique per DSCB record; scored against the chosen reference. */
export class DigitalSocratesTask extends chatGen.ChatGenerationTask<DsDoc> {
  template: CritiqueTemplate | null;
  /** critique these items instead of loading the split (the critic stage of pipeline.ts) */
  items: DsItem[] | null;

  constructor(config: chatGen.GenerationTaskConfig, template?: CritiqueTemplate, items?: DsItem[]) {
    super(config);
    this.template = template ?? null;
    this.items = items ?? null;
  }

  static create(o: DigitalSocratesOptions & { items?: DsItem[] }): DigitalSocratesTask {
    const reference = o.reference;
    const cfg = chatGen.makeGenerationConfig({
      name: o.name,
      regime: o.regime ?? 'olmes',
      datasetPath: o.datasetPath ?? DSCB_PATH,
      split: o.split,
      primaryMetric: reference === 'none' ? 'pred_score' : 'score_pearson',
      limit: o.limit ?? null,
      protocol:
        reference === 'none'
          ? 'ours (critic mode: critique scores of a student model)'
          : 'ours (agreement with reference scores and dimensions; the paper publishes no scorer)',
      generationKwargs: CRITIQUE_GENERATION,
      extra: {
        reference,
        reference_critic: o.referenceCritic ?? DEFAULT_REFERENCE_CRITIC,
        prompt_style: o.promptStyle ?? 'llama2-card',
        prompt_source: o.template?.source ?? null,
      },
    });
    return new DigitalSocratesTask(cfg, o.template, o.items);
  }

  /** The official template from DSCB-prompts.json beside the data when present, else ours. */
  resolveTemplate(source: DatasetSource): CritiqueTemplate {
    if (this.template) return this.template;
    const { file } = findDatasetFile(source, this.config.dataset_path, ['DSCB-prompts.json']);
    this.template = file ? templateFromPromptsJson(readFileSync(file, 'utf8'), file) : OURS_TEMPLATE;
    (this.config as chatGen.GenerationTaskConfig).prompt_source = this.template.source;
    return this.template;
  }

  itemsFromSplit(split: LoadedSplit): DsItem[] {
    const at = rowLocator(split);
    return split.rows.map((r, i) => dsItemFromRow(r, at(i), this.config.reference_critic as string));
  }

  async loadDocs(source: DatasetSource): Promise<DsDoc[]> {
    this.resolveTemplate(source);
    if (this.items) return this.docsFromItems(this.items);
    const split = await source.load({ path: this.config.dataset_path, split: this.config.split });
    return this.docsFromItems(this.itemsFromSplit(split));
  }

  /** Docs straight from items (two-stage pipelines, tests). */
  docsFromItems(items: DsItem[]): DsDoc[] {
    return items.map((item, index) => ({
      index,
      native_id: item.id,
      query: item.question,
      choices: [],
      gold: 0,
      extra: { item },
    }));
  }

  prompt(item: DsItem): { context: string; messages: chatGen.ChatGenerateRequest['messages'] } {
    const t = this.template ?? OURS_TEMPLATE;
    const user = fillCritiquePrompt(t, {
      question: item.question,
      explanation: item.student_explanation,
      predictedAnswer: item.student_answer,
      answerKey: item.gold_answer,
    });
    const context = this.config.prompt_style === 'plain' ? `${t.system}\n\n${user}` : llama2CardPrompt(t.system, user);
    return {
      context,
      messages: [
        { role: 'system', content: t.system },
        { role: 'user', content: user },
      ],
    };
  }

  requests(doc: DsDoc): chatGen.ChatGenerateRequest[] {
    const p = this.prompt(doc.extra.item);
    return [
      {
        type: 'generate_until',
        context: p.context,
        messages: p.messages,
        generation_kwargs: this.config.generation_kwargs,
      },
    ];
  }

  reference(item: DsItem): number | null {
    if (this.config.reference === 'human') return item.human_score;
    if (this.config.reference === 'critique') return item.ref_critique?.score ?? null;
    return null;
  }

  score(doc: DsDoc, outputs: string[]): chatGen.ScoredDoc {
    const item = doc.extra.item;
    const text = outputs[0];
    const p = parseCritique(text);
    const m: Record<string, number> = { parsed: p.ok ? 1 : 0 };
    const ref = this.reference(item);
    const refDim = item.ref_critique ? item.ref_critique.dimension : undefined;
    if (p.ok) {
      const c = p.critique;
      m.pred_score = c.explanation_score;
      m.flaw_found = c.main_flaw !== null ? 1 : 0;
      for (const d of DIMENSIONS) m[`dimension_share_${d}`] = c.dimension === d ? 1 : 0;
      if (item.student_accuracy !== null)
        m[item.student_accuracy >= 1 ? 'flaw_rate_student_correct' : 'flaw_rate_student_wrong'] = m.flaw_found;
      if (item.student_model) m[`pred_score_student_${safeKey(item.student_model)}`] = c.explanation_score;
    }
    if (ref !== null) {
      m.score_exact = p.ok && Math.abs(p.critique.explanation_score - ref) <= 0.5 ? 1 : 0;
      m.score_within1 = p.ok && Math.abs(p.critique.explanation_score - ref) <= 1 ? 1 : 0;
      if (p.ok) m.score_abs_error = Math.abs(p.critique.explanation_score - ref);
    }
    if (refDim !== undefined && this.config.reference !== 'none')
      m.dimension_acc = p.ok && p.critique.dimension === refDim ? 1 : 0;
    const output: Record<string, unknown> = {
      continuation: text,
      parsed: p.ok,
      ...(p.ok
        ? { critique_elements: p.critique, warnings: p.warnings }
        : { parse_errors: p.errors, partial: p.partial }),
      reference_score: ref,
      reference_dimension: refDim ?? null,
      student_model: item.student_model,
    };
    return { metrics: m, outputs: [output], data: { pred: p.ok ? p.critique.explanation_score : null, ref } };
  }

  override corpus(scored: chatGen.ScoredDoc[]): Record<string, number> {
    const pairs = scored
      .map((s) => s.data as { pred: number | null; ref: number | null })
      .filter((d): d is { pred: number; ref: number } => d.pred !== null && d.ref !== null);
    const out: Record<string, number> = { unparseable: scored.filter((s) => s.metrics.parsed === 0).length };
    if (this.config.reference !== 'none') {
      out.score_pearson = pearson(
        pairs.map((p) => p.pred),
        pairs.map((p) => p.ref),
      );
      out.score_spearman = spearman(
        pairs.map((p) => p.pred),
        pairs.map((p) => p.ref),
      );
      out.n_correlated = pairs.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Stage 1 of the critic mode: a student model answers with an explanation

/** OUR student prompt (DSCB's student prompts were not readable here). */
export function studentPrompt(question: string): string {
  return (
    'Answer the following multiple-choice question. First explain your reasoning step by step, ' +
    'then give your answer on the last line as "Answer: (X)" where X is the letter of the option.\n\n' +
    `Question: ${question}\n`
  );
}

/** The explanation (text before the last "Answer:") and the answer letter, or null when there is no answer. */
export function parseStudentOutput(text: string): { explanation: string; answer: string | null } {
  const re = /answer\s*(?:is)?\s*:?\s*\(?([A-Z])\)?(?![A-Za-z])/gi;
  let last: RegExpExecArray | null = null;
  for (const m of text.matchAll(re)) last = m as RegExpExecArray;
  if (!last) return { explanation: text.trim(), answer: null };
  return { explanation: text.slice(0, last.index).trim(), answer: last[1].toUpperCase() };
}

type StudentDoc = chatGen.GenDoc<{ qid: string; question: string; gold_answer: string }>;

export class DigitalSocratesStudentTask extends chatGen.ChatGenerationTask<StudentDoc> {
  static create(
    o: { name?: string; split?: string; limit?: number | null; regime?: string } = {},
  ): DigitalSocratesStudentTask {
    return new DigitalSocratesStudentTask(
      chatGen.makeGenerationConfig({
        name: o.name ?? 'digital_socrates_student',
        regime: o.regime ?? 'olmes',
        datasetPath: DSCB_PATH,
        split: o.split ?? 'DSCB-dev-crowd-anno',
        primaryMetric: 'accuracy',
        limit: o.limit ?? null,
        protocol: 'ours (student stage of the critic mode)',
        generationKwargs: { max_gen_toks: 512, do_sample: false, temperature: 0, stop_sequences: [] },
      }),
    );
  }

  async loadDocs(source: DatasetSource): Promise<StudentDoc[]> {
    const split = await source.load({ path: this.config.dataset_path, split: this.config.split });
    const at = rowLocator(split);
    const seen = new Set<string>();
    const docs: StudentDoc[] = [];
    split.rows.forEach((r, i) => {
      const where = at(i);
      const question = str(r, 'question', where);
      const gold = str(r, 'gold_answer', where).trim();
      const qid = optStr(r, 'qid') ?? question;
      if (seen.has(qid)) return;
      seen.add(qid);
      docs.push({
        index: docs.length,
        native_id: qid,
        query: question,
        choices: [],
        gold: 0,
        extra: { qid, question, gold_answer: gold },
      });
    });
    return docs;
  }

  requests(doc: StudentDoc): chatGen.ChatGenerateRequest[] {
    const user = studentPrompt(doc.extra.question);
    return [
      {
        type: 'generate_until',
        context: user,
        messages: [{ role: 'user', content: user }],
        generation_kwargs: this.config.generation_kwargs,
      },
    ];
  }

  score(doc: StudentDoc, outputs: string[]): chatGen.ScoredDoc {
    const s = parseStudentOutput(outputs[0]);
    const correct = s.answer !== null && s.answer === doc.extra.gold_answer.replace(/[()]/g, '').toUpperCase() ? 1 : 0;
    return {
      metrics: { accuracy: correct, answer_parsed: s.answer === null ? 0 : 1 },
      outputs: [
        {
          continuation: outputs[0],
          question: doc.extra.question,
          explanation: s.explanation,
          answer: s.answer,
          gold_answer: doc.extra.gold_answer,
          correct,
        },
      ],
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Registration

const f =
  (o: Omit<DigitalSocratesOptions, 'limit' | 'regime'>): chatGen.GenerationTaskFactory =>
  (args) => {
    const t = DigitalSocratesTask.create({ ...o, regime: args.regime });
    return new DigitalSocratesTask(chatGen.applyArgs(t.config, args));
  };

export const DIGITAL_SOCRATES_TASKS: Record<string, chatGen.GenerationTaskFactory> = {
  digital_socrates: f({ name: 'digital_socrates', split: 'DSCB-dev-crowd-anno', reference: 'human' }),
  digital_socrates_dev: f({ name: 'digital_socrates_dev', split: 'DSCB-dev-non-anno', reference: 'critique' }),
  digital_socrates_expert: f({
    name: 'digital_socrates_expert',
    split: 'DSCB-train-expert',
    reference: 'critique',
    referenceCritic: '*',
  }),
  digital_socrates_student: (args) => {
    const t = DigitalSocratesStudentTask.create({ regime: args.regime });
    return new DigitalSocratesStudentTask(chatGen.applyArgs(t.config, args));
  },
};

/**
 * Tasks made only by the critic mode (pipeline.ts), whose docs come from the student stage: rebuilt from a saved
 * task_config (rescore), by task_name.
 */
export const DIGITAL_SOCRATES_STAGE_TASKS: Record<string, (config: chatGen.GenerationTaskConfig) => Task> = {
  digital_socrates_critic: (config) => new DigitalSocratesTask(config),
};

export const digitalSocratesResolver = chatGen.generationResolver(
  Object.keys(DIGITAL_SOCRATES_TASKS).join(', '),
  DIGITAL_SOCRATES_TASKS,
  DIGITAL_SOCRATES_STAGE_TASKS,
);

export { DS_SYSTEM_PROMPT };
