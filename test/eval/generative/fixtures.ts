// Self-made rows in the schemas of the HF datasets behind the OLMES generative tasks, a data folder writer, and a
// fake backend that answers generate_until requests with canned generations keyed by the question in the prompt.
import type { Backend } from '../../../src/eval/runner/backend.ts';
import type { GenerateUntilRequest, Row } from '../../../src/eval/types.ts';
import { writeSplit } from '../fixtures.ts';

export function gsm8kRow(i: number): Row {
  return {
    question: `Tom has ${i + 2} apples and buys ${i + 3} more. How many apples does he have?`,
    answer: `Tom has ${i + 2} + ${i + 3} = <<${i + 2}+${i + 3}=${2 * i + 5}>>${2 * i + 5} apples.\n#### ${2 * i + 5}`,
  };
}

const emptyValidated = {
  number: [''],
  date: [{ day: '', month: '', year: '' }],
  spans: [[]],
  worker_id: [''],
  hit_id: [''],
};
function dropAnswer(a: { number?: string; spans?: string[]; date?: { day: string; month: string; year: string } }) {
  return {
    number: a.number ?? '',
    date: a.date ?? { day: '', month: '', year: '' },
    spans: a.spans ?? [],
    worker_id: '',
    hit_id: '',
  };
}

export function dropRow(
  i: number,
  answer: Parameters<typeof dropAnswer>[0] = { number: String(i + 10) },
  validated = emptyValidated,
): Row {
  return {
    section_id: `synth_${i}`,
    query_id: `q-${i}`,
    passage: `Team ${i} scored ${i + 10} points in the first half.`,
    question: `How many points did team ${i} score?`,
    answer: dropAnswer(answer),
    validated_answers: validated,
  };
}

/** Train rows carrying the OLMES:drop query ids (with their real answers) amid decoys. */
export function dropTrainRows(): Row[] {
  const keyed: Row[] = [
    {
      ...dropRow(100, { number: '2' }),
      query_id: 'c9582e03-b01b-42ed-83e0-b90a5334aefa',
      section_id: 'nfl_2201',
      passage: 'Lions passage.',
      question: 'How many field goals did the Lions score?',
    },
    {
      ...dropRow(101, { spans: ['Nate Kaeding'] }),
      query_id: 'a849cb71-b6da-4c1a-9791-b962c9ff2d65',
      section_id: 'nfl_1491',
      passage: 'Chiefs passage.',
      question: 'which player scored the longest field goal?',
    },
    {
      ...dropRow(102, { date: { day: '', month: 'June', year: '1344' } }),
      query_id: '3637ce9d-203d-49e0-a454-b8a49e376148',
      section_id: 'history_269',
      passage: 'Momchil passage.',
      question: 'When did Momchil defeat the Ottoman fleet near the Portogalos bay?',
    },
    {
      ...dropRow(103, { spans: ['escaped captivity'] }),
      query_id: 'c420c10d-1384-47f1-9850-ec9269570ca8',
      section_id: 'history_690',
      passage: 'John II passage.',
      question: "What did one of John II's replacements do in captivity?",
    },
    {
      ...dropRow(104, { number: '158203' }),
      query_id: 'c312a5d0-5318-4bbb-806e-22333f00e990',
      section_id: 'history_2184',
      passage: 'Census passage.',
      question: 'How many more people were there than families?',
    },
  ];
  return [dropRow(200), keyed[2], dropRow(201), keyed[0], keyed[4], keyed[1], dropRow(202), keyed[3]];
}

export function nqRow(i: number): Row {
  return { question: `who wrote book number ${i}`, answer: [`Author ${i}`, `A. ${i}`] };
}
export function nqTrainRows(): Row[] {
  return [
    nqRow(300),
    { question: 'what is the origin of the name cynthia', answer: ['Greek'] },
    { question: 'which side of the white house is the front', answer: ['North'] },
    { question: 'who is the guy who voiced disney channel', answer: ['"Buzz" Brainard', 'Cameron'] },
    nqRow(301),
    { question: "who's hosting the super bowl in 2019", answer: ['Atlanta, Georgia'] },
    { question: 'what is the size of the angles of an equilateral triangle', answer: ['60°'] },
  ];
}

