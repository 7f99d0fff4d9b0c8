// SimpleToM as tasks of the OLMES runner. One doc per question; per-doc metrics carry the scenario and severity
// breakdowns as extra keys (`acc:scenario=<name>`, `acc:severity=sev1`), which the runner's mean-over-docs turns into
// per-group accuracies. Protocols:
//   original        the OLMES port: its template, chat, greedy, 50 tokens, exact_match / exact_match_flex
//   paper           the paper's prompt and parsing, no CoT (20 tokens); also acc_strict (our stricter parsing)
//   paper-cot       the paper's CoT prompt (500 tokens), parsing after the last "the answer is"
//   paper-msr[-cot] the mental-state reminder with the model's OWN earlier answer (two passes, see below)
//   paper-msr-gold  the reminder with the gold mental-state answer (what the released code's answerKey field does)
//   :mc / :rc       OLMES multiple-choice scoring by log-likelihood (letters / answer texts); ours, 0-shot
//
// Two passes inside one runner pass: the reminder's only model-dependent part is the letter the model gave to the
// mental-state question, which is A or B. So a doc asks (0) the mental-state question, exactly as the plain task asks
// it (the request cache shares it), and (1, 2) the behavior/judgment question with the reminder "Answer: (A)" and
// "Answer: (B)". Scoring reads pass 1's answer with the paper's parser and keeps the branch the model chose: the
// result is what a sequential two-pass run gives, at the price of one unused branch. When pass 1 has no valid
// letter there is no answer to feed back; the item counts as wrong and `ms_unparsed` says how often that happened.
import { describeRef, type DatasetSource } from '../../data/source.ts';
import { byteCount } from '../../metrics.ts';
import { selectInstances } from '../../selection.ts';
import { MultipleChoiceTask, type McTaskFamily } from '../../kinds/multiple-choice.ts';
import { copyWithConfig, type DocPrediction, type ModelOutput, type Task, type TaskConfig } from '../../task.ts';
import type { Doc, DocRequests, DocResults, GenerateUntilRequest, McDoc, RequestInstance } from '../../types.ts';
import {
  CONFIG_QTYPE,
  loadSimpleToM,
  SIMPLETOM_PATH,
  SIMPLETOM_SPLIT,
  type SimpleToMItem,
  type SimpleToMQaConfig,
} from './data.ts';
import { olmesExtract, processAnswer, strictAnswer } from './parse.ts';
import type { ChatMessage } from '../../../tokenizers/index.ts';
import { chatMessages, olmesPrompt, questionPrompt } from './prompts.ts';

export type SimpleToMProtocol =
  'original' | 'paper' | 'paper-cot' | 'paper-msr' | 'paper-msr-cot' | 'paper-msr-gold' | 'paper-msr-gold-cot';
export const SIMPLETOM_PROTOCOLS: readonly SimpleToMProtocol[] = [
  'original',
  'paper',
  'paper-cot',
  'paper-msr',
  'paper-msr-cot',
  'paper-msr-gold',
  'paper-msr-gold-cot',
];

/** A generate_until request that also carries the chat messages (oe-eval's chat-format context). */
export interface ChatGenerateRequest extends GenerateUntilRequest {
  messages: ChatMessage[];
}

export interface ProtocolSpec {
  cot: boolean;
  reminder: 'none' | 'own' | 'gold';
  olmes: boolean;
}

export function protocolSpec(p: SimpleToMProtocol): ProtocolSpec {
  return {
    cot: p.endsWith('-cot'),
    reminder: p.startsWith('paper-msr-gold') ? 'gold' : p.startsWith('paper-msr') ? 'own' : 'none',
    olmes: p === 'original',
  };
}

/** Breakdown keys: metric, metric:scenario=…, metric:severity=…. */
export function withBreakdowns(
  metrics: Record<string, number>,
  names: readonly string[],
  item: Pick<SimpleToMItem, 'scenario' | 'severity'>,
): Record<string, number> {
  const out = { ...metrics };
  for (const n of names) {
    out[`${n}:scenario=${item.scenario}`] = metrics[n];
    out[`${n}:severity=${item.severity}`] = metrics[n];
  }
  return out;
}

export function generationKwargs(spec: ProtocolSpec): GenerateUntilRequest['generation_kwargs'] {
  return { max_gen_toks: spec.olmes ? 50 : spec.cot ? 500 : 20, do_sample: false, temperature: 0, stop_sequences: [] };
}

function genOutput(text: string, extra: Record<string, unknown>): ModelOutput {
  // generation records: the text and its parse (sum_logits etc. do not apply)
  return { continuation: text, num_chars: text.length, num_bytes: byteCount(text), ...extra };
}

