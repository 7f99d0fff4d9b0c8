// Never throw on model output: random strings, huge inputs, unbalanced and deeply nested braces, emoji, control
// characters, for every verifier; and stay fast on adversarial inputs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { INSTRUCTION_IDS, IF_FUNCTION_NAMES, verify, VERIFIER_NAMES } from '../../src/verifiers/index.ts';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '\\boxed{',
  '\\fbox{',
  '}',
  '{',
  '$',
  '\\frac',
  '\\sqrt',
  '\\left(',
  '\\right)',
  '^',
  '_',
  '\\text{ ',
  '\\\\',
  'Final Answer: The final answer is',
  '. I hope it is correct.',
  'The answer is ',
  '####',
  '1,234',
  '-5',
  '.5',
  '0.5',
  '/',
  '=',
  '*',
  '***',
  '******',
  '\n',
  '\n\n',
  ' ',
  '"',
  '<<',
  '>>',
  '[',
  ']',
  'P.S.',
  'SECTION 1',
  '```json',
  '😀',
  '👩‍👩‍👧',
  '\u0000',
  '\u0007',
  '\u001c',
  '\u2028',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  'é',
  '東京',
  'Привет',
  'مرحبا',
  'NaN',
  'Infinity',
  'x',
  'The',
  'a ',
  '\\dfrac12',
  '\\sqrt x',
  '^\\circ',
  '\\%',
  '</think>',
  '<think>',
];

function randomText(r: () => number, maxPieces: number): string {
  let s = '';
  const n = Math.floor(r() * maxPieces);
  for (let i = 0; i < n; i++) {
    if (r() < 0.3) s += String.fromCharCode(Math.floor(r() * 0x3000));
    else s += PIECES[Math.floor(r() * PIECES.length)]!;
  }
  return s;
}

/** A valid ground truth for each verifier. */
const GROUND_TRUTH: Record<string, unknown> = {
  gsm8k: '42',
  gsm8k_exact: '42',
  gsm8k_olmes: '42',
  gsm8k_cot_strict: '42',
  math: '\\frac{1}{2}',
  strict_math: '\\frac{1}{2}',
  math_lenient: '\\frac{1}{2}',
  flan: 'yes',
  ifeval: { instruction_id: ['punctuation:no_comma'], kwargs: [null] },
  ifeval_old: { func_name: 'validate_no_commas' },
  ifeval_strict: { instruction_id_list: ['punctuation:no_comma'], kwargs: [{}] },
  ifeval_loose: { instruction_id_list: ['punctuation:no_comma'], kwargs: [{}] },
};

/** Valid kwargs for every IFEval instruction and if_function, to fuzz each checker. */
const IFEVAL_KWARGS: Record<string, Record<string, unknown>> = {
  'keywords:existence': { keywords: ['a', 'b'] },
  'keywords:frequency': { keyword: 'a', frequency: 2, relation: 'at least' },
  'keywords:forbidden_words': { forbidden_words: ['x'] },
  'keywords:letter_frequency': { letter: 'a', let_frequency: 2, let_relation: 'less than' },
  'language:response_language': { language: 'en' },
  'length_constraints:number_sentences': { num_sentences: 2, relation: 'at least' },
  'length_constraints:number_paragraphs': { num_paragraphs: 2 },
  'length_constraints:number_words': { num_words: 3, relation: 'less than' },
  'length_constraints:nth_paragraph_first_word': { num_paragraphs: 2, nth_paragraph: 1, first_word: 'x' },
  'detectable_content:number_placeholders': { num_placeholders: 1 },
  'detectable_content:postscript': { postscript_marker: 'P.P.S' },
  'detectable_format:number_bullet_lists': { num_bullets: 1 },
  'detectable_format:number_highlighted_sections': { num_highlights: 1 },
  'detectable_format:multiple_sections': { section_spliter: 'SECTION', num_sections: 1 },
  'combination:repeat_prompt': { prompt_to_repeat: 'x' },
  'startend:end_checker': { end_phrase: 'x' },
  'change_case:capital_word_frequency': { capital_frequency: 1, capital_relation: 'at least' },
};
const IF_FUNCTION_ARGS: Record<string, Record<string, unknown>> = {
  verify_keywords: { keyword_list: ['a'] },
  verify_keyword_frequency: { word: 'a', N: 1 },
  validate_forbidden_words: { forbidden_words: ['a'] },
  verify_letter_frequency: { letter: 'a', N: 1 },
  validate_response_language: { language: 'en' },
  verify_paragraph_count: { N: 2 },
  validate_word_constraint: { N: 3, quantifier: 'around' },
  verify_sentence_constraint: { N: 3, quantifier: 'at least' },
  validate_paragraphs: { N: 2, first_word: 'a', i: 1 },
  verify_postscript: { postscript_marker: 'P.S.' },
  validate_placeholders: { N: 1 },
  verify_bullet_points: { N: 1 },
  validate_choice: { options: ['a'] },
  validate_highlighted_sections: { N: 1 },
  validate_sections: { N: 1, section_splitter: 'S' },
  validate_repeat_prompt: { original_prompt: 'a' },
  validate_frequency_capital_words: { N: 1, quantifier: 'at most' },
  validate_end: { end_phrase: 'a' },
};

