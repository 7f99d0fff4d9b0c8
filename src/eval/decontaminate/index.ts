// Tülu 3 decontamination (Lambert et al., the Tülu 3 paper, https://arxiv.org/abs/2411.15124; open-instruct
// decontamination/search.py, https://github.com/allenai/open-instruct): 8-gram overlap between
// evaluation prompts and training prompts.
//
// - Training side: each JSONL line is a document; its units are the `text` field, or the user turns of an
//   open-instruct `messages` list (only prompts are compared, as `--query_filter role:user` indexes them, one unit
//   per message). Files are streamed line by line.
// - Eval side: the fields search.py queries (GSM8K question, DROP passage + question, …) of every row of the eval
//   split, held as a hashed set of token 8-grams with their positions.
// - Score of an eval item against a training unit d: per field, the share of the field's tokens covered by an
//   8-gram that also occurs in d; averaged over the item's fields. An item overlaps d when the score is > threshold
//   (0.5: "more than 50% of its tokens match the same training instance"). A training document is flagged when
//   any of its units overlaps any eval item; the filtered copy drops exactly the flagged documents.
// - A training file is contaminated for an eval set when more than 2% of the set's items overlap it.
//
// Tokens: NFKC, lower-case, maximal runs of letters, digits and marks (punctuation and symbols dropped) — close to
// what Elasticsearch's standard analyzer does to the indexed text and to each match_phrase query. open-instruct
// tokenises eval text with spaCy en_core_web_lg, whose punctuation tokens count towards n-grams and lengths there;
// this is the documented deviation (no spaCy in TypeScript).
import { writeTextAtomically } from '../../io/atomic.ts';
import { createReadStream, createWriteStream, fsyncSync, openSync, closeSync, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DatasetSource } from '../data/source.ts';
import { planTasks } from '../registry.ts';

export const DEFAULT_NGRAM = 8;
/** Tülu 3: an eval instance overlaps a training instance when more than 50% of its tokens match it. */
export const DEFAULT_MATCH_THRESHOLD = 0.5;
/** Tülu 3: a training dataset is contaminated when it overlaps more than 2% of an eval set's instances. */
export const DEFAULT_DATASET_THRESHOLD = 0.02;

/** Eval text fields per task (open-instruct search.py where it lists the task; the main prompt fields otherwise). */
export const EVAL_FIELDS: Record<string, string[]> = {
  gsm8k: ['question'],
  drop: ['passage', 'question'],
  naturalqs_open: ['question'],
  triviaqa: ['question'],
  arc_easy: ['question'],
  arc_challenge: ['question'],
  boolq: ['passage', 'question'],
  csqa: ['question'],
  hellaswag: ['ctx'],
  openbookqa: ['question_stem'],
  piqa: ['goal'],
  socialiqa: ['context', 'question'],
  winogrande: ['sentence'],
};

function evalFieldsFor(taskName: string): string[] | undefined {
  return EVAL_FIELDS[taskName] ?? (taskName.startsWith('mmlu_') ? ['question'] : undefined);
}

/** One evaluation item: the texts of its fields (a field that is absent in the row is left out, as search.py skips it). */
export interface EvalText {
  /** eval set, e.g. "gsm8k" */
  set: string;
  /** native id or row index */
  id: string | number;
  fields: string[];
}

export class DecontaminationError extends Error {
  override name = 'DecontaminationError';
}

const TOKEN = /[\p{L}\p{N}\p{M}]+/gu;

/** The normalised tokens n-grams are made of. */
export function decontaminationTokens(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(TOKEN) ?? [];
}

/** The eval items of task ids: every row of each distinct eval split (not the OLMES sample), with the task's fields. */
export async function loadTaskEvalTexts(taskIds: readonly string[], source: DatasetSource): Promise<EvalText[]> {
  const plan = planTasks(taskIds);
  const seen = new Set<string>();
  const out: EvalText[] = [];
  for (const task of plan.tasks) {
    const c = task.config;
    const key = JSON.stringify([c.dataset_path, c.dataset_name, c.split]);
    if (seen.has(key)) continue;
    seen.add(key);
    const fields = evalFieldsFor(c.task_name);
    if (!fields)
      throw new DecontaminationError(
        `task ${c.alias}: no eval text fields are known for ${c.task_name}; known: ${Object.keys(EVAL_FIELDS).join(', ')}, mmlu_<subject>`,
      );
    const { rows } = await source.load({ path: c.dataset_path, name: c.dataset_name ?? undefined, split: c.split });
    rows.forEach((row, i) => {
      const texts: string[] = [];
      for (const f of fields) {
        const v = row[f];
        if (v === undefined || v === null) return; // search.py skips items with a missing field
        if (typeof v !== 'string')
          throw new DecontaminationError(
            `${c.dataset_path} split ${c.split} row ${i}: field "${f}" must be a string, got ${typeof v}`,
          );
        texts.push(v);
      }
      const nid = c.native_id_field ? row[c.native_id_field] : undefined;
      out.push({ set: c.task_name, id: typeof nid === 'string' || typeof nid === 'number' ? nid : i, fields: texts });
    });
  }
  return out;
}

