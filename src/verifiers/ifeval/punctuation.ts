// IFEval `punctuation:no_comma` (CommaChecker).

import type { InstructionSpec } from './args.ts';

export const PUNCTUATION_INSTRUCTIONS: Record<string, InstructionSpec> = {
  /** No ASCII comma anywhere. */
  'punctuation:no_comma': {
    args: [],
    build: () => (value) => !value.includes(','),
  },
};
