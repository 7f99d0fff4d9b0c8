// naturalqs::olmes (olmes oe_eval/tasks/oe_eval_tasks/naturalqs_open.py, https://github.com/allenai/olmes):
// google-research-datasets/nq_open validation, 1000 docs
// sampled with random.Random(1234), 5-shot OLMES:naturalqs (train questions), "Question: {q}\nAnswer:" with
// target " " + ", ".join(answers); greedy, max 50 tokens, stop "Question:", "Q:", "\n\n". Metric f1: the DROP F1
// (drop-metric.ts) with every gold answer a one-span answer, max over the answers; exact_match likewise.
import { fieldStr, fieldStrList } from '../data/fields.ts';
import type { RowKey } from '../data/fewshot-sources.ts';
import { dropMetrics } from '../drop-metric.ts';
import type { Doc } from '../types.ts';
import { generativeDoc, type GenerativeSpec } from '../kinds/olmes-generative.ts';

/** The first 5 of olmes FEWSHOT_SOURCES["OLMES:naturalqs"], by their (train split) question. */
export const OLMES_NATURALQS_KEYS: RowKey[] = [
  { question: 'which side of the white house is the front' },
  { question: "who's hosting the super bowl in 2019" },
  { question: 'what is the origin of the name cynthia' },
  { question: 'who is the guy who voiced disney channel' },
  { question: 'what is the size of the angles of an equilateral triangle' },
];

export interface NaturalQsDoc {
  question: string;
  answers: string[];
}

const q = (doc: Doc) => doc.extra as unknown as NaturalQsDoc;

export const naturalqs: GenerativeSpec = {
  alias: 'naturalqs',
  taskName: 'naturalqs_open',
  datasetPath: 'google-research-datasets/nq_open',
  datasetName: 'nq_open',
  evalSplit: 'validation',
  fewshot: { kind: 'keys', source: 'OLMES:naturalqs', split: 'train', keys: OLMES_NATURALQS_KEYS },
  numShots: 5,
  limit: 1000,
  nativeIdField: null,
  primaryMetric: 'f1',
  maxGenToks: 50,
  stopSequences: ['Question:', 'Q:', '\n\n'],
  processDoc(row, index, where) {
    const question = fieldStr(row, 'question', where);
    const answers = fieldStrList(row, 'answer', where, 1);
    const extra: NaturalQsDoc = { question, answers };
    return generativeDoc(index, index, `Question: ${question}\nAnswer:`, answers, extra);
  },
  docToText: (doc) => `Question: ${q(doc).question}\nAnswer:`,
  docToTarget: (doc) => ` ${q(doc).answers.join(', ')}`,
  label: (doc) => q(doc).answers.join(', '),
  score: (doc, cont) =>
    dropMetrics(
      cont,
      q(doc).answers.map((a) => [a]),
    ),
};