/** A training unit that overlaps an eval item. */
export interface TrainMatch {
  file: string;
  /** 1-based line of the document in its file */
  line: number;
  /** which user turn (0-based) of a messages document; 0 for `text` */
  unit: number;
  score: number;
}

export interface FlaggedItem {
  set: string;
  id: string | number;
  /** the best score over all training units */
  score: number;
  best: TrainMatch;
  /** every training unit whose score is above the threshold */
  matches: TrainMatch[];
}

export interface EvalSetSummary {
  set: string;
  instances: number;
  flagged: number;
  fraction: number;
}

export interface TrainFileSummary {
  file: string;
  documents: number;
  units: number;
  flaggedDocuments: number;
  /** per eval set: items overlapping this file, their share, and whether that share exceeds the dataset threshold */
  perEvalSet: Record<string, { flagged: number; fraction: number; contaminated: boolean }>;
  contaminated: boolean;
}

export interface DecontaminationReport {
  n: number;
  threshold: number;
  datasetThreshold: number;
  tokenizer: string;
  evalSets: EvalSetSummary[];
  trainFiles: TrainFileSummary[];
  flaggedItems: FlaggedItem[];
  /** flagged training documents, with the eval items they overlap */
  flaggedDocuments: { file: string; line: number; items: { set: string; id: string | number; score: number }[] }[];
  /** where the filtered copy was written, and how many documents it kept */
  filtered?: { path: string; kept: number; dropped: number };
}

export interface DecontaminateOptions {
  trainFiles: readonly string[];
  /** task ids whose eval splits are checked (needs `source`) */
  tasks?: readonly string[];
  source?: DatasetSource;
  /** eval items given directly (with or instead of tasks) */
  evalTexts?: readonly EvalText[];
  n?: number;
  threshold?: number;
  datasetThreshold?: number;
  /** write the training documents that are not flagged here (JSONL, all train files in order; atomic) */
  out?: string;
  onProgress?: (p: { file: string; documents: number }) => void;
}

/** The eval side: token ids per field and a hashed n-gram index with positions. */
class EvalIndex {
  readonly vocab = new Map<string, number>();
  readonly fields: { item: number; ids: Int32Array }[] = [];
  readonly itemFields: number[][] = [];
  /** n-gram hash → flat [field, start, field, start, …] */
  readonly postings = new Map<number, number[]>();

  constructor(
    readonly items: readonly EvalText[],
    readonly n: number,
  ) {
    items.forEach((it, i) => {
      const fs: number[] = [];
      for (const text of it.fields) {
        const toks = decontaminationTokens(text);
        const ids = new Int32Array(toks.length);
        toks.forEach((t, j) => {
          let id = this.vocab.get(t);
          if (id === undefined) this.vocab.set(t, (id = this.vocab.size));
          ids[j] = id;
        });
        const f = this.fields.length;
        this.fields.push({ item: i, ids });
        fs.push(f);
        for (let s = 0; s + n <= ids.length; s++) {
          const h = hashIds(ids, s, n);
          const list = this.postings.get(h);
          if (list) list.push(f, s);
          else this.postings.set(h, [f, s]);
        }
      }
      this.itemFields.push(fs);
    });
  }

  idsOf(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    tokens.forEach((t, i) => (out[i] = this.vocab.get(t) ?? -1));
    return out;
  }
}

/** A 52-bit hash of ids[s..s+n) from two independent 32-bit mixes; hits are verified token by token. */
function hashIds(ids: Int32Array, s: number, n: number): number {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = s; i < s + n; i++) {
    a = Math.imul(a ^ ids[i], 0x01000193);
    b = Math.imul(b ^ (ids[i] + 0x7f4a7c15), 0x85ebca6b);
    b ^= b >>> 13;
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) >>> 12);
}

function sameIds(a: Int32Array, as: number, b: Int32Array, bs: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}

