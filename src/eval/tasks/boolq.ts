// BoolQ (oe_eval boolq.py, aps/super_glue boolq): "{passage}\nQuestion: {question}?\nAnswer:" with " yes"/" no";
// gold = 1 - label (label 1 = true = "yes" = index 0). RC normalisation none, no PMI requests.
import { fieldInt, fieldStr, RowError } from '../data/fields.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

function passageOf(row: Row): string {
  return row.passage as string;
}

export function extractBoolq(row: Row, where: string): Extracted {
  const question = fieldStr(row, 'question', where) + '?';
  fieldStr(row, 'passage', where);
  const label = fieldInt(row, 'label', where);
  if (label !== 0 && label !== 1) throw new RowError(`${where}: field "label" must be 0 or 1, got ${label}`);
  return { question, choices: ['yes', 'no'], gold: 1 - label };
}

export const boolq: McTaskFamily = {
  name: 'boolq',
  datasetPath: 'aps/super_glue',
  datasetName: 'boolq',
  evalSplit: 'validation',
  fewshotSplit: 'train',
  fewshotSource: 'OLMES:BoolQ',
  numShots: 5,
  limit: 1000,
  nativeIdField: 'idx',
  formats: mcFormats({
    extract: extractBoolq,
    nativeIdField: 'idx',
    rcQuery: (q, row) => `${passageOf(row)}\nQuestion: ${q}\nAnswer:`,
    // MC: the passage is part of make_mcq_prompt's question prefix.
    mcOptions: (row) => ({ questionPrefix: `${passageOf(row)}\nQuestion: ` }),
    rcPrimary: 'acc_raw',
    rcUncond: false,
  }),
};
