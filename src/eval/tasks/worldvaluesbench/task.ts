// WorldValuesBench as a task of the OLMES runner. W1 is a per-question statistic over 230 probe rows, so a doc here is
// one value question: its requests are one per probe row (sampling) or one per row and scale point (log-probs), and
// its metrics are that question's W1 and 0/1 threshold indicators; the runner's mean over docs then gives the mean
// W1 and the share of questions within each threshold. Group breakdowns are W1 within each demographic group
// (`w1:continent=Asia`, `w1:urban_rural=Rural`, `w1:education=Tertiary`, `w1:group=Asia/Rural/Tertiary`), averaged
// over the questions.
//
// Protocols (regimes):
//   paper            the paper's prompt with demographics; one sampled answer per probe row (T = 1.0; the paper's
//                    temperature is not published); invalid answers dropped, off-scale ones kept (evaluate.py)
//   paper-nodemo     the same without the demographic block (the paper's plain runs; wording ours)
//   logprob          ours: the model's distribution over the scale points from the log-probabilities of ` k}`
//   logprob-nodemo   the same without demographics
// Every protocol also reports `w1_strict` (ours): invalid and off-scale answers are charged the maximum distance.
import type { DatasetSource } from '../../data/source.ts';
import { selectInstances } from '../../selection.ts';
import { asLoglikelihood } from '../../kinds/multiple-choice.ts';
import { copyWithConfig, type DocPrediction, type ModelOutput, type Task, type TaskConfig } from '../../task.ts';
import type {
  Doc,
  DocRequests,
  DocResults,
  GenerateUntilRequest,
  LoglikelihoodRequest,
  RequestInstance,
} from '../../types.ts';
import {
  demographicKeys,
  findReleaseDir,
  findWvsCsv,
  loadParticipants,
  loadRelease,
  scaleOf,
  WvbDataError,
  type Participant,
  type ProbeRow,
  type WvbRelease,
} from './data.ts';
import {
  coerceScore,
  majorityBaseline,
  questionW1,
  questionW1Strict,
  uniformBaseline,
  W1_CURVE,
  W1_THRESHOLD,
  type Scale,
} from './metric.ts';
import { extractScore, logprobContinuation, logprobPrompt, paperPrompt } from './prompt.ts';

export type WvbProtocol = 'paper' | 'paper-nodemo' | 'logprob' | 'logprob-nodemo';
export const WVB_PROTOCOLS: readonly WvbProtocol[] = ['paper', 'paper-nodemo', 'logprob', 'logprob-nodemo'];

export interface WvbOptions {
  /** which demographic variables the prompt lists: the 3 probe variables, or every demographic variable (default) */
  demographics?: 'probe' | 'all';
  temperature?: number;
  maxGenToks?: number;
}

interface Row extends ProbeRow {
  human: number | null;
  prompt: string;
}

interface QDoc {
  question: string;
  scale: Scale;
  rows: Row[];
}

function seedOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const GROUPS: [string, (r: ProbeRow) => string][] = [
  ['continent', (r) => r.continent],
  ['urban_rural', (r) => r.urbanRural],
  ['education', (r) => r.education],
  ['group', (r) => `${r.continent}/${r.urbanRural}/${r.education}`],
];

/** Per-question metrics from the human answers and the model's answers (samples, or per-row distributions). */
export function questionMetrics(
  rows: readonly ProbeRow[],
  human: readonly (number | null)[],
  scale: Scale,
  model: { kind: 'samples'; answers: readonly (number | null)[] } | { kind: 'dists'; probs: readonly number[][] },
): Record<string, number> {
  const points = Array.from({ length: scale.max - scale.min + 1 }, (_, i) => scale.min + i);
  const w1Of = (idx: number[]): { w1: number; strict: number } | null => {
    const h = idx.map((i) => human[i]).filter((x): x is number => x !== null);
    if (h.length === 0) return null;
    if (model.kind === 'samples') {
      const a = idx.map((i) => model.answers[i]);
      const valid = a.filter((x): x is number => x !== null);
      // no valid answer at all: the paper has nothing to compare; we charge the maximum distance
      const w1 = valid.length ? questionW1(h, valid, scale) : 1;
      return { w1, strict: questionW1Strict(h, a, scale).w1 };
    }
    const weights = points.map((_, k) => idx.reduce((s, i) => s + model.probs[i][k], 0) / idx.length);
    const w1 = questionW1(h, points, scale, weights);
    return { w1, strict: w1 };
  };
  const all = rows.map((_, i) => i);
  const top = w1Of(all);
  if (!top) throw new WvbDataError('no human answers for this question');
  const m: Record<string, number> = { w1: top.w1, w1_strict: top.strict };
  m[`within_${W1_THRESHOLD}_le`] = top.w1 <= W1_THRESHOLD ? 1 : 0;
  m[`within_${W1_THRESHOLD}_lt`] = top.w1 < W1_THRESHOLD ? 1 : 0;
  m[`within_${W1_THRESHOLD}_le_strict`] = top.strict <= W1_THRESHOLD ? 1 : 0;
  m[`within_${W1_THRESHOLD}_lt_strict`] = top.strict < W1_THRESHOLD ? 1 : 0;
  for (const t of W1_CURVE) m[`within_${t.toFixed(2)}_le`] = top.w1 <= t ? 1 : 0;
  if (model.kind === 'samples') {
    const n = model.answers.length;
    m.valid_frac = model.answers.filter((a) => a !== null).length / n;
    m.out_of_range_frac = model.answers.filter((a) => a !== null && (a < scale.min || a > scale.max)).length / n;
  }
  const h = human.filter((x): x is number => x !== null);
  m.w1_uniform_baseline = uniformBaseline(h, scale);
  m.w1_majority_baseline = majorityBaseline(h, scale);
  for (const [name, key] of GROUPS) {
    const by = new Map<string, number[]>();
    rows.forEach((r, i) => by.set(key(r), [...(by.get(key(r)) ?? []), i]));
    for (const [g, idx] of by) {
      const r = w1Of(idx);
      if (!r) continue;
      m[`w1:${name}=${g}`] = r.w1;
      m[`within_${W1_THRESHOLD}_le:${name}=${g}`] = r.w1 <= W1_THRESHOLD ? 1 : 0;
    }
  }
  return m;
}

