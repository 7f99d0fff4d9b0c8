// IFEval `detectable_content:*` instructions (PlaceholderChecker, PostscriptChecker).

import { compileUserPattern, countDelimitedOnLine, pyLower, pyStrip } from '../py.ts';
import { int, str, type InstructionSpec } from './args.ts';

export const CONTENT_INSTRUCTIONS: Record<string, InstructionSpec> = {
  /** At least N `[...]` placeholders (non-greedy, within a line). */
  'detectable_content:number_placeholders': {
    args: ['num_placeholders'],
    build: (kw) => {
      const n = int(kw, 'num_placeholders');
      return (value) => countDelimitedOnLine(value, '[', ']') >= n;
    },
  },
  /**
   * A postscript: "P.S." / "P.P.S" (spacing-tolerant) or the given marker, anywhere, case-insensitive. IFEval's
   * pattern has no line anchor, so the marker may appear mid-line.
   */
  'detectable_content:postscript': {
    args: ['postscript_marker'],
    build: (kw) => {
      const marker = pyStrip(str(kw, 'postscript_marker'));
      const re =
        marker === 'P.P.S'
          ? /p\.\s?p\.\s?s/u
          : marker === 'P.S.'
            ? /p\.\s?s\./u
            : compileUserPattern(pyLower(marker), 'u');
      return (value) => re.test(pyLower(value));
    },
  },
};