/** Per eval item, its score against one training unit (only items with some overlap are returned). */
function scoreUnit(index: EvalIndex, text: string): Map<number, number> {
  const n = index.n;
  const ids = index.idsOf(decontaminationTokens(text));
  const covered = new Map<number, Uint8Array>();
  let run = 0;
  for (let j = 0; j < ids.length; j++) {
    run = ids[j] < 0 ? 0 : run + 1;
    if (run < n) continue;
    const s = j - n + 1;
    const list = index.postings.get(hashIds(ids, s, n));
    if (!list) continue;
    for (let k = 0; k < list.length; k += 2) {
      const f = list[k];
      const fs = list[k + 1];
      const fids = index.fields[f].ids;
      if (!sameIds(ids, s, fids, fs, n)) continue;
      let cov = covered.get(f);
      if (!cov) covered.set(f, (cov = new Uint8Array(fids.length)));
      cov.fill(1, fs, fs + n);
    }
  }
  const byItem = new Map<number, number>();
  for (const f of covered.keys()) {
    const item = index.fields[f].item;
    if (byItem.has(item)) continue;
    let sum = 0;
    for (const g of index.itemFields[item]) {
      const c = covered.get(g);
      if (!c) continue;
      let k = 0;
      for (const x of c) k += x;
      sum += k / c.length;
    }
    byItem.set(item, sum / index.itemFields[item].length);
  }
  return byItem;
}

/** The prompt units of one training document: `text`, or the user turns of `messages`. */
export function documentUnits(doc: unknown, where: string): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new DecontaminationError(`${where}: expected a JSON object with "text" or "messages"`);
  const o = doc as Record<string, unknown>;
  if (Array.isArray(o.messages)) {
    const out: string[] = [];
    o.messages.forEach((m, i) => {
      if (m === null || typeof m !== 'object')
        throw new DecontaminationError(`${where}: messages[${i}] must be an object with role and content`);
      const msg = m as Record<string, unknown>;
      if (msg.role !== 'user') return;
      const c = msg.content;
      if (typeof c === 'string') out.push(c);
      else if (Array.isArray(c))
        out.push(
          c
            .map((p) =>
              p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string'
                ? (p as { text: string }).text
                : '',
            )
            .join('\n'),
        );
      else
        throw new DecontaminationError(
          `${where}: messages[${i}].content must be a string or a list of text parts, got ${c === undefined ? 'nothing' : typeof c}`,
        );
    });
    return out;
  }
  if (typeof o.text === 'string') return [o.text];
  throw new DecontaminationError(
    `${where}: expected a "text" string or an open-instruct "messages" list, found fields ${Object.keys(o).join(', ') || '(none)'}`,
  );
}

