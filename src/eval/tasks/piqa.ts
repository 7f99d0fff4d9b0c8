// PIQA (oe_eval piqa.py, ybisk/piqa): "Goal: {goal}\nAnswer:" with " {sol1}", " {sol2}"; gold = label.
import { checkIndex, fieldInt, fieldStr } from '../data/fields.ts';
import { makeClozePrompt } from '../prompts.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

export function extractPiqa(row: Row, where: string): Extracted {
  const question = fieldStr(row, 'goal', where);
  const choices = [fieldStr(row, 'sol1', where), fieldStr(row, 'sol2', where)];
  return { question, choices, gold: checkIndex(fieldInt(row, 'label', where), 2, where, 'label') };
}

export const piqa: McTaskFamily = {
  name: 'piqa',
  datasetPath: 'ybisk/piqa',
  evalSplit: 'validation',
  fewshotSplit: 'train',
  fewshotSource: 'OLMES:piqa',
  numShots: 5,
  limit: 1000,
  nativeIdField: null,
  formats: mcFormats({
    extract: extractPiqa,
    nativeIdField: null,
    rcQuery: (q) => makeClozePrompt(q, 'Goal: '),
    mcOptions: { questionPrefix: 'Goal: ' },
    rcPrimary: 'acc_per_char',
    rcUncond: true,
  }),
};
