// triviaqa::olmes (olmes oe_eval/tasks/oe_eval_tasks/triviaqa.py, https://github.com/allenai/olmes):
// mandarjoshi/trivia_qa "rc.wikipedia.nocontext", validation, all
// docs, 5-shot OLMES:triviaqa (train rows, resolved by question_id; OLMES stores shot 4 with answer value "Waldo"
// where the dataset has "WALDO", an edit reproduced here), "Question: {q}\nAnswer:" with target " " + answer.value;
// greedy, max 50 tokens, stop "\n\n". Metrics: SQuAD v1.1 exact match and F1, max over aliases ∪ normalized_aliases.
import { fieldStr, fieldStrList } from '../data/fields.ts';
import type { RowKey } from '../data/fewshot-sources.ts';
import type { Doc, Row } from '../types.ts';
import { squadV1ExactMatch, squadV1F1 } from '../text-metrics.ts';
import { generativeDoc, type GenerativeSpec } from '../kinds/olmes-generative.ts';

/** The first 5 of olmes FEWSHOT_SOURCES["OLMES:triviaqa"], by question_id and question. */
export const OLMES_TRIVIAQA_KEYS: RowKey[] = [
  { question_id: 'tc_8', question: { startsWith: 'From which country did Angola achieve independence' } },
  { question_id: 'bb_18', question: { startsWith: 'In architecture, what is a lancet?' } },
  { question_id: 'qz_18', question: { startsWith: 'In which ocean is the island group the Maldives?' } },
  { question_id: 'dpql_11', question: { startsWith: 'In the UK these books are called' } },
  { question_id: 'qb_12', question: { startsWith: 'The conflict between rival political factions' } },
];

/** OLMES's edits to its stored copies of the train rows: `"value": "Waldo",  # Original "value": "WALDO"`. */
export function olmesTriviaqaEdit(row: Row): Row {
  if (row.question_id !== 'dpql_11') return row;
  const answer = row.answer as Record<string, unknown> | undefined;
  return answer ? { ...row, answer: { ...answer, value: 'Waldo' } } : row;
}

export interface TriviaQaDoc {
  question: string;
  value: string;
  /** aliases ∪ normalized_aliases, first-seen order */
  answers: string[];
}

const t = (doc: Doc) => doc.extra as unknown as TriviaQaDoc;

export function triviaqaScore(continuation: string, answers: readonly string[]): Record<string, number> {
  if (answers.length === 0) return { exact_match: 0, f1: 0 };
  return {
    exact_match: Math.max(...answers.map((a) => squadV1ExactMatch(continuation, a))),
    f1: Math.max(...answers.map((a) => squadV1F1(continuation, a))),
  };
}

export const triviaqa: GenerativeSpec = {
  alias: 'triviaqa',
  taskName: 'triviaqa',
  datasetPath: 'mandarjoshi/trivia_qa',
  datasetName: 'rc.wikipedia.nocontext',
  evalSplit: 'validation',
  fewshot: {
    kind: 'keys',
    source: 'OLMES:triviaqa',
    split: 'train',
    keys: OLMES_TRIVIAQA_KEYS,
    edit: olmesTriviaqaEdit,
  },
  numShots: 5,
  limit: null,
  nativeIdField: 'question_id',
  primaryMetric: 'f1',
  maxGenToks: 50,
  stopSequences: ['\n\n'],
  processDoc(row, index, where) {
    const question = fieldStr(row, 'question', where);
    const id = fieldStr(row, 'question_id', where);
    const value = fieldStr(row, 'answer.value', where);
    const aliases = fieldStrList(row, 'answer.aliases', where, 0);
    const normalized = fieldStrList(row, 'answer.normalized_aliases', where, 0);
    const answers = [...new Set([...aliases, ...normalized])];
    const extra: TriviaQaDoc = { question, value, answers };
    return generativeDoc(index, id, `Question: ${question}\nAnswer:`, answers, extra);
  },
  docToText: (doc) => `Question: ${t(doc).question}\nAnswer:`,
  docToTarget: (doc) => ` ${t(doc).value}`,
  label: (doc) => t(doc).value,
  score: (doc, cont) => triviaqaScore(cont, t(doc).answers),
};
