// The OLMES curated few-shot examples (oe_eval/tasks/fewshot_sources.py at olmes 5a51f50): which training rows they
// are, identified by dataset ids where the dataset has them and by leading text otherwise, plus their gold label as a
// check. OLMES uses the first 5 of each list in stored order; only those are listed. The rows themselves are
// resolved from the loaded training split; a key that matches no row, or several different rows, is an error.
import type { Row } from '../types.ts';

/** A field must equal the value, or start with the given text. */
export type FieldMatcher = string | number | { startsWith: string };
export type RowKey = Record<string, FieldMatcher>;

export const OLMES_FEWSHOT_KEYS: Record<string, RowKey[]> = {
  'OLMES:ARC-Challenge': [
    { id: 'Mercury_SC_415702', answerKey: 'A' },
    { id: 'MCAS_2009_5_6516', answerKey: 'B' },
    { id: 'Mercury_7233695', answerKey: 'B' },
    { id: 'Mercury_7041615', answerKey: 'D' },
    { id: 'MCAS_1998_4_3', answerKey: 'C' },
  ],
  'OLMES:ARC-Easy': [
    { id: 'MCAS_2007_8_5189', answerKey: 'B' },
    { id: 'Mercury_SC_401169', answerKey: 'D' },
    { id: 'MCAS_2004_8_27', answerKey: 'A' },
    { id: 'NYSEDREGENTS_2006_8_10', answerKey: '3' },
    { id: 'Mercury_7013388', answerKey: 'C' },
  ],
  'OLMES:BoolQ': [
    { idx: 0, label: 1 },
    { idx: 1, label: 1 },
    { idx: 7, label: 0 },
    { idx: 11, label: 0 },
    { idx: 3, label: 1 },
  ],
  'OLMES:commonsense_qa': [
    { id: '61fe6e879ff18686d7552425a36344c8', answerKey: 'B' },
    { id: '02e821a3e53cb320790950aab4489e85', answerKey: 'D' },
    { id: '23505889b94e880c3e89cff4ba119860', answerKey: 'C' },
    { id: 'a76403b4921a9281b6ee2a7241a5ec9f', answerKey: 'E' },
    { id: '6dc921840aa1e5dda3333b79007f630b', answerKey: 'A' },
  ],
  'OLMES:hellaswag': [
    { ind: 12, source_id: 'wikihow~19', label: '3' },
    { ind: 39, source_id: 'wikihow~66', label: '0' },
    { ind: 9, source_id: 'activitynet~v_-2dxp-mv2zo', label: '3' },
    { ind: 47, source_id: 'activitynet~v_-Xl95IW5H_s', label: '1' },
    { ind: 38, source_id: 'wikihow~62', label: '2' },
  ],
  'OLMES:openbookqa': [
    { id: '7-584', answerKey: 'D' },
    { id: '7-870', answerKey: 'C' },
    { id: '9-732', answerKey: 'D' },
    { id: '9-782', answerKey: 'A' },
    { id: '8-72', answerKey: 'B' },
  ],
  'OLMES:piqa': [
    { goal: 'how do you stab something?', sol1: { startsWith: 'stick a sharp object thr' }, label: 0 },
    { goal: 'how do you shake something?', sol1: { startsWith: 'move it up and down and ' }, label: 0 },
    { goal: 'Clean tires', sol1: { startsWith: 'Pour water, cape off cak' }, label: 1 },
    { goal: 'how do you taste something?', sol1: { startsWith: 'smell it enough to taste' }, label: 1 },
    { goal: 'To create a makeshift ice pack,', sol1: { startsWith: 'take a sponge and soak i' }, label: 1 },
  ],
  'OLMES:social_i_qa': [
    {
      context: { startsWith: 'Cameron decided to have a barbecue and g' },
      question: 'How would Others feel as a result?',
      label: '1',
    },
    {
      context: { startsWith: 'Quinn wanted to help me clean my room up' },
      question: 'What will Quinn want to do next?',
      label: '3',
    },
    {
      context: { startsWith: 'Jan needed to give out jobs for an upcom' },
      question: 'What will Others want to do next?',
      label: '2',
    },
    {
      context: { startsWith: 'Their cat kept trying to escape out of t' },
      question: 'How would Jan feel afterwards?',
      label: '3',
    },
    {
      context: { startsWith: 'Remy was an expert fisherman and was on ' },
      question: 'What will Remy want to do next?',
      label: '1',
    },
  ],
  'OLMES:winogrande': [
    { sentence: { startsWith: 'John moved the couch from the garage to ' }, option1: 'garage', answer: '1' },
    { sentence: { startsWith: 'Dennis drew up a business proposal to pr' }, option1: 'Dennis', answer: '1' },
    { sentence: { startsWith: 'Felicia unexpectedly made fried eggs for' }, option1: 'Felicia', answer: '2' },
    { sentence: { startsWith: 'The circuit failed to power the televisi' }, option1: 'television', answer: '1' },
    { sentence: { startsWith: 'Neil told Craig that he has to take care' }, option1: 'Neil', answer: '2' },
  ],
};

export class FewshotResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FewshotResolutionError';
  }
}

function matches(row: Row, key: RowKey): boolean {
  for (const [field, m] of Object.entries(key)) {
    const v = row[field];
    if (typeof m === 'object') {
      if (typeof v !== 'string' || !v.startsWith(m.startsWith)) return false;
    } else if (typeof m === 'number') {
      // labels may be stored as int or as digit strings depending on the export
      if (!(v === m || (typeof v === 'string' && v.trim() === String(m)))) return false;
    } else if (!(v === m || (typeof v === 'number' && String(v) === m))) {
      return false;
    }
  }
  return true;
}

function describeKey(key: RowKey): string {
  return Object.entries(key)
    .map(
      ([f, m]) =>
        `${f}${typeof m === 'object' ? ` starting ${JSON.stringify(m.startsWith)}` : `=${JSON.stringify(m)}`}`,
    )
    .join(', ');
}

/**
 * Resolve the first `k` keys of a few-shot source against the rows of the training split, in key order.
 * Several matching rows are accepted only when they are identical (duplicated records); otherwise it throws.
 */
export function resolveFewshotRows(source: string, rows: readonly Row[], k: number, where: string): Row[] {
  const keys = OLMES_FEWSHOT_KEYS[source];
  if (!keys)
    throw new FewshotResolutionError(
      `unknown few-shot source ${source}; known: ${Object.keys(OLMES_FEWSHOT_KEYS).join(', ')}`,
    );
  return resolveKeyedRows(source, keys, rows, k, where);
}

/** The first k keyed rows of a curated source (`keys`, e.g. a generative task's own list), as resolveFewshotRows. */
export function resolveKeyedRows(
  source: string,
  keys: readonly RowKey[],
  rows: readonly Row[],
  k: number,
  where: string,
): Row[] {
  if (k > keys.length)
    throw new FewshotResolutionError(`few-shot source ${source} lists ${keys.length} examples, ${k} requested`);
  return keys.slice(0, k).map((key, i) => {
    const found = rows.filter((r) => matches(r, key));
    if (found.length === 0) {
      throw new FewshotResolutionError(
        `few-shot example ${i} of ${source} (${describeKey(key)}) is not in ${where} (${rows.length} rows searched); ` +
          'the curated example must come from the training split, and no substitute is used',
      );
    }
    const first = JSON.stringify(found[0]);
    if (found.some((r) => JSON.stringify(r) !== first)) {
      throw new FewshotResolutionError(
        `few-shot example ${i} of ${source} (${describeKey(key)}) matches ${found.length} different rows in ${where}`,
      );
    }
    return found[0];
  });
}
