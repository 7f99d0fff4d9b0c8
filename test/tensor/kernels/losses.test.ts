// Cross-entropy kernels: the js reference against hand values and a float64 formula, backward against
// float64 finite differences, ±1e4 logits, ignoreIndex rows, native against js on awkward and LM-sized
// vocabularies (AVX2 and scalar paths), target and argument validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsLosses } from '../../../src/tensor/kernels/js/losses.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import type { LossKernels } from '../../../src/tensor/kernels/types.ts';
import { assertClose, nativeAddonOrNull, nativeSkipReason, randInts, randn } from '../../helpers.ts';
import { expectNativeError, fdGrad, withScalarPaths } from './kernel-test-utils.ts';

const VOCABS = [1, 3, 7, 8, 9, 17, 33, 100, 257, 1000];
const ROWS = [0, 1, 5];
const IGNORE = -100;

/** Independent float64 log Σ exp (no max shift; moderate inputs only). */
function lse64(row: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < row.length; j++) s += Math.exp(row[j]);
  return Math.log(s);
}

function run(k: LossKernels, logits: Float32Array, targets: Int32Array, rows: number, vocab: number) {
  const loss = new Float32Array(rows);
  const lse = new Float32Array(rows);
  k.crossEntropy(logits, targets, loss, lse, rows, vocab, IGNORE);
  return { loss, lse };
}

