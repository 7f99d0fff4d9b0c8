// The 25 open-instruct if_functions (Tülu 3 RLVR ground truth `{"func_name": ..., args}`), through `ifeval_old`:
// pass and fail examples for each, and argument errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IF_FUNCTION_NAMES, verify, VerifierGroundTruthError } from '../../src/verifiers/index.ts';

type Case = { args: Record<string, unknown>; pass: string[]; fail: string[] };

const CASES: Record<string, Case> = {
  verify_keywords: { args: { keyword_list: ['Cat', 'dog'] }, pass: ['cats and DOGS'], fail: ['cats only'] },
  verify_keyword_frequency: {
    args: { word: 'cat', N: 2 },
    pass: ['Cat, cat; concatenate.'],
    fail: ['cat', 'cat cat cat'],
  },
  validate_forbidden_words: { args: { forbidden_words: ['bad'] }, pass: ['good'], fail: ['a badge'] },
  verify_letter_frequency: { args: { letter: 'a', N: 2 }, pass: ['bAnana'], fail: ['banana', 'bb'] },
  validate_response_language: {
    args: { language: 'en' },
    pass: ['This is a sentence in English with the usual words.'],
    fail: ['Das ist ein Satz auf Deutsch und nicht auf Englisch.', '123'],
  },
  verify_paragraph_count: {
    args: { N: 2 },
    pass: ['a\n* * *\nb', '  a  \n  * * *  \n  b  '],
    fail: ['a\n* * *\n\n* * *\nb', 'a', 'a\n* * *\n'],
  },
  // N = 25: tolerance max(round(2.5), 1) = 2 (Python rounds half to even)
  validate_word_constraint: {
    args: { N: 25, quantifier: 'around' },
    pass: ['w '.repeat(23), 'w '.repeat(27)],
    fail: ['w '.repeat(22), 'w '.repeat(28)],
  },
  verify_sentence_constraint: {
    args: { N: 2, quantifier: 'at most' },
    pass: ['One. Two.', 'Mr. Smith left. Bye.'],
    fail: ['One. Two. Three.'],
  },
  validate_paragraphs: {
    args: { N: 2, first_word: 'Then', i: 2 },
    pass: ['A\n\nThen B'],
    fail: ['A\n\nthen B', 'A\n\nThen B\n\nC', 'A Then'],
  },
  verify_postscript: {
    args: { postscript_marker: 'P.S.' },
    pass: ['Hi.\nP.S. see you'],
    fail: ['Hi.\nP.S.', 'Hi. PS x'],
  },
  validate_placeholders: { args: { N: 2 }, pass: ['[a] and [b]'], fail: ['[a] only'] },
  verify_bullet_points: { args: { N: 2 }, pass: ['* a\n- b', '  * a\n  * b\ntext'], fail: ['* a', '* a\n* b\n- c'] },
  validate_title: { args: {}, pass: ['<<T>> body', '<<>>'], fail: ['<T> body', '<<a\nb>>'] },
  validate_choice: {
    args: { options: ['My answer is yes.', 'My answer is no.'] },
    pass: ['My answer is yes.', 'yes'],
    fail: ['My answer is yes. Because.'],
  },
  validate_highlighted_sections: { args: { N: 2 }, pass: ['*a* *b*', '**'.repeat(2)], fail: ['*a*', 'none'] },
  validate_sections: {
    args: { N: 2, section_splitter: 'SECTION' },
    pass: ['SECTION 1 a SECTION 2 b', 'intro SECTION 1 a'],
    fail: ['SECTION 1 a', 'SECTION 1 a SECTION 2 b SECTION 3 c'],
  },
  validate_json_format: { args: {}, pass: ['{"a": 1}', ' [1] '], fail: ['```json\n{"a": 1}\n```', '{a: 1}'] },
  validate_repeat_prompt: {
    args: { original_prompt: 'Say hi.' },
    pass: ['Say hi. Hi!'],
    fail: ['say hi. Hi!', 'Hi. Say hi.'],
  },
  validate_two_responses: { args: {}, pass: ['A ****** B'], fail: ['A ****** A', 'A ****** B ****** C', 'A'] },
  validate_uppercase: { args: {}, pass: ['HELLO, WORLD 1', '123'], fail: ['Hello'] },
  validate_lowercase: { args: {}, pass: ['hello, world 1', '123'], fail: ['Hello'] },
  validate_frequency_capital_words: {
    args: { N: 2, quantifier: 'around' },
    pass: ['NASA and USA'],
    fail: ['NASA', 'NASA USA FBI'],
  },
  validate_end: { args: { end_phrase: 'Bye.' }, pass: ['OK. Bye.', 'OK. Bye.  \n'], fail: ['OK. Bye!', 'OK. bye.'] },
  validate_quotation: { args: {}, pass: ['"quoted"', '"'], fail: [' "quoted"', 'quoted'] },
  validate_no_commas: { args: {}, pass: ['no commas'], fail: ['a, b'] },
};

