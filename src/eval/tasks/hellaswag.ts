// HellaSwag (oe_eval hellaswag.py, allenai/hellaswag): no Question/Answer wrapper.
// RC: query P("{activity_label}: {ctx_a} {Cap(ctx_b)}"), continuations " " + P(ending).
// MC: the whole "{activity_label}: {ctx_a} {Cap(ctx_b)}\nChoose the best continuation:\n A. …\nAnswer:" goes
// through P once (endings raw inside). Cap is Python's str.capitalize (rest lower-cased).
import { checkIndex, fieldInt, fieldStr, fieldStrList } from '../data/fields.ts';
import { choiceLabels, makeMcqPrompt } from '../prompts.ts';
import { pyCapitalize, pyStrip } from '../../pycompat/pystr.ts';
import type { Format } from '../task.ts';
import type { FormatDefinition, McTaskFamily } from '../kinds/multiple-choice.ts';
import type { McDoc, Row } from '../types.ts';
import { nativeId } from './common.ts';

/** hellaswag.py preprocess: strip; "\.? \[title\]" → ". "; delete "\[.*?\]"; "  " → " " in one pass. */
export function hellaswagPreprocess(text: string): string {
  let t = pyStrip(text);
  t = t.replace(/\.? \[title\]/g, '. ');
  t = t.replace(/\[.*?\]/g, '');
  t = t.replaceAll('  ', ' ');
  return t;
}

function read(row: Row, where: string) {
  const activity = fieldStr(row, 'activity_label', where);
  const ctxA = fieldStr(row, 'ctx_a', where);
  const ctxB = fieldStr(row, 'ctx_b', where);
  const endings = fieldStrList(row, 'endings', where, 2);
  const gold = checkIndex(fieldInt(row, 'label', where), endings.length, where, 'label');
  return { head: `${activity}: ${ctxA} ${pyCapitalize(ctxB)}`, endings, gold };
}

const formats: Record<Format, FormatDefinition> = {
  rc: {
    primaryMetric: 'acc_per_char',
    uncond: true,
    processDoc(row, index, where): McDoc {
      const { head, endings, gold } = read(row, where);
      return {
        index,
        native_id: nativeId(row, 'ind', index),
        query: hellaswagPreprocess(head),
        choices: endings.map(hellaswagPreprocess),
        gold,
      };
    },
  },
  mc: {
    primaryMetric: 'acc_raw',
    uncond: false,
    processDoc(row, index, where): McDoc {
      const { head, endings, gold } = read(row, where);
      const prompt = makeMcqPrompt(head, endings, {
        questionPrefix: '',
        choicesPrefix: 'Choose the best continuation:\n',
      });
      return {
        index,
        native_id: nativeId(row, 'ind', index),
        query: hellaswagPreprocess(prompt),
        choices: choiceLabels(endings.length),
        gold,
      };
    },
  },
};

export const hellaswag: McTaskFamily = {
  name: 'hellaswag',
  datasetPath: 'allenai/hellaswag',
  evalSplit: 'validation',
  fewshotSplit: 'train',
  fewshotSource: 'OLMES:hellaswag',
  numShots: 5,
  limit: 1000,
  nativeIdField: 'ind',
  formats,
};