function allCalls(output: string): void {
  for (const name of VERIFIER_NAMES) {
    const r = verify(name, output, GROUND_TRUTH[name]);
    assert.ok(r.score >= 0 && r.score <= 1 && typeof r.verified === 'boolean', name);
    assert.equal(r.details['internalError'], undefined, `${name}: ${String(r.details['internalError'])}`);
  }
  const ifRow = {
    instruction_id_list: [...INSTRUCTION_IDS],
    kwargs: INSTRUCTION_IDS.map((id) => IFEVAL_KWARGS[id] ?? {}),
  };
  verify('ifeval_loose', output, ifRow);
  for (const f of IF_FUNCTION_NAMES) verify('ifeval_old', output, { func_name: f, ...(IF_FUNCTION_ARGS[f] ?? {}) });
}

describe('never throws on model output', () => {
  it('covers every verifier in the fuzz table', () => {
    assert.deepEqual(Object.keys(GROUND_TRUTH).sort(), [...VERIFIER_NAMES].sort());
  });
  it('random strings (600 seeds)', () => {
    const r = rng(1234);
    for (let i = 0; i < 600; i++) allCalls(randomText(r, 40));
  });
  it('edge strings', () => {
    const edge = [
      '',
      ' ',
      '\n',
      '\u0000'.repeat(50),
      '{'.repeat(5000),
      '}'.repeat(5000),
      '\\boxed{'.repeat(2000),
      `\\boxed{${'{'.repeat(3000)}1${'}'.repeat(3000)}}`,
      `\\boxed{${'\\frac{1}{'.repeat(500)}2${'}'.repeat(500)}}`,
      `\\boxed{${'\\sqrt'.repeat(1000)}4}`,
      `\\boxed{${'('.repeat(1000)}1${')'.repeat(1000)}}`,
      '$'.repeat(1001),
      '😀'.repeat(1000),
      '\uD800\uD800',
      `\\boxed{${'2^'.repeat(500)}2}`,
      '\\boxed{99999999999999999999!}',
      '\\boxed{1/0}',
      '\\boxed{0^{-1}}',
      '\\boxed{\\frac{1}{0}}',
      '1,2,3,4,5,6,7',
      '-'.repeat(1000) + '5',
      `\\boxed{${'9'.repeat(1500)}}`,
      `\\boxed{${'x'.repeat(1500)}}`,
      `\\boxed{2^{${'9'.repeat(300)}}}`,
    ];
    for (const s of edge) allCalls(s);
  });
  it('huge inputs stay fast (1 MB adversarial lines)', () => {
    const big = [
      'Final Answer: The final answer is '.repeat(30000),
      '\\text{'.repeat(150000),
      '1'.repeat(1_000_000),
      `${'$x'.repeat(300000)}`,
      `${'\\boxed{'.repeat(100000)}${'a'.repeat(100000)}`,
      `${'* '.repeat(300000)}`,
      `${'a. '.repeat(300000)}`,
      `${'\\frac'.repeat(150000)}`,
      'the answer is '.repeat(70000),
      '1,'.repeat(400000),
    ];
    for (const s of big) {
      const t0 = performance.now();
      for (const name of VERIFIER_NAMES) verify(name, s, GROUND_TRUTH[name]);
      const ms = performance.now() - t0;
      assert.ok(ms < 8000, `${s.slice(0, 20)}…: ${ms.toFixed(0)} ms`);
    }
  });
  it('huge inputs through every IFEval instruction and if_function (300 kB)', () => {
    const big = [
      'a. '.repeat(100000),
      '* '.repeat(150000),
      '***\n'.repeat(75000),
      'A '.repeat(150000),
      '<<'.repeat(150000),
      '['.repeat(300000),
      'p. '.repeat(100000),
      '******'.repeat(50000),
      'x\n'.repeat(150000),
    ];
    for (const s of big) {
      const t0 = performance.now();
      allCalls(s);
      const ms = performance.now() - t0;
      assert.ok(ms < 8000, `${s.slice(0, 20)}…: ${ms.toFixed(0)} ms`);
    }
  });
});