describe('ifeval_old: the 25 Tülu 3 if_functions', () => {
  it('covers all 25', () => {
    assert.equal(IF_FUNCTION_NAMES.length, 25);
    assert.deepEqual([...IF_FUNCTION_NAMES].sort(), Object.keys(CASES).sort());
  });
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const gt = { func_name: name, ...c.args };
      for (const p of c.pass)
        assert.equal(verify('ifeval_old', p, gt).verified, true, `should pass: ${JSON.stringify(p)}`);
      for (const f of c.fail)
        assert.equal(verify('ifeval_old', f, gt).verified, false, `should fail: ${JSON.stringify(f)}`);
    });
  }
  it('checks the answer with surrounding whitespace and any <think> section removed', () => {
    assert.equal(
      verify('ifeval_old', '<think>ramble</think>\n Say hi. Hi!', {
        func_name: 'validate_repeat_prompt',
        original_prompt: 'Say hi.',
      }).verified,
      true,
    );
  });
  it('accepts a JSON string and drops null args', () => {
    const gt = JSON.stringify({ func_name: 'validate_no_commas', N: null, quantifier: null });
    assert.equal(verify('ifeval_old', 'fine', gt).verified, true);
  });
  it('word-count "around" tolerance uses Python round (half to even)', () => {
    // N = 5: 0.1 * 5 = 0.5 -> round() = 0 -> max(0, 1) = 1
    const gt = { func_name: 'validate_word_constraint', N: 5, quantifier: 'around' };
    assert.equal(verify('ifeval_old', 'a b c d e f', gt).verified, true);
    assert.equal(verify('ifeval_old', 'a b c d e f g', gt).verified, false);
    // an unknown quantifier is simply not met, as in the reference
    assert.equal(
      verify('ifeval_old', 'a', { func_name: 'validate_word_constraint', N: 1, quantifier: 'exactly' }).verified,
      false,
    );
  });
  it('placeholders return a real boolean (the Tülu 3 tuple bug is not reproduced)', () => {
    assert.equal(verify('ifeval_old', 'no placeholders', { func_name: 'validate_placeholders', N: 1 }).verified, false);
  });
  it('bad ground truth throws clear errors', () => {
    const bad = (gt: unknown, re: RegExp): void =>
      assert.throws(
        () => verify('ifeval_old', 'x', gt),
        (e: unknown) => e instanceof VerifierGroundTruthError && re.test(e.message),
      );
    bad({ func_name: 'nope' }, /unknown func_name 'nope'.*verify_keywords/);
    bad({ N: 3 }, /missing 'func_name'/);
    bad({ func_name: 'validate_placeholders' }, /missing argument 'N'/);
    bad({ func_name: 'validate_placeholders', N: 1, M: 2 }, /unexpected argument 'M'/);
    bad({ func_name: 'verify_letter_frequency', letter: 'ab', N: 1 }, /single character/);
    bad({ func_name: 'validate_paragraphs', N: 2, first_word: 'a', i: 3 }, /must index/);
    bad({ func_name: 'validate_placeholders', N: 'two' }, /must be a number/);
    bad('{oops', /neither JSON/);
  });
});