/** What a SimpleToM doc keeps in `extra` for scoring (and rescore): its item, and the story's mental-state item. */
type SimpleToMExtra = {
  item: SimpleToMItem;
  ms?: SimpleToMItem;
};

function savedExtra(alias: string, doc: Doc, i: number): SimpleToMExtra {
  const e = doc.extra as Partial<SimpleToMExtra> | undefined;
  if (!e || typeof e.item !== 'object' || e.item === null)
    throw new Error(`${alias} doc ${i}: the saved doc has no SimpleToM item (extra.item); it cannot be scored`);
  return e as SimpleToMExtra;
}

export class SimpleToMGenTask implements Task {
  readonly spec: ProtocolSpec;
  private items = new Map<string, SimpleToMItem>();
  private msItems = new Map<string, SimpleToMItem>();

  constructor(
    readonly qaConfig: SimpleToMQaConfig,
    readonly protocol: SimpleToMProtocol,
    readonly config: TaskConfig,
  ) {
    this.spec = protocolSpec(protocol);
    if (this.spec.reminder !== 'none' && qaConfig === 'mental-state-qa') {
      throw new Error(
        `task ${config.alias}: the mental-state reminder applies to behavior-qa and judgment-qa, not to the mental-state questions`,
      );
    }
  }

  withConfig(config: TaskConfig): this {
    return copyWithConfig(this, config);
  }

  userPrompt(item: SimpleToMItem, reminderAnswer?: string): string {
    if (this.spec.olmes) return olmesPrompt(item);
    const ms = reminderAnswer !== undefined ? this.msFor(item) : undefined;
    return questionPrompt(item, {
      cot: this.spec.cot,
      reminder: ms ? { item: ms, answer: reminderAnswer! } : undefined,
    });
  }

  private msFor(item: SimpleToMItem): SimpleToMItem {
    const ms = this.msItems.get(item.storyId);
    if (!ms) {
      throw new Error(
        `${this.config.alias}: no mental-state question ${item.storyId}_aware in ${describeRef({ path: SIMPLETOM_PATH, name: 'mental-state-qa', split: SIMPLETOM_SPLIT })} for ${item.id}`,
      );
    }
    return ms;
  }

  async loadEvalDocs(source: DatasetSource): Promise<{ docs: Doc[]; total: number }> {
    const items = await loadSimpleToM(source, this.qaConfig);
    if (this.spec.reminder !== 'none') {
      for (const ms of await loadSimpleToM(source, 'mental-state-qa')) this.msItems.set(ms.storyId, ms);
    }
    this.items = new Map(items.map((it) => [it.id, it]));
    const docs: Doc[] = items.map((it, i) => {
      const extra: SimpleToMExtra = { item: it, ...(this.spec.reminder !== 'none' ? { ms: this.msFor(it) } : {}) };
      return {
        index: i,
        native_id: it.id,
        query: this.userPrompt(it, this.spec.reminder === 'gold' ? this.msFor(it).answerKey : undefined),
        choices: it.choices,
        gold: it.gold,
        extra,
      };
    });
    return { docs: selectInstances(docs, this.config.limit, this.config.random_subsample_seed), total: docs.length };
  }

  restoreDocs(docs: readonly Doc[]): void {
    this.items = new Map();
    this.msItems = new Map();
    docs.forEach((d, i) => {
      const e = savedExtra(this.config.alias, d, i);
      this.items.set(e.item.id, e.item);
      if (e.ms) this.msItems.set(e.ms.storyId, e.ms);
    });
  }

  async loadFewshotDocs(): Promise<Doc[]> {
    return [];
  }

  private request(user: string): ChatGenerateRequest {
    return {
      type: 'generate_until',
      context: user,
      generation_kwargs: generationKwargs(this.spec),
      messages: chatMessages(user),
    };
  }

  buildInstances(doc: Doc, docId: number): RequestInstance[] {
    const item = this.items.get(String(doc.native_id));
    if (!item) throw new Error(`${this.config.alias}: doc ${docId} (${doc.native_id}) was not loaded by this task`);
    const mk = (user: string, idx: number): RequestInstance => ({
      request_type: 'generate_until',
      request: this.request(user),
      task_name: this.config.task_name,
      doc_id: docId,
      native_id: doc.native_id,
      idx,
      label: item.answerKey,
      uncond: false,
    });
    if (this.spec.reminder !== 'own') return [mk(doc.query, 0)];
    const ms = this.msFor(item);
    // pass 1: the mental-state question as the plain paper task asks it; pass 2: one branch per possible answer
    return [
      mk(questionPrompt(ms, { cot: this.spec.cot }), 0),
      ...ms.labels.map((l, i) => mk(this.userPrompt(item, l), i + 1)),
    ];
  }

