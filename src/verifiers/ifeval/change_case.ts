// IFEval `change_case:*` instructions (CapitalWordFrequencyChecker, CapitalLettersEnglishChecker,
// LowercaseLettersEnglishChecker). English detection is the heuristic of util.ts; undetectable text counts as
// following, as in IFEval.

import { pyIsLower, pyIsUpper } from '../py.ts';
import { countRelation, type InstructionSpec } from './args.ts';
import { detectLanguage, wordTokenize } from './util.ts';

function isEnglishOrUndetectable(value: string): boolean {
  const l = detectLanguage(value);
  return l === null || l === 'en';
}

export const CHANGE_CASE_INSTRUCTIONS: Record<string, InstructionSpec> = {
  /** Words in all capitals (nltk-style tokens that are `isupper()`) appear less than / at least N times. */
  'change_case:capital_word_frequency': countRelation(
    'capital_frequency',
    'capital_relation',
    (value) => wordTokenize(value).filter(pyIsUpper).length,
  ),
  /** All capital letters (`isupper()`), and English. */
  'change_case:english_capital': {
    args: [],
    build: () => (value) => pyIsUpper(value) && isEnglishOrUndetectable(value),
  },
  /** All lower-case letters (`islower()`), and English. */
  'change_case:english_lowercase': {
    args: [],
    build: () => (value) => pyIsLower(value) && isEnglishOrUndetectable(value),
  },
};
