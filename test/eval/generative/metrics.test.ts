// Hand-computed cases for the generative metrics: the official DROP F1/EM (number normalisation, multi-span
// alignment, the number gate, Python rounding), GSM8K answer extraction under the OLMES rule and lm-eval's
// strict/flexible rules, and TriviaQA's SQuAD v1.1 EM/F1 over aliases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alignBags,
  answerToBags,
  dropGetMetrics,
  dropMetrics,
  dropNormalize,
  maxAssignment,
  pyFloatRepr,
  pyParseFloat,
  pyRound2,
} from '../../../src/eval/drop-metric.ts';
import { cutAtStop } from '../../../src/eval/kinds/olmes-generative.ts';
import { squadNormalizePy, squadV1ExactMatch, squadV1F1 } from '../../../src/eval/text-metrics.ts';
import { gsm8kScore } from '../../../src/eval/tasks/gsm8k.ts';
import { triviaqaScore } from '../../../src/eval/tasks/triviaqa.ts';

test('Python float parsing and repr as DROP uses them (str(float(x)))', () => {
  for (const [s, r] of [
    ['2', '2.0'],
    ['3.50', '3.5'],
    ['1e3', '1000.0'],
    ['1_000', '1000.0'],
    ['+7', '7.0'],
    ['.5', '0.5'],
    ['5.', '5.0'],
    ['158203', '158203.0'],
    ['0.0001', '0.0001'],
    ['0.00001', '1e-05'],
    ['1e16', '1e+16'],
    ['123456789012345678', '1.2345678901234568e+17'],
    ['inf', 'inf'],
    ['nan', 'nan'],
    ['-0', '-0.0'],
  ] as const) {
    const v = pyParseFloat(s);
    assert.notEqual(v, null, s);
    assert.equal(pyFloatRepr(v!), r, s);
  }
  for (const s of ['1,000', '$5', '', '1__0', '_1', '1e', 'e5', '0x10', 'five', '3.5.'])
    assert.equal(pyParseFloat(s), null, s);
});

test('Python round(x, 2): exact binary ties go to the even digit, everything else to the nearest', () => {
  assert.equal(pyRound2(0.125), 0.12);
  assert.equal(pyRound2(0.375), 0.38);
  assert.equal(pyRound2(0.625), 0.62);
  assert.equal(pyRound2(2.675), 2.67); // 2.67499999… in binary
  assert.equal(pyRound2(0.675), 0.68); // 0.67500000…04
  assert.equal(pyRound2(2 / 3), 0.67);
  assert.equal(pyRound2(0.5), 0.5);
});

test('DROP answer normalisation: per token, numbers canonical, punctuation and articles dropped, hyphens split', () => {
  assert.equal(dropNormalize('The 1,000 Yards'), '1000.0 yards');
  assert.equal(dropNormalize(' Well-known   fact.'), 'well known fact');
  assert.equal(dropNormalize('3.50'), '3.5');
  assert.equal(dropNormalize('an apple and a pear'), 'apple and pear');
  assert.equal(dropNormalize('$5%'), '5.0');
  assert.equal(dropNormalize('3.5.'), '35.0'); // not a number → punctuation removed → "35" (official behaviour)
  assert.equal(dropNormalize('the'), '');
  assert.equal(dropNormalize('théa'), 'théa'); // no Unicode word boundary inside "théa"
  assert.deepEqual(
    answerToBags(['Nate Kaeding', 'the 2']).bags.map((b) => [...b]),
    [['nate', 'kaeding'], ['2.0']],
  );
});

