// IFEval `keywords:*` instructions (KeywordChecker, KeywordFrequencyChecker, ForbiddenWords,
// LetterFrequencyChecker). Keywords are Python regexes in IFEval (`re.search(keyword, value, re.I)`); one that
// JavaScript cannot compile is matched literally.

import { compileUserPattern, cpLen, PY_B, pyLower, pyStrip } from '../py.ts';
import { compare, IfEvalArgError, int, relation, str, strList, type InstructionSpec } from './args.ts';

export const KEYWORD_INSTRUCTIONS: Record<string, InstructionSpec> = {
  /** Every keyword occurs (case-insensitive regex search). */
  'keywords:existence': {
    args: ['keywords'],
    build: (kw) => {
      const res = [...strList(kw, 'keywords')].sort().map((k) => compileUserPattern(k, 'i'));
      return (value) => res.every((re) => re.test(value));
    },
  },
  /** The keyword occurs `less than` / `at least` `frequency` times (case-insensitive regex findall). */
  'keywords:frequency': {
    args: ['keyword', 'frequency', 'relation'],
    build: (kw) => {
      const re = compileUserPattern(pyStrip(str(kw, 'keyword')), 'gi');
      const frequency = int(kw, 'frequency');
      const rel = relation(kw, 'relation');
      return (value) => {
        let n = 0;
        for (const m of value.matchAll(re)) {
          n++;
          if (m[0] === '') break; // a pattern matching "" is degenerate; do not loop
        }
        return compare(n, rel, frequency);
      };
    },
  },
  /** No forbidden word occurs as a whole word (`\bword\b`, case-insensitive). */
  'keywords:forbidden_words': {
    args: ['forbidden_words'],
    build: (kw) => {
      const words = [...new Set(strList(kw, 'forbidden_words'))].sort();
      const res = words.map((w) => compileUserPattern(`${PY_B}${w}${PY_B}`, 'iu'));
      return (value) => !res.some((re) => re.test(value));
    },
  },
  /** The letter (case-insensitive) occurs `less than` / `at least` `let_frequency` times. */
  'keywords:letter_frequency': {
    args: ['letter', 'let_frequency', 'let_relation'],
    build: (kw) => {
      const letter = str(kw, 'letter');
      if (cpLen(letter) !== 1 || !/^[a-z]$/.test(letter.toLowerCase()))
        throw new IfEvalArgError(`kwarg 'letter' must be one ASCII letter, got ${JSON.stringify(letter)}`);
      const l = letter.toLowerCase();
      const frequency = int(kw, 'let_frequency');
      const rel = relation(kw, 'let_relation');
      return (value) => {
        let n = 0;
        for (const c of pyLower(value)) if (c === l) n++;
        return compare(n, rel, frequency);
      };
    },
  },
};
