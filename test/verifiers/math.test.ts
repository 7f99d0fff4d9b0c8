// MATH verifiers: extraction (boxed, \fbox, Minerva, last $...$, "the answer is"), the Minerva and Hendrycks
// normalisers, the LaTeX evaluator that stands in for sympy, and a table of tricky cases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  extractAnswerIs,
  extractBoxed,
  extractLastDollarSpan,
  extractMinervaAnswer,
  hendrycksIsEquiv,
  lastBoxedOnlyString,
  latexEquivalent,
  mathFlexCandidates,
  normalizeFinalAnswer,
  stripString,
  verify,
  VerifierGroundTruthError,
} from '../../src/verifiers/index.ts';

describe('MATH extraction', () => {
  it('last \\boxed{} with nested braces', () => {
    assert.equal(extractBoxed('first \\boxed{1} then \\boxed{\\frac{1}{\\sqrt{2}}} done'), '\\frac{1}{\\sqrt{2}}');
    assert.equal(extractBoxed('\\boxed{{a}{b}}'), '{a}{b}');
  });
  it('unbalanced braces give nothing', () => {
    assert.equal(extractBoxed('\\boxed{\\frac{1}{2}'), null);
    assert.equal(lastBoxedOnlyString('\\boxed{'), null);
  });
  it('\\boxed with a space form, checked first as in the reference', () => {
    assert.equal(lastBoxedOnlyString('so \\boxed 5$ and'), '\\boxed 5');
    assert.equal(extractBoxed('so \\boxed 5$ and'), '5');
  });
  it('\\fbox is accepted when there is no \\boxed', () => {
    assert.equal(extractBoxed('\\fbox{12}'), '12');
    assert.equal(extractBoxed('\\fbox{12} \\boxed{3}'), '3');
  });
  it('Minerva form', () => {
    assert.equal(
      extractMinervaAnswer('Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.'),
      '$\\frac{3}{4}$',
    );
    assert.equal(extractMinervaAnswer('Final Answer: The final answer is 7. I hope it is correct.\nmore'), '7');
    // the reference appends "I hope it is correct." without a space, so a bare "... is 7." does not match
    assert.equal(extractMinervaAnswer('Final Answer: The final answer is 7.'), null);
    assert.equal(extractMinervaAnswer('Final Answer: The final answer is 7. '), '7');
    assert.equal(extractMinervaAnswer('Final Answer: The final answer is 7\nI hope it is correct.'), null);
    assert.equal(extractMinervaAnswer('The final answer is 7.'), null);
  });
  it('last $...$ span and "the answer is"', () => {
    assert.equal(extractLastDollarSpan('we get $x$ and $y=2$.'), 'y=2');
    assert.equal(extractLastDollarSpan('costs $5'), null);
    assert.equal(extractAnswerIs('So the answer is $\\frac{1}{2}$.'), '\\frac{1}{2}');
    assert.equal(extractAnswerIs('The answer is: 42. Done.'), '42');
    assert.equal(extractAnswerIs('nothing'), null);
  });
  it('flex candidate order: boxed and Minerva; last span only when neither', () => {
    assert.deepEqual(
      mathFlexCandidates('$1$ and \\boxed{2}').map((c) => c.source),
      ['boxed'],
    );
    assert.deepEqual(
      mathFlexCandidates('$1$ and $2$').map((c) => c.source),
      ['last_dollar_span'],
    );
    assert.deepEqual(
      mathFlexCandidates('just 3').map((c) => c.source),
      ['normalized_output', 'raw_output'],
    );
  });
});

describe('MATH normalisers', () => {
  it('Minerva normalize_final_answer', () => {
    assert.equal(normalizeFinalAnswer('x = 5'), '5');
    assert.equal(normalizeFinalAnswer('\\text{5 inches}'), '5');
    assert.equal(normalizeFinalAnswer('1,000,000'), '1000000');
    assert.equal(normalizeFinalAnswer('\\frac12'), '\\frac{1}{2}');
    assert.equal(normalizeFinalAnswer('\\sqrt3'), '\\sqrt{3}');
    assert.equal(normalizeFinalAnswer('$\\boxed{10}$'), '10');
    assert.equal(normalizeFinalAnswer('90^\\circ'), '90');
  });
  it('Hendrycks strip_string', () => {
    assert.equal(stripString('\\dfrac{1}{2}'), '\\frac{1}{2}');
    assert.equal(stripString('0.5'), '\\frac{1}{2}');
    assert.equal(stripString('3/4'), '\\frac{3}{4}');
    assert.equal(stripString('\\left( 1, 2 \\right)'), '(1,2)');
    assert.equal(stripString('5 \\text{ cm}'), '5');
    assert.equal(stripString('50\\%'), '50');
    assert.equal(stripString('.5'), '\\frac{1}{2}');
    assert.equal(stripString('k = 7'), '7');
    assert.equal(stripString('\\sqrt2'), '\\sqrt{2}');
    assert.equal(stripString('x/y'), null); // int() raises in the reference
    assert.equal(stripString('\\frac'), null);
    assert.equal(hendrycksIsEquiv('x/y', 'x/y'), true); // falls back to raw equality
    assert.equal(hendrycksIsEquiv('\\tfrac{1}{2}', '1/2'), true);
  });
});

