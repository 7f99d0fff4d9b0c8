// gsm8k::olmes (olmes oe_eval/tasks/oe_eval_tasks/gsm8k.py, https://github.com/allenai/olmes): openai/gsm8k "main",
// test split, all 1319 docs, 8-shot CoT from
// STD:GSM8k (Wei et al.'s hand-written exemplars, shipped verbatim below as olmes' fewshot_sources.py stores them),
// "Question: {q}\nAnswer:" with target " {cot}", greedy, max 512 tokens, stop "Question:", "</s>", "<|im_end|>",
// "\n\n". Metric exact_match: commas between digits removed, the last number of the output taken (else the whole
// output), then HF exact_match with ignore_case and regexes_to_ignore `,` `\$` `(?s).*#### ` `\.$` against the
// cleaned short answer: the text after "####" cleaned by the same rule ("1,250" → "1250", "5 hours" → "5"), which
// is also the request and prediction label. The extraction is the GSM8K verifier's olmes rule.
//
// Extra metrics, for comparison with lm-eval's gsm8k-cot (not OLMES): exact_match_strict (the first "The answer is
// N." — lm-eval "strict-match") and exact_match_flex (the last `-?[$0-9.,]{2,}|-?[0-9]+` — "flexible-extract").
import { fieldStr, RowError } from '../data/fields.ts';
import { pyStrip } from '../../pycompat/pystr.ts';
import { hfExactMatch } from '../text-metrics.ts';
import type { Doc, Row } from '../types.ts';
import { extractAnswerIsStrict, extractFlexible, extractLastNumber } from '../../verifiers/gsm8k.ts';
import { generativeDoc, type GenerativeSpec } from '../kinds/olmes-generative.ts';

/** olmes FEWSHOT_SOURCES["STD:GSM8k"] (Wei et al. 2022, chain-of-thought exemplars), in stored order. */
export const STD_GSM8K: readonly Row[] = [
  {
    question:
      'There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?',
    answer:
      'There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. So the answer is 6.',
    short_answer: '6',
  },
  {
    question: 'If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?',
    answer: 'There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. So the answer is 5.',
    short_answer: '5',
  },
  {
    question:
      'Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?',
    answer:
      'Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. So the answer is 39.',
    short_answer: '39',
  },
  {
    question:
      'Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?',
    answer:
      'Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. So the answer is 8.',
    short_answer: '8',
  },
  {
    question:
      'Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?',
    answer:
      'Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. So the answer is 9.',
    short_answer: '9',
  },
  {
    question:
      'There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?',
    answer:
      'There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. So the answer is 29.',
    short_answer: '29',
  },
  {
    question:
      'Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?',
    answer:
      'Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. So the answer is 33.',
    short_answer: '33',
  },
  {
    question: 'Olivia has $23. She bought five bagels for $3 each. How much money does she have left?',
    answer:
      'Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. So the answer is 8.',
    short_answer: '8',
  },
];

/** metric_kwargs.regexes_to_ignore; Python's `\.$` also matches before a final newline, hence `\n?`. */
export const GSM8K_REGEXES_TO_IGNORE = [/,/, /\$/, /^[\s\S]*#### /, /\.(?=\n?$)/];

export interface Gsm8kDoc {
  question: string;
  /** the CoT target: the exemplar's answer, or the dataset answer (calculator annotations and all) */
  answer: string;
  short_answer: string;
}

const g = (doc: Doc) => doc.extra as unknown as Gsm8kDoc;

/** HF exact_match as olmes configures it for GSM8K. */
export function gsm8kExactMatch(pred: string, shortAnswer: string): number {
  return hfExactMatch(pred, shortAnswer, { regexesToIgnore: GSM8K_REGEXES_TO_IGNORE, ignoreCase: true });
}

/** olmes's cleaned short answer: commas between digits removed, the last number kept (else the text as it is). */
export function cleanShortAnswer(shortAnswer: string): string {
  return extractLastNumber(shortAnswer).answer;
}

export function gsm8kScore(continuation: string, shortAnswer: string): Record<string, number> {
  const strict = extractAnswerIsStrict(continuation);
  const flex = extractFlexible(continuation);
  return {
    exact_match: gsm8kExactMatch(extractLastNumber(continuation).answer, shortAnswer),
    exact_match_strict: strict === null ? 0 : gsm8kExactMatch(strict, shortAnswer),
    exact_match_flex: flex === null ? 0 : gsm8kExactMatch(flex, shortAnswer),
  };
}

export const gsm8k: GenerativeSpec = {
  alias: 'gsm8k',
  taskName: 'gsm8k',
  datasetPath: 'openai/gsm8k',
  datasetName: 'main',
  evalSplit: 'test',
  fewshot: { kind: 'embedded', source: 'STD:GSM8k', rows: STD_GSM8K },
  numShots: 8,
  limit: null,
  nativeIdField: null,
  primaryMetric: 'exact_match',
  maxGenToks: 512,
  stopSequences: ['Question:', '</s>', '<|im_end|>', '\n\n'],
  processDoc(row, index, where) {
    const question = fieldStr(row, 'question', where);
    const answer = fieldStr(row, 'answer', where);
    let short: string;
    if (typeof row.short_answer === 'string') short = row.short_answer;
    else {
      if (!answer.includes('####')) throw new RowError(`${where}: field "answer" has no "#### <number>" final answer`);
      short = pyStrip(answer.split('####').at(-1)!); // answer.split("####")[-1].strip()
    }
    const extra: Gsm8kDoc = { question, answer, short_answer: short };
    return generativeDoc(index, index, `Question: ${question}\nAnswer:`, [short], extra);
  },
  docToText: (doc) => `Question: ${g(doc).question}\nAnswer:`,
  docToTarget: (doc) => ` ${g(doc).answer}`,
  label: (doc) => cleanShortAnswer(g(doc).short_answer),
  score: (doc, cont) => gsm8kScore(cont, cleanShortAnswer(g(doc).short_answer)),
};