  scoreDoc(doc: Doc, docId: number, instances: DocRequests, results: DocResults): DocPrediction {
    const { native_id: nativeId, gold } = doc;
    const item = this.items.get(String(nativeId));
    if (!item) throw new Error(`${this.config.alias}: doc ${docId} (${nativeId}) was not loaded by this task`);
    const texts = results.map((r, i) => {
      if (typeof r !== 'string')
        throw new Error(`${this.config.alias} doc ${docId}: request ${i} has no generated text`);
      return r;
    });
    const byIdx = new Map(instances.map((inst, i) => [inst.idx, texts[i]]));
    const label = item.answerKey;
    const prediction = (metrics: Record<string, number>, primary: string[], outputs: ModelOutput[]) => ({
      doc_id: docId,
      native_id: nativeId,
      metrics: withBreakdowns(metrics, primary, item),
      model_output: outputs,
      label: gold,
    });
    if (this.spec.olmes) {
      const text = byIdx.get(0)!;
      const e = olmesExtract(text);
      const metrics = { exact_match: e.answer === label ? 1 : 0, exact_match_flex: e.flex === label ? 1 : 0 };
      return prediction(
        metrics,
        ['exact_match'],
        [genOutput(text, { model_answer: e.answer, model_answer_flex: e.flex })],
      );
    }
    const outputs: ModelOutput[] = [];
    let text: string;
    const extra: Record<string, number> = {};
    if (this.spec.reminder === 'own') {
      const ms = this.msFor(item);
      const pass1 = byIdx.get(0)!;
      const p1 = processAnswer(pass1, this.spec.cot);
      outputs.push(
        genOutput(pass1, {
          pass: 1,
          question_id: ms.id,
          predicted: p1.predicted,
          acc: p1.predicted === ms.answerKey ? 1 : 0,
        }),
      );
      extra.ms_acc = p1.predicted === ms.answerKey ? 1 : 0;
      extra.ms_unparsed = p1.valid ? 0 : 1;
      const branch = p1.valid ? ms.labels.indexOf(p1.predicted) : -1;
      if (branch < 0) {
        const metrics = { acc: 0, acc_strict: 0, na_frac: 1, ...extra };
        return prediction(metrics, ['acc', 'acc_strict'], outputs);
      }
      text = byIdx.get(branch + 1)!;
    } else {
      text = byIdx.get(0)!;
    }
    const p = processAnswer(text, this.spec.cot);
    const strict = strictAnswer(text, this.spec.cot, item.choices.length);
    const metrics = {
      acc: p.predicted === label ? 1 : 0,
      acc_strict: strict === label ? 1 : 0,
      na_frac: p.predicted === 'A' || p.predicted === 'B' ? 0 : 1,
      ...extra,
    };
    outputs.push(
      genOutput(text, {
        ...(this.spec.reminder === 'own' ? { pass: 2 } : {}),
        predicted: p.predicted,
        predicted_strict: strict,
        acc: metrics.acc,
      }),
    );
    return prediction(metrics, ['acc', 'acc_strict'], outputs);
  }
}

/** The OLMES MC/RC log-likelihood formats with the scenario and severity breakdowns added to the primary metric. */
export class SimpleToMMcTask extends MultipleChoiceTask {
  private items = new Map<string, SimpleToMItem>();
  constructor(
    family: McTaskFamily,
    config: TaskConfig,
    readonly qaConfig: SimpleToMQaConfig,
  ) {
    super(family, config);
  }
  override async loadEvalDocs(source: DatasetSource): Promise<{ docs: McDoc[]; total: number }> {
    this.items = new Map((await loadSimpleToM(source, this.qaConfig)).map((it) => [it.id, it]));
    const { docs, total } = await super.loadEvalDocs(source);
    // the item rides along in `extra` (not in the requests file), so that rescore has the breakdown keys
    return {
      docs: docs.map((d) => ({ ...d, extra: { ...d.extra, item: this.items.get(String(d.native_id)) } })),
      total,
    };
  }
  override restoreDocs(docs: readonly McDoc[]): void {
    this.items = new Map(docs.map((d, i) => [String(d.native_id), savedExtra(this.config.alias, d, i).item]));
  }
  override scoreDoc(doc: McDoc, docId: number, instances: DocRequests, results: DocResults): DocPrediction {
    const p = super.scoreDoc(doc, docId, instances, results);
    const item = this.items.get(String(doc.native_id));
    if (!item) throw new Error(`${this.config.alias}: doc ${docId} (${doc.native_id}) was not loaded by this task`);
    return { ...p, metrics: withBreakdowns(p.metrics, [this.config.primary_metric], item) };
  }
}

export { CONFIG_QTYPE };
