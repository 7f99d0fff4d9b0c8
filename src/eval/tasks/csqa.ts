// CommonsenseQA (oe_eval csqa.py, tau/commonsense_qa): "Question: {question}\nAnswer:", 5 answers from
// choices.text, gold = index of answerKey among choices.label. RC: PMI.
import { checkIndex, fieldStr, fieldStrList, RowError } from '../data/fields.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

export function extractCsqa(row: Row, where: string): Extracted {
  const question = fieldStr(row, 'question', where);
  const choices = fieldStrList(row, 'choices.text', where, 2);
  const labels = fieldStrList(row, 'choices.label', where, 2);
  const key = fieldStr(row, 'answerKey', where);
  const gold = labels.indexOf(key);
  if (gold < 0)
    throw new RowError(
      `${where}: answerKey ${JSON.stringify(key)} is not among choices.label ${JSON.stringify(labels)}`,
    );
  return { question, choices, gold: checkIndex(gold, choices.length, where, 'answerKey index') };
}

export const csqa: McTaskFamily = {
  name: 'csqa',
  datasetPath: 'tau/commonsense_qa',
  evalSplit: 'validation',
  fewshotSplit: 'train',
  fewshotSource: 'OLMES:commonsense_qa',
  numShots: 5,
  limit: null,
  nativeIdField: 'id',
  formats: mcFormats({ extract: extractCsqa, nativeIdField: 'id', rcPrimary: 'acc_uncond', rcUncond: true }),
};