describe('js cross-entropy reference', () => {
  it('matches a hand-computed row', () => {
    const lse = Math.log(Math.E + Math.E ** 2 + Math.E ** 3); // 3.40760596444438
    const { loss, lse: l } = run(jsLosses, Float32Array.from([1, 2, 3, 1, 2, 3]), Int32Array.from([2, 0]), 2, 3);
    assertClose(l, [lse, lse], { rtol: 1e-7, atol: 0 });
    assertClose(loss, [0.40760596444438, 2.40760596444438], { rtol: 2e-7, atol: 0 });
  });

  it('matches the float64 formula on random rows, ignoreIndex rows get loss 0', () => {
    const rows = 6;
    const vocab = 23;
    const x = randn(rows * vocab, 1, 2);
    const t = randInts(rows, 0, vocab, 2);
    t[3] = IGNORE;
    const { loss, lse } = run(jsLosses, x, t, rows, vocab);
    for (let r = 0; r < rows; r++) {
      const want = lse64(x.subarray(r * vocab, (r + 1) * vocab));
      assertClose([lse[r]], [want], { rtol: 2e-7, atol: 1e-7 });
      assertClose([loss[r]], [r === 3 ? 0 : want - x[r * vocab + t[r]]], { rtol: 2e-7, atol: 2e-7 });
    }
    assert.equal(loss[3], 0);
  });

  it('is exact and finite on ±1e4 logits', () => {
    const x = Float32Array.from([1e4, -1e4, 1e4, -1e4, -1e4, -1e4]);
    const { loss, lse } = run(jsLosses, x, Int32Array.from([1, 0, 0]), 3, 2);
    assert.deepEqual(Array.from(loss.subarray(0, 2)), [2e4, 0]);
    assert.deepEqual(Array.from(lse.subarray(0, 2)), [1e4, 1e4]);
    assertClose([lse[2], loss[2]], [-1e4 + Math.LN2, Math.LN2], { rtol: 1e-7, atol: 0 });
  });

  it('backward matches finite differences of Σ gLoss·loss + Σ gLse·lse', () => {
    const rows = 3;
    const vocab = 7;
    const x = randn(rows * vocab, 3, 1.5);
    const t = Int32Array.from([4, IGNORE, 0]);
    const gLoss = randn(rows, 4);
    const gLse = randn(rows, 5);
    const { lse } = run(jsLosses, x, t, rows, vocab);
    const objective = (useLse: boolean) => (xv: Float64Array) => {
      let s = 0;
      for (let r = 0; r < rows; r++) {
        const l = lse64(xv.subarray(r * vocab, (r + 1) * vocab));
        if (t[r] !== IGNORE) s += gLoss[r] * (l - xv[r * vocab + t[r]]);
        if (useLse) s += gLse[r] * l;
      }
      return s;
    };
    const g = new Float32Array(rows * vocab);
    jsLosses.crossEntropyBackward(x, t, lse, gLoss, gLse, g, rows, vocab, IGNORE);
    assertClose(g, fdGrad(objective(true), x), { rtol: 1e-4, atol: 1e-5, label: 'with gLse' });
    jsLosses.crossEntropyBackward(x, t, lse, gLoss, null, g, rows, vocab, IGNORE);
    assertClose(g, fdGrad(objective(false), x), { rtol: 1e-4, atol: 1e-5, label: 'gLse null' });
    // The ignored row gets nothing without gLse.
    assert.ok(g.subarray(vocab, 2 * vocab).every((v) => v === 0));
  });

  it('rejects an out-of-range target, naming the row and value', () => {
    const x = new Float32Array(12);
    const out = new Float32Array(3);
    assert.throws(
      () => jsLosses.crossEntropy(x, Int32Array.from([0, 3, 4]), out, out, 3, 4, IGNORE),
      (e: Error) => e instanceof RangeError && /js crossEntropy: targets\[2\] = 4/.test(e.message),
    );
    assert.throws(
      () => jsLosses.crossEntropyBackward(x, Int32Array.from([-1, 0, 0]), out, out, null, x, 3, 4, IGNORE),
      (e: Error) => /js crossEntropyBackward: targets\[0\] = -1/.test(e.message),
    );
    assert.throws(
      () => jsLosses.crossEntropy(x, new Int32Array(2), out, out, 3, 4, IGNORE),
      /js crossEntropy: .*'targets'/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------

const addon = nativeAddonOrNull();
const skip = nativeSkipReason();
const nat = addon ? createNativeKernels(addon) : (null as unknown as LossKernels);

function compare(rows: number, vocab: number, seed: number, scale = 3): void {
  const n = rows * vocab;
  const x = randn(n, seed, scale);
  const t = randInts(rows, 0, vocab, seed + 1);
  if (rows > 2) t[1] = IGNORE;
  if (rows > 3 && vocab > 4) {
    // A masked row: most logits −Infinity.
    for (let j = 0; j < vocab; j++) if (j % 3 !== 0) x[3 * vocab + j] = -Infinity;
    t[3] = 0;
  }
  const gLoss = randn(rows, seed + 2);
  const gLse = randn(rows, seed + 3);
  const tag = `rows=${rows} vocab=${vocab}`;
  const a = run(jsLosses, x, t, rows, vocab);
  const b = run(nat, x, t, rows, vocab);
  assertClose(b.lse, a.lse, { rtol: 1e-6, atol: 1e-6, label: `lse ${tag}` });
  assertClose(b.loss, a.loss, { rtol: 1e-6, atol: 2e-6, label: `loss ${tag}` });
  for (const gl of [gLse, null]) {
    const ga = new Float32Array(n);
    const gb = new Float32Array(n);
    jsLosses.crossEntropyBackward(x, t, a.lse, gLoss, gl, ga, rows, vocab, IGNORE);
    nat.crossEntropyBackward(x, t, a.lse, gLoss, gl, gb, rows, vocab, IGNORE);
    assertClose(gb, ga, { rtol: 2e-6, atol: 1e-8, label: `gLogits ${tag} gLse=${gl !== null}` });
  }
}

describe('native cross-entropy vs js', { skip }, () => {
  it('agrees on awkward sizes (AVX2 path)', () => {
    let seed = 10;
    for (const vocab of VOCABS) for (const rows of ROWS) compare(rows, vocab, (seed += 4));
  });

  it('agrees on awkward sizes (scalar path)', () => {
    withScalarPaths('_lossesForceScalar', () => {
      let seed = 200;
      for (const vocab of [1, 7, 9, 33, 257]) for (const rows of [0, 4]) compare(rows, vocab, (seed += 4));
    });
  });

  it('agrees on an LM-sized vocabulary, multithreaded', () => {
    compare(6, 50257, 1, 4);
    compare(40, 1003, 2, 10); // wide logits: the online max is rescaled often
  });

  it('is exact and finite on ±1e4 logits', () => {
    const vocab = 45;
    const x = new Float32Array(2 * vocab).fill(-1e4);
    x[40] = 1e4; // in the scalar tail of the online pass
    x[vocab + 3] = 1e4;
    const t = Int32Array.from([0, 3]);
    const { loss, lse } = run(nat, x, t, 2, vocab);
    assert.deepEqual(Array.from(lse), [1e4, 1e4]);
    assert.deepEqual(Array.from(loss), [2e4, 0]);
    const g = new Float32Array(2 * vocab);
    nat.crossEntropyBackward(x, t, lse, Float32Array.from([1, 1]), null, g, 2, vocab, IGNORE);
    assert.ok(g.every(Number.isFinite));
    assert.equal(g[0], -1);
    assert.equal(g[40], 1);
    assert.equal(g[vocab + 3], 0);
    const two = run(nat, Float32Array.from([1e4, -1e4]), Int32Array.from([1]), 1, 2);
    assert.deepEqual([two.loss[0], two.lse[0]], [2e4, 1e4]);
  });

  it('backward works in place (gLogits = logits)', () => {
    const rows = 3;
    const vocab = 37;
    const x = randn(rows * vocab, 41);
    const t = Int32Array.from([36, 0, 17]);
    const { lse } = run(nat, x, t, rows, vocab);
    const gLoss = randn(rows, 42);
    const want = new Float32Array(rows * vocab);
    nat.crossEntropyBackward(x, t, lse, gLoss, null, want, rows, vocab, IGNORE);
    const inplace = x.slice();
    nat.crossEntropyBackward(inplace, t, lse, gLoss, null, inplace, rows, vocab, IGNORE);
    assert.deepEqual(inplace, want);
  });

  it('rejects an out-of-range target, naming the row and value', () => {
    const x = new Float32Array(12);
    const out = new Float32Array(3);
    assert.throws(
      () => nat.crossEntropy(x, Int32Array.from([0, IGNORE, 4]), out, out, 3, 4, IGNORE),
      (e: Error) => e instanceof RangeError && /native crossEntropy: targets\[2\] = 4/.test(e.message),
    );
    assert.throws(
      () => nat.crossEntropyBackward(x, Int32Array.from([0, -1, 0]), out, out, null, x, 3, 4, IGNORE),
      (e: Error) => /native crossEntropyBackward: targets\[1\] = -1/.test(e.message),
    );
    // ignoreIndex inside the vocabulary is honoured.
    const loss = new Float32Array(1);
    nat.crossEntropy(Float32Array.from([1, 2]), Int32Array.from([0]), loss, new Float32Array(1), 1, 2, 0);
    assert.equal(loss[0], 0);
  });

  it('validates arguments, naming the kernel', () => {
    const x = new Float32Array(12);
    const o = new Float32Array(3);
    const t = new Int32Array(3);
    expectNativeError('crossEntropy', () => nat.crossEntropy(x.subarray(1), t, o, o, 3, 4, IGNORE), /'logits'/);
    expectNativeError(
      'crossEntropy',
      () => nat.crossEntropy(x, new Float32Array(3) as never, o, o, 3, 4, IGNORE),
      /'targets'.*Int32Array/,
    );
    expectNativeError('crossEntropy', () => nat.crossEntropy(x, t.subarray(1), o, o, 3, 4, IGNORE), /'targets'/);
    expectNativeError('crossEntropy', () => nat.crossEntropy(x, t, o.subarray(1), o, 3, 4, IGNORE), /'loss'/);
    expectNativeError('crossEntropy', () => nat.crossEntropy(x, t, o, o.subarray(1), 3, 4, IGNORE), /'lse'/);
    expectNativeError('crossEntropy', () => nat.crossEntropy(x, t, o, o, 3, 4, 0.5), /'ignoreIndex'/);
    expectNativeError('crossEntropy', () => nat.crossEntropy(x, t, o, o, -3, 4, IGNORE), /'rows'/);
    expectNativeError(
      'crossEntropyBackward',
      () => nat.crossEntropyBackward(x, t, o, o.subarray(2), null, x, 3, 4, IGNORE),
      /'gLoss'/,
    );
    expectNativeError(
      'crossEntropyBackward',
      () => nat.crossEntropyBackward(x, t, o, o, o.subarray(2), x, 3, 4, IGNORE),
      /'gLse'/,
    );
    expectNativeError(
      'crossEntropyBackward',
      () => nat.crossEntropyBackward(x, t, o, o, null, x.subarray(1), 3, 4, IGNORE),
      /'gLogits'/,
    );
    expectNativeError(
      'crossEntropyBackward',
      () => nat.crossEntropyBackward(x, t, o, o, null, x, 3, 4.5, IGNORE),
      /'vocab'/,
    );
  });
});
