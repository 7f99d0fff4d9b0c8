// The IFEval instruction registry (Google's `instructions_registry.INSTRUCTION_DICT`, the 25 instruction ids of
// IFEval as used by olmes `ifeval::tulu` and by open-instruct's IFEvalVerifier), and the strict and loose
// evaluation of one prompt (olmes `oe_eval/dependencies/ifeval/utils.py`):
//
// - strict: an instruction is followed when the response is non-blank and its checker passes;
// - loose: followed when any of 8 variants passes: the response; with every `*` removed; without its first line;
//   without its last line; without both; and those three with `*` removed (each variant must be non-blank).
// A prompt is followed when all its instructions are.
//
// kwargs: as in the IFEval data, one object per instruction; null-valued keys are dropped (olmes drops every falsy
// value, which would turn a 0 into IFEval's random default; here 0 is kept).

import { IfEvalArgError, type Check, type InstructionSpec, type Kwargs } from './args.ts';
import { CHANGE_CASE_INSTRUCTIONS } from './change_case.ts';
import { COMBINATION_INSTRUCTIONS } from './combination.ts';
import { CONTENT_INSTRUCTIONS } from './content.ts';
import { FORMAT_INSTRUCTIONS } from './format.ts';
import { KEYWORD_INSTRUCTIONS } from './keywords.ts';
import { LANGUAGE_INSTRUCTIONS } from './language.ts';
import { LENGTH_INSTRUCTIONS } from './length.ts';
import { PUNCTUATION_INSTRUCTIONS } from './punctuation.ts';
import { STARTEND_INSTRUCTIONS } from './startend.ts';
import { pyStrip } from '../py.ts';

export const INSTRUCTIONS: Readonly<Record<string, InstructionSpec>> = {
  ...KEYWORD_INSTRUCTIONS,
  ...LANGUAGE_INSTRUCTIONS,
  ...LENGTH_INSTRUCTIONS,
  ...CONTENT_INSTRUCTIONS,
  ...FORMAT_INSTRUCTIONS,
  ...COMBINATION_INSTRUCTIONS,
  ...STARTEND_INSTRUCTIONS,
  ...CHANGE_CASE_INSTRUCTIONS,
  ...PUNCTUATION_INSTRUCTIONS,
};

export const INSTRUCTION_IDS: readonly string[] = Object.keys(INSTRUCTIONS).sort();

/**
 * Build the checker for one instruction. Throws IfEvalArgError for an unknown id or bad kwargs (ground-truth
 * problems); the returned checker never throws.
 */
export function buildInstruction(id: string, kwargs: Kwargs | null | undefined): Check {
  const spec = INSTRUCTIONS[id];
  if (!spec)
    throw new IfEvalArgError(`unknown IFEval instruction id '${id}'; known ids: ${INSTRUCTION_IDS.join(', ')}`);
  const kw: Kwargs = {};
  if (kwargs !== null && kwargs !== undefined) {
    if (typeof kwargs !== 'object' || Array.isArray(kwargs))
      throw new IfEvalArgError(`kwargs of '${id}' must be an object, got ${JSON.stringify(kwargs)}`);
    for (const [k, v] of Object.entries(kwargs)) {
      if (v === null || v === undefined) continue;
      if (!spec.args.includes(k))
        throw new IfEvalArgError(
          `'${id}' takes ${spec.args.length ? spec.args.map((a) => `'${a}'`).join(', ') : 'no kwargs'}, got '${k}'`,
        );
      kw[k] = v;
    }
  }
  const check = spec.build(kw);
  return (response) => {
    try {
      return check(response);
    } catch {
      return false; // a checker bug must not crash a run; counted as not followed
    }
  };
}

/** The 8 response variants of IFEval's loose evaluation, in olmes' order. */
export function looseVariants(response: string): string[] {
  const r = response.split('\n');
  const removeFirst = pyStrip(r.slice(1).join('\n'));
  const removeLast = pyStrip(r.slice(0, -1).join('\n'));
  const removeBoth = pyStrip(r.slice(1, -1).join('\n'));
  const noStar = (s: string): string => s.split('*').join('');
  return [
    response,
    noStar(response),
    removeFirst,
    removeLast,
    removeBoth,
    noStar(removeFirst),
    noStar(removeLast),
    noStar(removeBoth),
  ];
}

export interface IfEvalPrompt {
  instruction_id_list: string[];
  kwargs: Array<Kwargs | null>;
  prompt?: string;
}

export interface IfEvalOutcome {
  followAll: boolean;
  followList: boolean[];
}

/** Strict and loose IFEval evaluation of one response. Throws IfEvalArgError on bad instructions/kwargs. */
export function evaluateIfEval(inp: IfEvalPrompt, response: string): { strict: IfEvalOutcome; loose: IfEvalOutcome } {
  const checks = inp.instruction_id_list.map((id, i) => buildInstruction(id, inp.kwargs[i]));
  const variants = looseVariants(response);
  const strict = checks.map((c) => pyStrip(response) !== '' && c(response));
  const loose = checks.map((c) => variants.some((v) => pyStrip(v) !== '' && c(v)));
  return {
    strict: { followAll: strict.every(Boolean), followList: strict },
    loose: { followAll: loose.every(Boolean), followList: loose },
  };
}
