// WinoGrande (oe_eval winogrande.py, allenai/winogrande winogrande_xl), partial scoring for RC:
// context for option o = sentence[:k] + o (k = first "_"), continuation " " + sentence[k+1:].strip() for both
// options; a shot is the completed sentence. The eval doc's gold prefix is dropped from the few-shot context by
// splitting on "\n\n", popping the last piece and appending the option's prefix (append_context).
// MC: "Fill in the blank: {sentence with _ → ___}\n A. {option1}\n B. {option2}\nAnswer:".
import { checkIndex, fieldInt, fieldStr, RowError } from '../data/fields.ts';
import { choiceLabels, makeMcqPrompt } from '../prompts.ts';
import { pyStrip } from '../../pycompat/pystr.ts';
import type { Format } from '../task.ts';
import type { FormatDefinition, McTaskFamily } from '../kinds/multiple-choice.ts';
import type { McDoc, Row } from '../types.ts';

function read(row: Row, where: string) {
  const sentence = fieldStr(row, 'sentence', where);
  const options = [fieldStr(row, 'option1', where), fieldStr(row, 'option2', where)];
  const gold = checkIndex(fieldInt(row, 'answer', where) - 1, 2, where, 'answer - 1');
  return { sentence, options, gold };
}

/** append_context: replace the last "\n\n"-separated piece of ctx (the gold prefix) by the option's prefix. */
export function winograndeAppendContext(ctx: string, partial: string): string {
  const parts = ctx.split('\n\n');
  parts.pop();
  return parts.length > 0 ? [...parts, partial].join('\n\n') : partial;
}

const formats: Record<Format, FormatDefinition> = {
  rc: {
    primaryMetric: 'acc_raw',
    uncond: false,
    processDoc(row, index, where): McDoc {
      const { sentence, options, gold } = read(row, where);
      const k = sentence.indexOf('_');
      if (k < 0) throw new RowError(`${where}: field "sentence" has no "_" blank: ${JSON.stringify(sentence)}`);
      const prefixes = options.map((o) => sentence.slice(0, k) + o);
      const target = ' ' + pyStrip(sentence.slice(k + 1));
      return { index, native_id: index, query: prefixes[gold], choices: options, gold, extra: { prefixes, target } };
    },
    docToTarget: (doc) => (doc.extra as { target: string }).target,
    choiceRequests(doc, ctx) {
      const { prefixes, target } = doc.extra as { prefixes: string[]; target: string };
      return prefixes.map((p) => ({ context: winograndeAppendContext(ctx, p), continuation: target }));
    },
  },
  mc: {
    primaryMetric: 'acc_raw',
    uncond: false,
    processDoc(row, index, where): McDoc {
      const { sentence, options, gold } = read(row, where);
      const query = makeMcqPrompt(sentence.replaceAll('_', '___'), options, { questionPrefix: 'Fill in the blank: ' });
      return { index, native_id: index, query, choices: choiceLabels(2), gold };
    },
  },
};

export const winogrande: McTaskFamily = {
  name: 'winogrande',
  datasetPath: 'allenai/winogrande',
  datasetName: 'winogrande_xl',
  evalSplit: 'validation',
  fewshotSplit: 'train',
  fewshotSource: 'OLMES:winogrande',
  numShots: 5,
  limit: null,
  nativeIdField: null,
  formats,
};
