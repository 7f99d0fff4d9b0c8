// IFEval `combination:*` instructions (TwoResponsesChecker, RepeatPromptThenAnswer).

import { pyStrip } from '../py.ts';
import { str, type InstructionSpec } from './args.ts';

export const COMBINATION_INSTRUCTIONS: Record<string, InstructionSpec> = {
  /** Exactly two different non-empty responses separated by "******" (empty pieces only at either end). */
  'combination:two_responses': {
    args: [],
    build: () => (value) => {
      const valid: string[] = [];
      const responses = value.split('******');
      for (let i = 0; i < responses.length; i++) {
        const r = responses[i]!;
        if (pyStrip(r) === '') {
          if (i !== 0 && i !== responses.length - 1) return false;
        } else valid.push(r);
      }
      return valid.length === 2 && pyStrip(valid[0]!) !== pyStrip(valid[1]!);
    },
  },
  /** Starts with the prompt, repeated word for word (case-insensitive, surrounding whitespace ignored). */
  'combination:repeat_prompt': {
    args: ['prompt_to_repeat'],
    build: (kw) => {
      const prompt = pyStrip(str(kw, 'prompt_to_repeat')).toLowerCase();
      return (value) => pyStrip(value).toLowerCase().startsWith(prompt);
    },
  },
};
