// Test support for the eval core: self-made rows in the schemas of the real HF datasets, a writer for a local
// HF-layout data folder (Parquet, JSONL, JSON), training rows that satisfy the curated few-shot keys, and a
// deterministic fake backend.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { SHARED_DIR } from '../helpers.ts';
import { OLMES_FEWSHOT_KEYS, type RowKey } from '../../src/eval/data/fewshot-sources.ts';
import { MMLU_SUBJECTS } from '../../src/eval/tasks/mmlu.ts';
import type { Backend } from '../../src/eval/runner/backend.ts';
import type { LoglikelihoodRequest, LoglikelihoodResult, Row } from '../../src/eval/types.ts';

export const FEWSHOT_FIXTURE = join(SHARED_DIR, 'fixtures', 'olmes', 'fewshot_rows.json');
export const FEWSHOT_FIXTURE_ALT = new URL('../../../shared/fixtures/olmes/fewshot_rows.json', import.meta.url)
  .pathname;

export type FileKind = 'parquet' | 'jsonl' | 'json';

export function writeRowsFile(path: string, rows: Row[], kind: FileKind): void {
  mkdirSync(dirname(path), { recursive: true });
  if (kind === 'jsonl') writeFileSync(path, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  else if (kind === 'json') writeFileSync(path, JSON.stringify(rows));
  else {
    const names = Object.keys(rows[0]);
    const columnData = names.map((name) => {
      const data = rows.map((r) => r[name]);
      const type =
        typeof data[0] === 'string'
          ? ('STRING' as const)
          : typeof data[0] === 'number'
            ? ('INT64' as const)
            : undefined;
      return { name, data: type === 'INT64' ? data.map((x) => BigInt(x as number)) : data, ...(type ? { type } : {}) };
    });
    writeFileSync(path, Buffer.from(parquetWriteBuffer({ columnData: columnData as never })));
  }
}

/** Write a split in the HF repository layout: <root>/<path>/<config or data>/<split>-00000-of-00001.<ext>. */
export function writeSplit(
  root: string,
  path: string,
  config: string | undefined,
  split: string,
  rows: Row[],
  kind: FileKind = 'parquet',
): string {
  const file = join(root, path, config ?? 'data', `${split}-00000-of-00001.${kind}`);
  writeRowsFile(file, rows, kind);
  return file;
}

// ---- self-made rows in the real schemas ----

export function arcRow(i: number, answerKey = 'ABCD'[i % 4]): Row {
  return {
    id: `Synth_${i}`,
    question: `Which item number ${i} is a metal?`,
    choices: { text: [`wood ${i}`, `iron ${i}`, `glass ${i}`, `paper ${i}`], label: ['A', 'B', 'C', 'D'] },
    answerKey,
  };
}
export function boolqRow(i: number): Row {
  return {
    question: `is statement ${i} true`,
    passage: `Statement ${i} -- It is true for even numbers.`,
    idx: i,
    label: i % 2,
  };
}
export function csqaRow(i: number): Row {
  return {
    id: `csqa${i}`,
    question: `Where would you find thing ${i}?`,
    question_concept: 'thing',
    choices: { label: ['A', 'B', 'C', 'D', 'E'], text: ['house', 'park', 'shop', 'school', 'river'] },
    answerKey: 'ABCDE'[i % 5],
  };
}
export function hellaswagRow(i: number): Row {
  return {
    ind: i,
    activity_label: 'Cooking',
    ctx_a: `A man cuts vegetable ${i}.`,
    ctx_b: 'he THEN fries them',
    ctx: `A man cuts vegetable ${i}. he THEN fries them`,
    endings: ['in a pan.', 'in the [title] garden.', 'with a  spoon.', 'on a bike.'],
    source_id: `synth~${i}`,
    split: 'val',
    split_type: 'indomain',
    label: String(i % 4),
  };
}
export function mmluRow(i: number, subject: string): Row {
  return {
    question: `${subject} question ${i}?`,
    subject,
    choices: [`a${i}`, `bb${i}`, `ccc${i}`, `dddd${i}`],
    answer: i % 4,
  };
}
export function obqaRow(i: number): Row {
  return {
    id: `7-${i}`,
    question_stem: `The sun number ${i} is a`,
    choices: { text: ['star', 'planet', 'moon', 'comet'], label: ['A', 'B', 'C', 'D'] },
    answerKey: 'ABCD'[i % 4],
  };
}
export function piqaRow(i: number): Row {
  return { goal: `How to open jar ${i}?`, sol1: 'Twist the lid.', sol2: 'Hit it with a hammer.', label: i % 2 };
}
export function siqaRow(i: number): Row {
  return {
    context: `Kai gave Sam gift ${i}.`,
    question: 'How would Sam feel?',
    answerA: 'happy',
    answerB: 'sad',
    answerC: 'angry',
    label: String((i % 3) + 1),
  };
}
export function winograndeRow(i: number): Row {
  return {
    sentence: `The trophy ${i} did not fit in the suitcase because the _ was too big.`,
    option1: 'trophy',
    option2: 'suitcase',
    answer: String((i % 2) + 1),
  };
}

/** A training row satisfying a curated few-shot key, other fields filled in with synthetic text. */
function rowForKey(base: Row, key: RowKey): Row {
  const r: Row = structuredClone(base);
  for (const [f, m] of Object.entries(key)) r[f] = typeof m === 'object' ? `${m.startsWith} _ (synthetic rest).` : m;
  if (typeof r.answerKey === 'string' && /^[1-5]$/.test(r.answerKey) && r.choices) {
    (r.choices as { label: string[] }).label = ['1', '2', '3', '4'];
  }
  return r;
}

/** Train split: decoys plus one row per curated key (shuffled order), so resolution must search. */
export function trainRowsFor(source: string, make: (i: number) => Row): Row[] {
  const keyed = OLMES_FEWSHOT_KEYS[source].map((k, i) => rowForKey(make(100 + i), k));
  const decoys = Array.from({ length: 6 }, (_, i) => make(200 + i));
  return [
    decoys[0],
    keyed[3],
    decoys[1],
    keyed[0],
    keyed[4],
    decoys[2],
    keyed[1],
    decoys[3],
    keyed[2],
    decoys[4],
    decoys[5],
  ];
}

/** A full synthetic data folder for the 9 core tasks and the given MMLU subjects (n eval docs each). */
export function writeSyntheticData(
  root: string,
  n: number,
  subjects: readonly string[] = MMLU_SUBJECTS.slice(0, 2),
): void {
  const range = (f: (i: number) => Row) => Array.from({ length: n }, (_, i) => f(i));
  writeSplit(root, 'allenai/ai2_arc', 'ARC-Easy', 'test', range(arcRow));
  writeSplit(root, 'allenai/ai2_arc', 'ARC-Easy', 'train', trainRowsFor('OLMES:ARC-Easy', arcRow));
  writeSplit(root, 'allenai/ai2_arc', 'ARC-Challenge', 'test', range(arcRow), 'jsonl');
  writeSplit(root, 'allenai/ai2_arc', 'ARC-Challenge', 'train', trainRowsFor('OLMES:ARC-Challenge', arcRow), 'jsonl');
  writeSplit(root, 'aps/super_glue', 'boolq', 'validation', range(boolqRow));
  writeSplit(root, 'aps/super_glue', 'boolq', 'train', trainRowsFor('OLMES:BoolQ', boolqRow));
  writeSplit(root, 'tau/commonsense_qa', undefined, 'validation', range(csqaRow));
  writeSplit(root, 'tau/commonsense_qa', undefined, 'train', trainRowsFor('OLMES:commonsense_qa', csqaRow));
  writeSplit(root, 'allenai/hellaswag', undefined, 'validation', range(hellaswagRow), 'json');
  writeSplit(root, 'allenai/hellaswag', undefined, 'train', trainRowsFor('OLMES:hellaswag', hellaswagRow), 'json');
  writeSplit(root, 'allenai/openbookqa', 'main', 'test', range(obqaRow));
  writeSplit(root, 'allenai/openbookqa', 'main', 'train', trainRowsFor('OLMES:openbookqa', obqaRow));
  writeSplit(root, 'ybisk/piqa', undefined, 'validation', range(piqaRow));
  writeSplit(root, 'ybisk/piqa', undefined, 'train', trainRowsFor('OLMES:piqa', piqaRow));
  writeSplit(root, 'allenai/social_i_qa', undefined, 'validation', range(siqaRow));
  writeSplit(root, 'allenai/social_i_qa', undefined, 'train', trainRowsFor('OLMES:social_i_qa', siqaRow));
  writeSplit(root, 'allenai/winogrande', 'winogrande_xl', 'validation', range(winograndeRow));
  writeSplit(root, 'allenai/winogrande', 'winogrande_xl', 'train', trainRowsFor('OLMES:winogrande', winograndeRow));
  for (const s of subjects) {
    writeSplit(
      root,
      'cais/mmlu',
      s,
      'test',
      range((i) => mmluRow(i, s)),
    );
    writeSplit(
      root,
      'cais/mmlu',
      s,
      'dev',
      Array.from({ length: 5 }, (_, i) => mmluRow(50 + i, s)),
    );
  }
}

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A deterministic fake model: the log-prob depends on the continuation length and a hash of the pair. */
export function fakeLoglikelihood(r: LoglikelihoodRequest): LoglikelihoodResult {
  const logprob = -(r.continuation.length * 0.25) - (fnv(r.context + '\u0000' + r.continuation) % 1000) / 250;
  const numTokens = Math.max(1, r.continuation.trim().split(/\s+/).length);
  return { logprob, isGreedy: logprob > -1, numTokens };
}

export class FakeBackend implements Backend {
  readonly name = 'fake-length-model';
  readonly maxLength = 2048;
  calls = 0;
  requests = 0;
  /** throw after this many successful batches (simulated interruption) */
  failAfterBatches = Infinity;
  delayMs = 0;
  async loglikelihood(requests: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    if (this.calls >= this.failAfterBatches) throw new Error('simulated interruption');
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    this.calls++;
    this.requests += requests.length;
    return requests.map(fakeLoglikelihood);
  }
  async loglikelihoodRolling(): Promise<never> {
    throw new Error('FakeBackend: loglikelihood_rolling not used by these tasks');
  }
  async generateUntil(): Promise<never> {
    throw new Error('FakeBackend: generate_until not used by these tasks');
  }
}
