// Shared construction of the RC and MC formats of an OLMES multiple-choice task from one row extractor.
import { fieldId, type RowWhere } from '../data/fields.ts';
import type { McMetricName } from '../metrics.ts';
import { choiceLabels, makeClozePrompt, makeMcqPrompt, type McqPromptOptions } from '../prompts.ts';
import type { Format } from '../task.ts';
import type { FormatDefinition } from '../kinds/multiple-choice.ts';
import type { McDoc, Row } from '../types.ts';

/** What a task reads from a row: the question text, the answer texts and the gold index. */
export interface Extracted {
  question: string;
  choices: string[];
  gold: number;
}

export interface McFormatsSpec {
  extract(row: Row, where: RowWhere): Extracted;
  nativeIdField: string | null;
  /** RC query from the question (default make_cloze_prompt with "Question: ") */
  rcQuery?(question: string, row: Row): string;
  /** MC prompt options for make_mcq_prompt (question prefix etc.), fixed or per row */
  mcOptions?: McqPromptOptions | ((row: Row) => McqPromptOptions);
  rcPrimary: McMetricName;
  rcUncond: boolean;
}

export function nativeId(row: Row, field: string | null, index: number): string | number {
  if (field === null) return index;
  return fieldId(row, field) ?? index;
}

export function mcFormats(spec: McFormatsSpec): Record<Format, FormatDefinition> {
  const rc: FormatDefinition = {
    primaryMetric: spec.rcPrimary,
    uncond: spec.rcUncond,
    processDoc(row, index, where): McDoc {
      const e = spec.extract(row, where);
      const query = spec.rcQuery ? spec.rcQuery(e.question, row) : makeClozePrompt(e.question);
      return { index, native_id: nativeId(row, spec.nativeIdField, index), query, choices: e.choices, gold: e.gold };
    },
  };
  const mc: FormatDefinition = {
    primaryMetric: 'acc_raw',
    uncond: false,
    processDoc(row, index, where): McDoc {
      const e = spec.extract(row, where);
      const opts = typeof spec.mcOptions === 'function' ? spec.mcOptions(row) : spec.mcOptions;
      const query = makeMcqPrompt(e.question, e.choices, opts);
      return {
        index,
        native_id: nativeId(row, spec.nativeIdField, index),
        query,
        choices: choiceLabels(e.choices.length),
        gold: e.gold,
      };
    },
  };
  return { rc, mc };
}
