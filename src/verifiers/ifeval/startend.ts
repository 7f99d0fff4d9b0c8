// IFEval `startend:*` instructions (EndChecker, QuotationChecker).

import { pyStrip, pyStripChars } from '../py.ts';
import { str, type InstructionSpec } from './args.ts';

export const STARTEND_INSTRUCTIONS: Record<string, InstructionSpec> = {
  /** Ends with the phrase (case-insensitive; surrounding whitespace and double quotes ignored). */
  'startend:end_checker': {
    args: ['end_phrase'],
    build: (kw) => {
      const phrase = pyStrip(pyStrip(str(kw, 'end_phrase'))).toLowerCase();
      return (value) => pyStripChars(pyStrip(value), '"').toLowerCase().endsWith(phrase);
    },
  },
  /** Wrapped in double quotation marks (after stripping whitespace; at least two characters). */
  'startend:quotation': {
    args: [],
    build: () => (value) => {
      const v = pyStrip(value);
      return v.length > 1 && v.startsWith('"') && v.endsWith('"');
    },
  },
};