export function triviaRow(id: string, question: string, value: string, aliases: string[], normalized: string[]): Row {
  return {
    question,
    question_id: id,
    question_source: 'http://example.org/',
    entity_pages: { doc_source: [], filename: [], title: [], wiki_context: [] },
    search_results: { description: [], filename: [], rank: [], title: [], url: [], search_context: [] },
    answer: {
      aliases,
      normalized_aliases: normalized,
      matched_wiki_entity_name: '',
      normalized_matched_wiki_entity_name: '',
      normalized_value: normalized[0] ?? '',
      type: 'WikipediaEntity',
      value,
    },
  };
}
export function triviaTrainRows(): Row[] {
  return [
    triviaRow('x_1', 'Decoy question?', 'Decoy', ['Decoy'], ['decoy']),
    triviaRow(
      'dpql_11',
      'In the UK these books are called ‘Where’s Wally?’ What is his name in the USA?',
      'WALDO',
      ['Waldo', 'WALDO'],
      ['waldo'],
    ),
    triviaRow(
      'tc_8',
      'From which country did Angola achieve independence in 1975?',
      'Portugal',
      ['Portugal'],
      ['portugal'],
    ),
    triviaRow(
      'qb_12',
      'The conflict between rival political factions the Girondins and the Jacobins, during the French Revolution, was known as The Reign of what?',
      'Terror',
      ['Terror'],
      ['terror'],
    ),
    triviaRow('bb_18', 'In architecture, what is a lancet?', 'A window', ['The Window', 'A window'], ['window']),
    triviaRow(
      'qz_18',
      'In which ocean is the island group the Maldives?',
      'The Indian Ocean',
      ['Indian Ocean', 'The Indian Ocean'],
      ['indian ocean'],
    ),
  ];
}
export function triviaEvalRow(i: number): Row {
  return triviaRow(
    `ev_${i}`,
    `Which city is capital number ${i}?`,
    `City ${i}`,
    [`City ${i}`, `The City ${i}`],
    [`city ${i}`],
  );
}

/** A data folder with n eval docs for each generative task. */
export function writeGenerativeData(root: string, n: number): void {
  const range = (f: (i: number) => Row) => Array.from({ length: n }, (_, i) => f(i));
  writeSplit(root, 'openai/gsm8k', 'main', 'test', range(gsm8kRow));
  writeSplit(
    root,
    'EleutherAI/drop',
    undefined,
    'validation',
    range((i) => dropRow(i)),
    'jsonl',
  );
  writeSplit(root, 'EleutherAI/drop', undefined, 'train', dropTrainRows(), 'jsonl');
  writeSplit(root, 'google-research-datasets/nq_open', 'nq_open', 'validation', range(nqRow), 'jsonl');
  writeSplit(root, 'google-research-datasets/nq_open', 'nq_open', 'train', nqTrainRows(), 'jsonl');
  writeSplit(root, 'mandarjoshi/trivia_qa', 'rc.wikipedia.nocontext', 'validation', range(triviaEvalRow), 'jsonl');
  writeSplit(root, 'mandarjoshi/trivia_qa', 'rc.wikipedia.nocontext', 'train', triviaTrainRows(), 'jsonl');
}

/** The last "Question: …" (or passage) line of a prompt: the doc's own question. */
export function lastQuestion(context: string): string {
  const i = context.lastIndexOf('Question: ');
  return context.slice(i + 'Question: '.length, context.indexOf('\n', i));
}

export class CannedBackend implements Backend {
  readonly name = 'canned-generations';
  readonly maxLength = 2048;
  readonly seen: GenerateUntilRequest[] = [];
  constructor(readonly answer: (question: string, req: GenerateUntilRequest) => string) {}
  async loglikelihood(): Promise<never> {
    throw new Error('CannedBackend: no loglikelihood requests expected');
  }
  async loglikelihoodRolling(): Promise<never> {
    throw new Error('CannedBackend: no loglikelihood_rolling requests expected');
  }
  async generateUntil(requests: GenerateUntilRequest[]): Promise<string[]> {
    this.seen.push(...requests);
    return requests.map((r) => this.answer(lastQuestion(r.context), r));
  }
}