test('DROP F1/EM, hand-computed', () => {
  // numbers: "2" and "2.0" normalise alike
  assert.deepEqual(dropGetMetrics('2.0', ['2']), { exact_match: 1, f1: 1 });
  // the number gate: a gold with numbers scores 0 against a prediction without them
  assert.deepEqual(dropGetMetrics('two', ['2']), { exact_match: 0, f1: 0 });
  assert.deepEqual(dropGetMetrics('19 yards', ['18 yards']), { exact_match: 0, f1: 0 });
  // "18" vs "18 yards": p = 1, r = 1/2 → F1 = 2/3 → 0.67
  assert.deepEqual(dropGetMetrics('18', ['18 yards']), { exact_match: 0, f1: 0.67 });
  // partial span: "Nate" vs "Nate Kaeding" → 0.67
  assert.deepEqual(dropGetMetrics('Nate', ['Nate Kaeding']), { exact_match: 0, f1: 0.67 });
  // multi-span gold, one predicted span: alignment [1, 0] → mean 0.5
  assert.deepEqual(dropGetMetrics('Nate Kaeding', ['Nate Kaeding', 'Philip Rivers']), { exact_match: 0, f1: 0.5 });
  // multi-span prediction in the other order: the alignment crosses; EM compares span sets
  assert.deepEqual(dropGetMetrics(['Philip Rivers', 'Nate Kaeding'], ['Nate Kaeding', 'Philip Rivers']), {
    exact_match: 1,
    f1: 1,
  });
  // more predicted spans than gold: mean over max(#gold, #pred) = (1 + 0) / 2
  assert.deepEqual(dropGetMetrics(['Nate Kaeding', 'Jacob Hester'], ['Nate Kaeding']), { exact_match: 0, f1: 0.5 });
  // Python rounding of an exact tie: bags [0.5, 0, 0, 0] → 0.125 → round(…, 2) = 0.12 (not 0.13)
  assert.deepEqual(dropGetMetrics('Nate Smith', ['Nate Kaeding', 'Philip Rivers', 'Jacob Hester', 'Dwayne Bowe']), {
    exact_match: 0,
    f1: 0.12,
  });
  // alignment: gold {x,y},{x,z} × pred {x,z},{x,y,z} has scores [[0.5, 0.8], [1, 0.8]]; the best pairing is 0.8 + 1
  const g = answerToBags(['x y', 'x z']).bags;
  const p = answerToBags(['x z', 'x y z']).bags;
  assert.deepEqual(
    alignBags(p, g).map((x) => Math.round(x * 100) / 100),
    [0.8, 1],
  );
  assert.deepEqual(dropGetMetrics(['x z', 'x y z'], ['x y', 'x z']), { exact_match: 0, f1: 0.9 });
});

test('Hungarian assignment finds the maximum total on rectangular matrices', () => {
  assert.equal(
    maxAssignment([
      [1, 0.9],
      [0.9, 0],
    ]).total,
    1.8,
  );
  assert.equal(maxAssignment([[0.2], [0.9], [0.5]]).total, 0.9);
  assert.equal(maxAssignment([[0.2, 0.9, 0.5]]).total, 0.9);
  // brute force on random 4×5 matrices
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const perms = (n: number, m: number): number[][] =>
    n === 0
      ? [[]]
      : perms(n - 1, m).flatMap((p) => [...Array(m).keys()].filter((j) => !p.includes(j)).map((j) => [...p, j]));
  for (let t = 0; t < 20; t++) {
    const s = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => Math.round(rnd() * 100) / 100));
    const best = Math.max(...perms(4, 5).map((p) => p.reduce((a, j, i) => a + s[i][j], 0)));
    assert.ok(Math.abs(maxAssignment(s).total - best) < 1e-9);
  }
});

test('DROP process_results: max over golds, golds with a blank first span skipped', () => {
  assert.deepEqual(dropMetrics(' 2', [['two'], ['2']]), { exact_match: 1, f1: 1 });
  assert.deepEqual(dropMetrics('June 1344', [['June 1344'], ['1344']]), { exact_match: 1, f1: 1 });
  assert.deepEqual(dropMetrics('anything', [['  ']]), { exact_match: 0, f1: 0 });
  assert.deepEqual(dropMetrics('', [['Nate Kaeding']]), { exact_match: 0, f1: 0 });
});

