// drop::olmes (olmes oe_eval/tasks/oe_eval_tasks/drop.py, https://github.com/allenai/olmes, after lm-eval's DROP
// task): EleutherAI/drop validation, 1000 docs sampled with
// random.Random(1234), 5-shot OLMES:drop (curated train rows, resolved by query_id), the OLMES description, then
// "Passage: {passage}\nQuestion: {question}\nAnswer:" with target " " + ", ".join(answers[0]); greedy, max 100
// tokens, stop "Passage:", "Question:", "\n\n". Metric: the official DROP F1 (drop-metric.ts), max over the gold
// answers (the `answer` field first, then the validated answers, duplicates removed).
import { fieldStr, RowError } from '../data/fields.ts';
import type { RowKey } from '../data/fewshot-sources.ts';
import { dropMetrics } from '../drop-metric.ts';
import type { Doc, Row } from '../types.ts';
import { generativeDoc, type GenerativeSpec } from '../kinds/olmes-generative.ts';

export const DROP_DESCRIPTION =
  'The following are reading comprehension questions, where the answer to each question is either a segment of text from the corresponding passage, a number, or a date (containing any of the date, month, and/or year components). Some questions may require you to pull together information pieces from the passage and reason over them.\n\n';

/** The first 5 of olmes FEWSHOT_SOURCES["OLMES:drop"] (train rows), by query_id and section_id. */
export const OLMES_DROP_KEYS: RowKey[] = [
  { query_id: 'c9582e03-b01b-42ed-83e0-b90a5334aefa', section_id: 'nfl_2201' },
  { query_id: 'a849cb71-b6da-4c1a-9791-b962c9ff2d65', section_id: 'nfl_1491' },
  { query_id: '3637ce9d-203d-49e0-a454-b8a49e376148', section_id: 'history_269' },
  { query_id: 'c420c10d-1384-47f1-9850-ec9269570ca8', section_id: 'history_690' },
  { query_id: 'c312a5d0-5318-4bbb-806e-22333f00e990', section_id: 'history_2184' },
];

export interface DropDoc {
  passage: string;
  question: string;
  /** each gold answer as a tuple of spans (a number or a date is a 1-tuple) */
  answers: string[][];
}

const d = (doc: Doc) => doc.extra as unknown as DropDoc;

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown, where: string, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new RowError(`${where}: ${what} must be a string, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
}

function strList(v: unknown, where: string, what: string): string[] {
  if (!Array.isArray(v)) throw new RowError(`${where}: ${what} must be a list of strings, got ${JSON.stringify(v)}`);
  return v.map((x, i) => str(x, where, `${what}[${i}]`));
}

/** lm-eval/olmes parse_answer: the number if set, else the spans if any, else "day month year" stripped. */
export function parseDropAnswer(a: {
  number: string;
  spans: string[];
  date: { day: string; month: string; year: string };
}): string[] {
  if (a.number !== '') return [a.number];
  if (a.spans.length > 0) return a.spans.slice();
  return [[a.date.day, a.date.month, a.date.year].join(' ').trim()];
}

function readAnswer(v: unknown, where: string, what: string) {
  if (!isObj(v))
    throw new RowError(
      `${where}: field "${what}" must be an object with number, spans and date, got ${JSON.stringify(v)}`,
    );
  const date = v.date;
  if (!isObj(date)) throw new RowError(`${where}: field "${what}.date" must be an object with day, month and year`);
  return {
    number: str(v.number ?? '', where, `field "${what}.number"`),
    spans: strList(v.spans ?? [], where, `field "${what}.spans"`),
    date: {
      day: str(date.day ?? '', where, `"${what}.date.day"`),
      month: str(date.month ?? '', where, `"${what}.date.month"`),
      year: str(date.year ?? '', where, `"${what}.date.year"`),
    },
  };
}

/** get_answers: `answer`, then each validated answer (struct of parallel lists), deduplicated in order. */
export function dropAnswers(row: Row, where: string): string[][] {
  const candidates = [readAnswer(row.answer, where, 'answer')];
  const va = row.validated_answers;
  if (va !== undefined && va !== null) {
    if (!isObj(va)) throw new RowError(`${where}: field "validated_answers" must be an object of lists`);
    const numbers = va.number === undefined ? [] : strList(va.number, where, 'field "validated_answers.number"');
    const dates = Array.isArray(va.date) ? va.date : [];
    const spans = Array.isArray(va.spans) ? va.spans : [];
    for (let i = 0; i < numbers.length; i++) {
      candidates.push(
        readAnswer({ number: numbers[i], date: dates[i], spans: spans[i] }, where, `validated_answers[${i}]`),
      );
    }
  }
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const c of candidates) {
    const a = parseDropAnswer(c);
    const k = JSON.stringify(a);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}

export const drop: GenerativeSpec = {
  alias: 'drop',
  taskName: 'drop',
  datasetPath: 'EleutherAI/drop',
  evalSplit: 'validation',
  fewshot: { kind: 'keys', source: 'OLMES:drop', split: 'train', keys: OLMES_DROP_KEYS },
  numShots: 5,
  limit: 1000,
  nativeIdField: 'query_id',
  description: DROP_DESCRIPTION,
  primaryMetric: 'f1',
  maxGenToks: 100,
  stopSequences: ['Passage:', 'Question:', '\n\n'],
  processDoc(row, index, where) {
    const passage = fieldStr(row, 'passage', where);
    const question = fieldStr(row, 'question', where);
    const queryId = fieldStr(row, 'query_id', where);
    const answers = dropAnswers(row, where);
    const extra: DropDoc = { passage, question, answers };
    return generativeDoc(
      index,
      queryId,
      `Passage: ${passage}\nQuestion: ${question}\nAnswer:`,
      answers.map((a) => a.join(', ')),
      extra,
    );
  },
  docToText: (doc) => `Passage: ${d(doc).passage}\nQuestion: ${d(doc).question}\nAnswer:`,
  docToTarget: (doc) => ` ${d(doc).answers[0].join(', ')}`,
  label: (doc) => d(doc).answers[0].join(', '),
  score: (doc, cont) => dropMetrics(cont, d(doc).answers),
};
