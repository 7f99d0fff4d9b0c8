// IFEval `language:response_language` (ResponseLanguageChecker). IFEval calls `langdetect.detect`; here the
// heuristic `detectLanguage` (see util.ts). As in IFEval, text whose language cannot be detected (no letters)
// counts as following the instruction.

import { str, type InstructionSpec } from './args.ts';
import { detectLanguage } from './util.ts';

export const LANGUAGE_INSTRUCTIONS: Record<string, InstructionSpec> = {
  'language:response_language': {
    args: ['language'],
    build: (kw) => {
      const language = str(kw, 'language');
      return (value) => {
        const detected = detectLanguage(value);
        return detected === null ? true : detected === language;
      };
    },
  },
};