test('GSM8K extraction: the last number (OLMES), lm-eval strict and flexible as extras', () => {
  const s = (out: string, gold: string) => gsm8kScore(out, gold);
  // lm-eval's strict rule wants a capital "The answer is", which the lower-case Wei et al. style does not give
  assert.deepEqual(s('Tom has 2 + 3 = 5 apples. So the answer is 5.', '5'), {
    exact_match: 1,
    exact_match_strict: 0,
    exact_match_flex: 1,
  });
  assert.deepEqual(s('The answer is 5.', '5'), { exact_match: 1, exact_match_strict: 1, exact_match_flex: 1 });
  // thousands separators are joined before extraction
  assert.equal(s('So the answer is 1,234.', '1234').exact_match, 1);
  // "18.00" is a different string from "18": OLMES compares strings after its regexes
  assert.equal(s('So the answer is $18.00.', '18').exact_match, 0);
  assert.equal(s('So the answer is $18.', '18').exact_match, 1);
  // the last number anywhere wins under the OLMES rule; lm-eval strict takes the first "The answer is N."
  assert.deepEqual(s('The answer is 5. Check: 5 + 1 = 6', '5'), {
    exact_match: 0,
    exact_match_strict: 1,
    exact_match_flex: 0,
  });
  // OLMES's regex signs only decimals: "-3" extracts as "3"
  assert.deepEqual(s('The answer is -3.', '-3'), { exact_match: 0, exact_match_strict: 1, exact_match_flex: 1 });
  assert.equal(s('So the answer is -2.5', '-2.5').exact_match, 1);
  // no number at all: the whole output is compared
  assert.deepEqual(s('I do not know', '7'), { exact_match: 0, exact_match_strict: 0, exact_match_flex: 0 });
  // case-insensitive comparison and the "#### " regex apply to the prediction too
  assert.equal(s('#### 42', '42').exact_match, 1);
});

test('continuations are cut at the first stop sequence before scoring', () => {
  assert.equal(cutAtStop(' 5 apples.\n\nQuestion: next', ['Question:', '</s>', '<|im_end|>', '\n\n']), ' 5 apples.');
  assert.equal(cutAtStop('no stop here', ['\n\n']), 'no stop here');
  assert.equal(cutAtStop('a Q: b Question: c', ['Question:', 'Q:']), 'a ');
});

test('TriviaQA: SQuAD v1.1 EM/F1 over aliases ∪ normalized aliases', () => {
  const answers = ['Indian Ocean', 'The Indian Ocean', 'indian ocean', 'indian sea'];
  assert.deepEqual(triviaqaScore(' The Indian Ocean.', answers), { exact_match: 1, f1: 1 });
  const partial = triviaqaScore(' Indian', answers);
  assert.equal(partial.exact_match, 0);
  assert.ok(Math.abs(partial.f1 - 2 / 3) < 1e-12);
  assert.deepEqual(triviaqaScore('Atlantic', answers), { exact_match: 0, f1: 0 });
  // v1.1: two empty normalised answers are an exact match but share no token, so F1 is 0
  assert.equal(squadV1ExactMatch('The', 'a'), 1);
  assert.equal(squadV1F1('The', 'a'), 0);
  assert.equal(squadNormalizePy('Über the Élan'), 'über élan');
  assert.equal(squadNormalizePy('théa'), 'théa');
});

test('DROP golds: the answer, then validated answers (parallel lists), parsed and deduplicated in order', async () => {
  const { dropAnswers } = await import('../../../src/eval/tasks/drop.ts');
  const row = {
    answer: { number: '', date: { day: '', month: '', year: '' }, spans: ['Nate Kaeding', 'Philip Rivers'] },
    validated_answers: {
      number: ['', '', '4'],
      date: [
        { day: '', month: '', year: '' },
        { day: '7', month: 'July', year: '1345' },
        { day: '', month: '', year: '' },
      ],
      spans: [['Nate Kaeding', 'Philip Rivers'], [], []],
    },
  };
  assert.deepEqual(dropAnswers(row, 'row 0'), [['Nate Kaeding', 'Philip Rivers'], ['7 July 1345'], ['4']]);
  assert.throws(
    () => dropAnswers({ answer: 'x' }, 'EleutherAI/drop split validation row 3'),
    /row 3: field "answer" must be an object/,
  );
});