export function softmax(xs: readonly number[]): number[] {
  const mx = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export class WorldValuesBenchTask implements Task {
  private qdocs = new Map<string, QDoc>();
  readonly demo: boolean;
  readonly logprob: boolean;

  constructor(
    readonly protocol: WvbProtocol,
    readonly config: TaskConfig,
    readonly options: WvbOptions = {},
    /** test hook: the release folder and CSV instead of the source and environment */
    readonly paths: { releaseDir?: string; csv?: string } = {},
  ) {
    this.demo = !protocol.endsWith('-nodemo');
    this.logprob = protocol.startsWith('logprob');
  }

  withConfig(config: TaskConfig): this {
    return copyWithConfig(this, config);
  }

  async loadEvalDocs(source: DatasetSource): Promise<{ docs: Doc[]; total: number }> {
    const release: WvbRelease = loadRelease(this.paths.releaseDir ?? findReleaseDir(source));
    const csv = this.paths.csv ?? findWvsCsv(release.dir);
    const keys = demographicKeys(release.metadata, this.options.demographics ?? 'all');
    const people = await loadParticipants(release, csv, keys);
    const missing = [...new Set(release.probe.map((p) => p.participant))].filter((id) => !people.has(id));
    if (missing.length) {
      throw new WvbDataError(
        `${csv}: ${missing.length} probe participants are not in the WVS CSV (e.g. D_INTERVIEW ${missing.slice(0, 3).join(', ')}); use the Wave 7 cross-national CSV v5.0 or v6.0`,
      );
    }
    const byQ = new Map<string, QDoc>();
    for (const p of release.probe) {
      const person = people.get(p.participant) as Participant;
      const q = release.metadata[p.question].question;
      const demos = this.demo ? person.demographics : null;
      const prompt = this.logprob ? logprobPrompt(demos, q) : paperPrompt(demos, q);
      const d = byQ.get(p.question) ?? { question: p.question, scale: scaleOf(release.metadata, p.question), rows: [] };
      d.rows.push({ ...p, human: person.values[p.question], prompt });
      byQ.set(p.question, d);
    }
    this.qdocs = byQ;
    const docs: Doc[] = [...byQ.values()].map((d, i) => ({
      index: i,
      native_id: d.question,
      query: release.metadata[d.question].question,
      choices: Array.from({ length: d.scale.max - d.scale.min + 1 }, (_, k) => String(d.scale.min + k)),
      gold: 0,
      // what scoring reads, kept for rescore: the scale and the probe rows with their human answers (the rows'
      // answers come from the user's WVS CSV: a run's predictions file holds them, so do not publish it)
      extra: { scale: d.scale, rows: d.rows.map(({ prompt: _prompt, ...r }) => r) },
    }));
    return { docs: selectInstances(docs, this.config.limit, this.config.random_subsample_seed), total: docs.length };
  }

  async loadFewshotDocs(): Promise<Doc[]> {
    return [];
  }

  restoreDocs(docs: readonly Doc[]): void {
    this.qdocs = new Map(
      docs.map((doc, i) => {
        const e = doc.extra as { scale?: Scale; rows?: Omit<Row, 'prompt'>[] } | undefined;
        if (!e?.scale || !Array.isArray(e.rows))
          throw new Error(
            `${this.config.alias} doc ${i}: the saved doc has no scale and probe rows (extra); it cannot be scored`,
          );
        return [
          String(doc.native_id),
          { question: String(doc.native_id), scale: e.scale, rows: e.rows.map((r) => ({ ...r, prompt: '' })) },
        ];
      }),
    );
  }

  private qdoc(id: string | number): QDoc {
    const d = this.qdocs.get(String(id));
    if (!d) throw new Error(`${this.config.alias}: question ${id} was not loaded by this task`);
    return d;
  }

  buildInstances(doc: Doc, docId: number): RequestInstance[] {
    const d = this.qdoc(doc.native_id);
    const base = { task_name: this.config.task_name, doc_id: docId, native_id: doc.native_id, uncond: false };
    if (this.logprob) {
      const k = d.scale.max - d.scale.min + 1;
      return d.rows.flatMap((r, i) =>
        Array.from({ length: k }, (_, j): RequestInstance => {
          const request: LoglikelihoodRequest = {
            type: 'loglikelihood',
            context: r.prompt,
            continuation: logprobContinuation(d.scale.min + j),
          };
          return { ...base, request_type: 'loglikelihood', request, idx: i * k + j, label: r.participant };
        }),
      );
    }
    return d.rows.map((r, i): RequestInstance => {
      const request: GenerateUntilRequest & { messages: { role: 'user'; content: string }[] } = {
        type: 'generate_until',
        context: r.prompt,
        generation_kwargs: {
          max_gen_toks: this.options.maxGenToks ?? 256,
          do_sample: true,
          temperature: this.options.temperature ?? 1.0,
          top_p: 1.0,
          stop_sequences: [],
          // one sample per probe row: the seed also keeps identical prompts (no demographics) distinct in the cache
          seed: seedOf(`${d.question}:${r.participant}:${i}`),
        },
        messages: [{ role: 'user', content: r.prompt }],
      };
      return { ...base, request_type: 'generate_until', request, idx: i, label: r.participant };
    });
  }

  scoreDoc(doc: Doc, docId: number, instances: DocRequests, results: DocResults): DocPrediction {
    const { native_id: nativeId, gold } = doc;
    const d = this.qdoc(nativeId);
    const where = `${this.config.alias} question ${nativeId}`;
    const byIdx = new Map(instances.map((inst, i) => [inst.idx, results[i]]));
    const human = d.rows.map((r) => r.human);
    const rowOut = (r: Row, extra: Record<string, unknown>): ModelOutput => ({
      participant: r.participant,
      continent: r.continent,
      urban_rural: r.urbanRural,
      education: r.education,
      ...extra,
    });
    if (this.logprob) {
      const k = d.scale.max - d.scale.min + 1;
      const lp = (i: number, j: number) => {
        const r = byIdx.get(i * k + j);
        if (r === undefined) throw new Error(`${where}: no result for row ${i}, scale point ${d.scale.min + j}`);
        return asLoglikelihood(r, `${where} row ${i}`).logprob;
      };
      const probs = d.rows.map((_, i) => softmax(Array.from({ length: k }, (_, j) => lp(i, j))));
      const metrics = questionMetrics(d.rows, human, d.scale, { kind: 'dists', probs });
      const expected = (p: number[]) => p.reduce((s, x, j) => s + x * (d.scale.min + j), 0);
      return {
        doc_id: docId,
        native_id: nativeId,
        metrics,
        model_output: d.rows.map((r, i) => rowOut(r, { probs: probs[i], expected_score: expected(probs[i]) })),
        label: gold,
      };
    }
    const texts = d.rows.map((_, i) => {
      const t = byIdx.get(i);
      if (typeof t !== 'string') throw new Error(`${where}: row ${i} has no generated text`);
      return t;
    });
    const raw = texts.map(extractScore);
    const answers = raw.map((s) => (s === null ? null : coerceScore(s)));
    const metrics = questionMetrics(d.rows, human, d.scale, { kind: 'samples', answers });
    return {
      doc_id: docId,
      native_id: nativeId,
      metrics,
      model_output: d.rows.map((r, i) => rowOut(r, { continuation: texts[i], SCORE: raw[i] ?? '', score: answers[i] })),
      label: gold,
    };
  }
}

/** The official evaluate.py input (QUESTION_ID, PARTICIPANT_ID, SCORE) from a sampled run's predictions. */
export function officialTsv(predictions: readonly { native_id: string | number; model_output: unknown[] }[]): string {
  const lines = ['QUESTION_ID\tPARTICIPANT_ID\tSCORE'];
  for (const p of predictions) {
    for (const o of p.model_output as { participant: string; SCORE?: string }[])
      lines.push(`${p.native_id}\t${o.participant}\t${o.SCORE ?? ''}`);
  }
  return lines.join('\n') + '\n';
}
