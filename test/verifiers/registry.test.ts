// The registry: names, case-insensitive lookup, unknown names, results shape.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getVerifier, verify, VERIFIER_NAMES } from '../../src/verifiers/index.ts';

describe('verifier registry', () => {
  it('knows the open-instruct names and the evaluation variants', () => {
    for (const n of [
      'gsm8k',
      'math',
      'strict_math',
      'ifeval',
      'ifeval_old',
      'flan',
      'ifeval_strict',
      'ifeval_loose',
      'gsm8k_olmes',
    ])
      assert.ok(VERIFIER_NAMES.includes(n), n);
  });
  it('looks names up case-insensitively (RLVR rows say "MATH")', () => {
    assert.equal(verify('MATH', '\\boxed{2}', '2').verified, true);
    assert.equal(verify('GSM8K', '2', '2').verified, true);
  });
  it('an unknown name lists the known ones', () => {
    assert.throws(() => getVerifier('code'), /unknown verifier "code"; known verifiers: gsm8k, .*math.*ifeval/);
    assert.throws(() => verify('nope', 'x', 'y'), /known verifiers/);
  });
  it('returns score, verified and details', () => {
    const r = verify('gsm8k', 'The answer is 42.', '42');
    assert.deepEqual(Object.keys(r).sort(), ['details', 'score', 'verified']);
    assert.equal(r.score, 1);
    assert.equal(verify('gsm8k', 'The answer is 41.', '42').score, 0);
  });
  it('treats non-string output as empty', () => {
    assert.equal(verify('gsm8k', undefined, '1').verified, false);
    assert.equal(verify('math', 42, '42').verified, false);
  });
  it('flan: text after "The answer is: ", SQuAD-normalised', () => {
    assert.equal(verify('flan', 'Reasoning... The answer is: The Eiffel Tower.', 'eiffel tower').verified, true);
    assert.equal(verify('flan', 'The answer is: Paris', 'London').verified, false);
  });
});
