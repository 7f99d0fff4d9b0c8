// GSM8K verifiers: the open-instruct, olmes and lm-eval extraction rules, and a table of tricky cases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalDecimal,
  extractAnswerIsStrict,
  extractFlexible,
  extractLastNumber,
  gsm8kEmNormalize,
  verify,
  VerifierGroundTruthError,
} from '../../src/verifiers/index.ts';

describe('GSM8K extraction', () => {
  it('reproduces open-instruct last-number extraction, quirks included', () => {
    assert.equal(extractLastNumber('so 1,234,567 apples').answer, '1234567');
    assert.equal(extractLastNumber('1,2,3').answer, '3'); // re.sub does not overlap: "12,3"
    assert.equal(extractLastNumber('costs $18.50.').answer, '18.50');
    assert.equal(extractLastNumber('it is -5').answer, '5'); // sign binds to decimals only in the reference regex
    assert.equal(extractLastNumber('it is -5.5').answer, '-5.5');
    assert.equal(extractLastNumber('it is -5', true).answer, '-5');
    assert.equal(extractLastNumber('10-3', true).answer, '3');
    assert.equal(extractLastNumber('.5 of it').answer, '.5');
    assert.deepEqual(extractLastNumber('no digits here'), { answer: 'no digits here', found: false });
  });
  it('lm-eval strict and flexible rules', () => {
    // greedy [0-9.,]+ keeps the period; the metric's `\.$` removes it
    assert.equal(extractAnswerIsStrict('The answer is 1,234. Then The answer is 7.'), '1,234.');
    assert.equal(extractAnswerIsStrict('answer: 5'), null);
    assert.equal(extractFlexible('paid $1,234.'), '$1,234.');
    assert.equal(gsm8kEmNormalize('$1,234.'), '1234');
    assert.equal(gsm8kEmNormalize('blah #### 72'), '72');
  });
  it('canonical decimals', () => {
    assert.equal(canonicalDecimal('-0012.500'), '-12.5');
    assert.equal(canonicalDecimal('+3'), '3');
    assert.equal(canonicalDecimal('-0.0'), '0');
    assert.equal(canonicalDecimal('.5'), '0.5');
    assert.equal(canonicalDecimal('.'), null);
    assert.equal(canonicalDecimal('1e3'), null);
  });
});

// [output, ground truth, gsm8k, gsm8k_exact, gsm8k_olmes, gsm8k_cot_strict]
const TABLE: Array<[string, string, boolean, boolean, boolean, boolean]> = [
  ['Total: 1,234 dollars', '1234', true, true, true, false],
  ['The answer is 1,234.', '1234', true, true, true, true],
  ['The answer is $18.', '18', true, true, true, false], // strict regex needs a digit right after "is "
  ['He has 18.0 now', '18', true, false, false, false],
  ['so the change is -5', '-5', true, false, false, false],
  ['so the change is -5.', '-5', true, false, false, false],
  ['The answer is -5.', '-5', true, false, false, true],
  ['half: 0.5', '.5', true, false, false, false],
  ['50% of them', '50', true, true, true, false],
  ['The answer is 5. Check: 5 + 1 = 6', '5', false, false, false, true],
  ['The answer is 6', '6', true, true, true, false], // strict needs a character after the number
  ['no number at all', '3', false, false, false, false],
  ['3 apples and 4 pears', '4', true, true, true, false],
  ['a million: 1,000,000', '1000000', true, true, true, false],
];

describe('GSM8K verifiers: tricky cases', () => {
  for (const [out, gt, def, exact, olmes, strict] of TABLE) {
    it(`${JSON.stringify(out)} vs ${gt}`, () => {
      assert.equal(verify('gsm8k', out, gt).verified, def, 'gsm8k');
      assert.equal(verify('gsm8k_exact', out, gt).verified, exact, 'gsm8k_exact');
      assert.equal(verify('gsm8k_olmes', out, gt).verified, olmes, 'gsm8k_olmes');
      assert.equal(verify('gsm8k_cot_strict', out, gt).verified, strict, 'gsm8k_cot_strict');
    });
  }
  it('accepts ground truth as a number, with separators, "$", or a full "#### N" solution', () => {
    assert.equal(verify('gsm8k', 'it is 1234', 1234).verified, true);
    assert.equal(verify('gsm8k', 'it is 1234', '1,234').verified, true);
    assert.equal(verify('gsm8k', 'it is 1234', '$1,234').verified, true);
    assert.equal(verify('gsm8k', 'it is 72', 'Natalia sold 48/2 = 24 clips.\n#### 72').verified, true);
    const r = verify('gsm8k', 'it is 72', '72');
    assert.equal(r.score, 1);
    assert.equal(r.details['extracted'], '72');
  });
  it('rejects bad ground truth with a clear error', () => {
    assert.throws(
      () => verify('gsm8k', 'x', 'seventy'),
      (e: unknown) => e instanceof VerifierGroundTruthError && /gsm8k.*expected a number.*seventy/.test(e.message),
    );
    assert.throws(() => verify('gsm8k', 'x', { a: 1 }), VerifierGroundTruthError);
    assert.throws(() => verify('gsm8k', 'x', null), VerifierGroundTruthError);
  });
});
