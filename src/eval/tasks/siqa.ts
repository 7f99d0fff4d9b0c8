// Social IQa (oe_eval siqa.py, allenai/social_i_qa): "Question: {context} {question}\nAnswer:" with
// " {answerA}", " {answerB}", " {answerC}"; gold = int(label) - 1.
import { checkIndex, fieldInt, fieldStr } from '../data/fields.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

export function extractSiqa(row: Row, where: string): Extracted {
  const question = `${fieldStr(row, 'context', where)} ${fieldStr(row, 'question', where)}`;
  const choices = [fieldStr(row, 'answerA', where), fieldStr(row, 'answerB', where), fieldStr(row, 'answerC', where)];
  return { question, choices, gold: checkIndex(fieldInt(row, 'label', where) - 1, 3, where, 'label - 1') };
}

export const socialiqa: McTaskFamily = {
  name: 'socialiqa',
  datasetPath: 'allenai/social_i_qa',
  evalSplit: 'validation',
  fewshotSplit: 'train',
  fewshotSource: 'OLMES:social_i_qa',
  numShots: 5,
  limit: 1000,
  nativeIdField: null,
  formats: mcFormats({ extract: extractSiqa, nativeIdField: null, rcPrimary: 'acc_per_char', rcUncond: true }),
};
