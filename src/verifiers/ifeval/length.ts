// IFEval `length_constraints:*` instructions (NumberOfSentences, ParagraphChecker, NumberOfWords,
// ParagraphFirstWordCheck). Sentence counting is Punkt-like, not Punkt (see util.ts).

import { PY_S, pySplit, pyStrip, pyStripChars } from '../py.ts';
import { countRelation, IfEvalArgError, int, str, type InstructionSpec } from './args.ts';
import { countSentences, countWords } from './util.ts';

const PARAGRAPH_DIVIDER = new RegExp(`${PY_S}?\\*\\*\\*${PY_S}?`, 'u');

export const LENGTH_INSTRUCTIONS: Record<string, InstructionSpec> = {
  'length_constraints:number_sentences': countRelation('num_sentences', 'relation', countSentences),
  /** Exactly N paragraphs separated by the markdown divider `***`; empty paragraphs only at either end. */
  'length_constraints:number_paragraphs': {
    args: ['num_paragraphs'],
    build: (kw) => {
      const n = int(kw, 'num_paragraphs');
      return (value) => {
        const paragraphs = value.split(PARAGRAPH_DIVIDER);
        let count = paragraphs.length;
        for (let i = 0; i < paragraphs.length; i++) {
          if (pyStrip(paragraphs[i]!) === '') {
            if (i === 0 || i === paragraphs.length - 1) count--;
            else return false;
          }
        }
        return count === n;
      };
    },
  },
  'length_constraints:number_words': countRelation('num_words', 'relation', countWords),
  /** N paragraphs separated by "\n\n"; paragraph `nth_paragraph` (1-based) starts with `first_word`. */
  'length_constraints:nth_paragraph_first_word': {
    args: ['num_paragraphs', 'nth_paragraph', 'first_word'],
    build: (kw) => {
      const num = int(kw, 'num_paragraphs');
      const nth = int(kw, 'nth_paragraph', 1);
      if (nth > num) throw new IfEvalArgError(`kwarg 'nth_paragraph' (${nth}) exceeds 'num_paragraphs' (${num})`);
      const firstWord = str(kw, 'first_word').toLowerCase();
      return (value) => {
        const paragraphs = value.split('\n\n');
        let count = paragraphs.length;
        for (const p of paragraphs) if (pyStrip(p) === '') count--;
        if (nth > count) return false;
        const paragraph = pyStrip(paragraphs[nth - 1]!);
        if (paragraph === '') return false;
        let word = pyStrip(pySplit(paragraph)[0]!);
        word = pyStripChars(word, "'", 'left');
        word = pyStripChars(word, '"', 'left');
        let first = '';
        for (const letter of word) {
          if ('.,?!\'"'.includes(letter)) break;
          first += letter.toLowerCase();
        }
        return count === num && first === firstWord;
      };
    },
  },
};