describe('LaTeX equivalence (sympy stand-in)', () => {
  const yes: Array<[string, string]> = [
    ['0.5', '\\frac{1}{2}'],
    ['\\frac12', '1/2'],
    ['2\\sqrt{2}', '\\sqrt{8}'],
    ['\\sqrt x', '\\sqrt{x}'],
    ['x+1', '1+x'],
    ['(x+1)^2', 'x^2+2x+1'],
    ['\\frac{x^2-1}{x-1}', 'x+1'],
    ['2^{10}', '1024'],
    ['\\sin^2 x+\\cos^2 x', '1'],
    ['3!', '6'],
    ['\\sqrt[3]{27}', '3'],
    ['-\\frac{3}{4}', '-0.75'],
    ['\\left(\\frac{1}{2}\\right)^{2}', '0.25'],
    ['\\pi r^2', 'r^2\\pi'],
    ['\\dfrac{\\sqrt{3}}{2}', '\\frac{\\sqrt3}{2}'],
  ];
  const no: Array<[string, string]> = [
    ['0.333', '\\frac{1}{3}'],
    ['x+1', 'y+1'],
    ['12345678901234567890', '12345678901234567891'],
    ['x=3', '3'],
    ['(1,2)', '(1,2)'],
    ['5\\text{ cm}', '5'],
    ['\\infty', '\\infty'],
    ['', ''],
    ['2^{100000}', '2^{100000}'],
  ];
  for (const [a, b] of yes) it(`${a} == ${b}`, () => assert.equal(latexEquivalent(a, b), true));
  for (const [a, b] of no) it(`${a} is not shown equal to ${b}`, () => assert.equal(latexEquivalent(a, b), false));
});

// [output, ground truth, math (flex), strict_math, math_lenient]
const TABLE: Array<[string, string, boolean, boolean, boolean]> = [
  ['Thus $x = \\boxed{\\frac{1}{2}}$.', '0.5', true, false, true],
  ['Thus $x = \\boxed{0.5}$.', '\\frac{1}{2}', true, false, true],
  ['\\boxed{\\dfrac{1}{2}}', '\\frac12', true, true, true],
  ['\\boxed{1/2}', '\\frac{1}{2}', true, true, true],
  ['\\boxed{2\\sqrt{2}}', '\\sqrt{8}', true, true, true],
  ['\\boxed{5 \\text{ cm}}', '5', true, true, true],
  ['\\boxed{90^\\circ}', '90', true, true, true],
  ['\\boxed{50\\%}', '50', true, true, true],
  ['\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}', '\\left( 3, \\frac{\\pi}{2} \\right)', true, false, true],
  ['Final Answer: The final answer is $42$. I hope it is correct.', '42', true, true, true],
  ['Final Answer: The final answer is 5 inches. I hope it is correct.', '5', true, true, true],
  ['Final Answer: The final answer is 1,000. I hope it is correct.', '1000', true, true, true],
  ['First $3$, finally $\\frac{3}{4}$', '\\frac34', true, false, true],
  ['\\fbox{7}', '7', true, false, true],
  ['\\boxed{0.333}', '\\frac{1}{3}', false, false, false],
  ['\\boxed{3} but Final Answer: The final answer is 4. I hope it is correct.', '4', true, true, true],
  ['So the answer is 7.', '7', false, false, true],
  ['\\boxed{\\frac{1}{2}', '\\frac{1}{2}', false, false, false],
  ['The result is $x+1$.', '1+x', true, true, true], // strict: whole output normalised to the $...$ span
];

describe('MATH verifiers: tricky cases', () => {
  for (const [out, gt, flex, strict, lenient] of TABLE) {
    it(`${JSON.stringify(out)} vs ${gt}`, () => {
      assert.equal(verify('math', out, gt).verified, flex, 'math');
      assert.equal(verify('strict_math', out, gt).verified, strict, 'strict_math');
      assert.equal(verify('math_lenient', out, gt).verified, lenient, 'math_lenient');
    });
  }
  it('bad ground truth throws a clear error', () => {
    assert.throws(
      () => verify('math', 'x', ''),
      (e: unknown) => e instanceof VerifierGroundTruthError && /math/.test(e.message),
    );
    assert.throws(() => verify('math', 'x', { answer: 1 }), VerifierGroundTruthError);
  });
  it('details say which candidate matched', () => {
    const r = verify('math', '\\boxed{4}', '4');
    assert.deepEqual(r.details['matched'], { source: 'boxed', answer: '4' });
  });
});
