// OpenBookQA (oe_eval openbookqa.py, allenai/openbookqa main): "Question: {question_stem}\nAnswer:",
// gold = index of answerKey.strip() in A–D. RC: PMI.
import { checkIndex, fieldStr, fieldStrList, RowError } from '../data/fields.ts';
import { pyStrip } from '../../pycompat/pystr.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

export function extractObqa(row: Row, where: string): Extracted {
  const question = fieldStr(row, 'question_stem', where);
  const choices = fieldStrList(row, 'choices.text', where, 2);
  const key = pyStrip(fieldStr(row, 'answerKey', where));
  const gold = ['A', 'B', 'C', 'D'].indexOf(key);
  if (gold < 0) throw new RowError(`${where}: field "answerKey" must be A–D, got ${JSON.stringify(key)}`);
  return { question, choices, gold: checkIndex(gold, choices.length, where, 'answerKey index') };
}

export const openbookqa: McTaskFamily = {
  name: 'openbookqa',
  datasetPath: 'allenai/openbookqa',
  datasetName: 'main',
  evalSplit: 'test',
  fewshotSplit: 'train',
  fewshotSource: 'OLMES:openbookqa',
  numShots: 5,
  limit: null,
  nativeIdField: 'id',
  formats: mcFormats({ extract: extractObqa, nativeIdField: 'id', rcPrimary: 'acc_uncond', rcUncond: true }),
};