class AtomicLineWriter {
  private readonly tmp: string;
  private readonly stream;
  constructor(readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.stream = createWriteStream(this.tmp);
  }
  async write(line: string): Promise<void> {
    if (!this.stream.write(line + '\n')) await new Promise<void>((r) => this.stream.once('drain', () => r()));
  }
  async commit(): Promise<void> {
    await new Promise<void>((res, rej) => this.stream.end((err?: Error | null) => (err ? rej(err) : res())));
    const fd = openSync(this.tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(this.tmp, this.path);
  }
  async abort(): Promise<void> {
    await new Promise<void>((res) => this.stream.end(() => res()));
    rmSync(this.tmp, { force: true });
  }
}

/** Per eval set, the share of its items that one training file overlaps, and whether that passes the threshold. */
function summarizeEvalSets(
  summary: TrainFileSummary,
  items: readonly EvalText[],
  overlapping: ReadonlySet<number>,
  datasetThreshold: number,
): void {
  const sets = new Map<string, number>();
  for (const it of items) sets.set(it.set, (sets.get(it.set) ?? 0) + 1);
  for (const [set, total] of sets) {
    let flagged = 0;
    for (const i of overlapping) if (items[i].set === set) flagged++;
    const fraction = flagged / total;
    summary.perEvalSet[set] = { flagged, fraction, contaminated: fraction > datasetThreshold };
    if (fraction > datasetThreshold) summary.contaminated = true;
  }
}

/** The flagged items in index order with their best and all matches, and each eval set's flagged share. */
function flaggedEvalItems(
  items: readonly EvalText[],
  matches: ReadonlyMap<number, TrainMatch[]>,
  best: ReadonlyMap<number, TrainMatch>,
): { evalSets: EvalSetSummary[]; flaggedItems: FlaggedItem[] } {
  const evalSets = new Map<string, EvalSetSummary>();
  items.forEach((it) => {
    const s = evalSets.get(it.set) ?? { set: it.set, instances: 0, flagged: 0, fraction: 0 };
    s.instances++;
    evalSets.set(it.set, s);
  });
  const flaggedItems: FlaggedItem[] = [];
  for (const [i, ms] of [...matches].sort((a, b) => a[0] - b[0])) {
    evalSets.get(items[i].set)!.flagged++;
    flaggedItems.push({
      set: items[i].set,
      id: items[i].id,
      score: best.get(i)!.score,
      best: best.get(i)!,
      matches: ms,
    });
  }
  for (const s of evalSets.values()) s.fraction = s.flagged / s.instances;
  return { evalSets: [...evalSets.values()], flaggedItems };
}

/** Find eval items whose prompts overlap training prompts, report them, and optionally write a filtered copy. */
export async function decontaminate(opts: DecontaminateOptions): Promise<DecontaminationReport> {
  const n = opts.n ?? DEFAULT_NGRAM;
  const threshold = opts.threshold ?? DEFAULT_MATCH_THRESHOLD;
  const datasetThreshold = opts.datasetThreshold ?? DEFAULT_DATASET_THRESHOLD;
  if (!Number.isInteger(n) || n < 1) throw new DecontaminationError(`n must be a positive integer, got ${n}`);
  if (!(threshold >= 0 && threshold < 1))
    throw new DecontaminationError(`threshold must be in [0, 1), got ${threshold}`);
  if (opts.trainFiles.length === 0) throw new DecontaminationError('no training files given');
  const items: EvalText[] = [...(opts.evalTexts ?? [])];
  if (opts.tasks && opts.tasks.length > 0) {
    if (!opts.source) throw new DecontaminationError('tasks were given without a dataset source');
    items.push(...(await loadTaskEvalTexts(opts.tasks, opts.source)));
  }
  if (items.length === 0) throw new DecontaminationError('no eval items to check (give tasks or evalTexts)');
  const index = new EvalIndex(items, n);

  const best = new Map<number, TrainMatch>();
  const matches = new Map<number, TrainMatch[]>();
  const flaggedDocs: DecontaminationReport['flaggedDocuments'] = [];
  const files: TrainFileSummary[] = [];
  const writer = opts.out ? new AtomicLineWriter(opts.out) : null;
  let kept = 0;
  let dropped = 0;
  try {
    for (const file of opts.trainFiles) {
      const summary: TrainFileSummary = {
        file,
        documents: 0,
        units: 0,
        flaggedDocuments: 0,
        perEvalSet: {},
        contaminated: false,
      };
      const overlapping = new Set<number>();
      const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      let lineNo = 0;
      try {
        for await (const raw of rl) {
          lineNo++;
          if (raw.trim() === '') continue;
          const where = `${file}:${lineNo}`;
          let doc: unknown;
          try {
            doc = JSON.parse(raw);
          } catch (e) {
            throw new DecontaminationError(`${where}: malformed JSON (${(e as Error).message})`, { cause: e });
          }
          const units = documentUnits(doc, where);
          summary.documents++;
          summary.units += units.length;
          const docItems = new Map<number, number>();
          units.forEach((u, ui) => {
            for (const [item, score] of scoreUnit(index, u)) {
              const m: TrainMatch = { file, line: lineNo, unit: ui, score };
              const b = best.get(item);
              if (!b || score > b.score) best.set(item, m);
              if (score > threshold) {
                (matches.get(item) ?? matches.set(item, []).get(item)!).push(m);
                overlapping.add(item);
                docItems.set(item, Math.max(docItems.get(item) ?? 0, score));
              }
            }
          });
          if (docItems.size > 0) {
            summary.flaggedDocuments++;
            dropped++;
            flaggedDocs.push({
              file,
              line: lineNo,
              items: [...docItems].map(([i, score]) => ({ set: items[i].set, id: items[i].id, score })),
            });
          } else if (writer) {
            kept++;
            await writer.write(raw);
          } else kept++;
          if (summary.documents % 10000 === 0) opts.onProgress?.({ file, documents: summary.documents });
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT')
          throw new DecontaminationError(`training file ${file} does not exist`);
        throw e;
      } finally {
        rl.close();
      }
      opts.onProgress?.({ file, documents: summary.documents });
      summarizeEvalSets(summary, items, overlapping, datasetThreshold);
      files.push(summary);
    }
    if (writer) await writer.commit();
  } catch (e) {
    await writer?.abort();
    throw e;
  }

  const { evalSets, flaggedItems } = flaggedEvalItems(items, matches, best);
  return {
    n,
    threshold,
    datasetThreshold,
    tokenizer: 'NFKC, lower-case, runs of letters/digits/marks (spaCy en_core_web_lg in open-instruct)',
    evalSets,
    trainFiles: files,
    flaggedItems,
    flaggedDocuments: flaggedDocs,
    ...(opts.out ? { filtered: { path: opts.out, kept, dropped } } : {}),
  };
}

/** Write a report as JSON, atomically. */
export function writeDecontaminationReport(path: string, report: DecontaminationReport): void {
  writeTextAtomically(path, JSON.stringify(report, null, 2) + '\n');
}
