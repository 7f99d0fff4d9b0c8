// ARC-Easy and ARC-Challenge (oe_eval arc.py): "Question: {question}\nAnswer:", answers from choices.text;
// answerKey is a letter or "1"–"5" mapped to A–E. RC: ARC-Easy per-char, ARC-Challenge PMI.
import { checkIndex, fieldStr, fieldStrList, RowError } from '../data/fields.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

const NUM_TO_LETTER: Record<string, string> = { '1': 'A', '2': 'B', '3': 'C', '4': 'D', '5': 'E' };
const LETTERS = ['A', 'B', 'C', 'D', 'E'];

export function extractArc(row: Row, where: string): Extracted {
  const question = fieldStr(row, 'question', where);
  const choices = fieldStrList(row, 'choices.text', where, 2);
  const rawKey = fieldStr(row, 'answerKey', where);
  const key = NUM_TO_LETTER[rawKey] ?? rawKey;
  const gold = LETTERS.indexOf(key);
  if (gold < 0) throw new RowError(`${where}: field "answerKey" must be A–E or 1–5, got ${JSON.stringify(rawKey)}`);
  return { question, choices, gold: checkIndex(gold, choices.length, where, 'answerKey index') };
}

function arc(
  name: string,
  config: string,
  limit: number | null,
  rcPrimary: 'acc_per_char' | 'acc_uncond',
  source: string,
): McTaskFamily {
  return {
    name,
    datasetPath: 'allenai/ai2_arc',
    datasetName: config,
    evalSplit: 'test',
    fewshotSplit: 'train',
    fewshotSource: source,
    numShots: 5,
    limit,
    nativeIdField: 'id',
    formats: mcFormats({ extract: extractArc, nativeIdField: 'id', rcPrimary, rcUncond: true }),
  };
}

export const arcEasy = arc('arc_easy', 'ARC-Easy', 1000, 'acc_per_char', 'OLMES:ARC-Easy');
export const arcChallenge = arc('arc_challenge', 'ARC-Challenge', null, 'acc_uncond', 'OLMES:ARC-Challenge');
