// Norm kernels: the js reference against hand-computed values and float64 formulas, backward kernels
// against float64 finite differences, native against js on awkward sizes (AVX2 and scalar paths),
// deterministic gw under threads, residualRmsNorm as rmsNorm then an add (bits), validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsNorms } from '../../../src/tensor/kernels/js/norms.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import type { NormKernels } from '../../../src/tensor/kernels/types.ts';
import { assertClose, nativeAddonOrNull, nativeSkipReason, randn } from '../../helpers.ts';
import { expectNativeError, expectJsError, fdGrad, withScalarPaths } from './kernel-test-utils.ts';

const COLS = [1, 3, 7, 8, 9, 17, 33, 100, 257, 1000];
const ROWS = [0, 1, 5];

/** Float64 RMSNorm of one row (independent of the kernel). */
function rms64(x: ArrayLike<number>, w: ArrayLike<number> | null, eps: number): number[] {
  const n = x.length;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += x[j] * x[j];
  const r = 1 / Math.sqrt(ss / n + eps);
  return Array.from(x, (v, j) => v * r * (w === null ? 1 : w[j]));
}

function layer64(x: ArrayLike<number>, eps: number): number[] {
  const n = x.length;
  const mu = Array.from(x).reduce((a, b) => a + b, 0) / n;
  const v = Array.from(x).reduce((a, b) => a + (b - mu) ** 2, 0) / n;
  return Array.from(x, (t) => (t - mu) / Math.sqrt(v + eps));
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('js norms reference', () => {
  it('rmsNorm matches hand values, with and without weight', () => {
    const out = new Float32Array(2);
    const rstd = new Float32Array(1);
    jsNorms.rmsNorm(Float32Array.from([3, 4]), null, out, rstd, 1, 2, 0);
    assertClose(rstd, [1 / Math.sqrt(12.5)], { rtol: 1e-7, atol: 0 });
    assertClose(out, [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)], { rtol: 2e-7, atol: 0 });
    jsNorms.rmsNorm(Float32Array.from([3, 4]), Float32Array.from([2, 0.5]), out, rstd, 1, 2, 0);
    assertClose(out, [6 / Math.sqrt(12.5), 2 / Math.sqrt(12.5)], { rtol: 2e-7, atol: 0 });
  });

  it('layerNorm matches hand values (biased variance)', () => {
    const out = new Float32Array(4);
    const mean = new Float32Array(1);
    const rstd = new Float32Array(1);
    jsNorms.layerNorm(Float32Array.from([1, 2, 3, 4]), out, mean, rstd, 1, 4, 0);
    assert.equal(mean[0], 2.5);
    assertClose(rstd, [1 / Math.sqrt(1.25)], { rtol: 1e-7, atol: 0 });
    const s = 1 / Math.sqrt(1.25);
    assertClose(out, [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s], { rtol: 1e-7, atol: 0 });
  });

  it('forward matches float64 formulas on random rows', () => {
    const rows = 3;
    const cols = 29;
    const x = randn(rows * cols, 1, 2);
    const w = randn(cols, 2);
    const out = new Float32Array(rows * cols);
    const a = new Float32Array(rows);
    const b = new Float32Array(rows);
    jsNorms.rmsNorm(x, w, out, a, rows, cols, 1e-5);
    for (let r = 0; r < rows; r++)
      assertClose(out.subarray(r * cols, (r + 1) * cols), rms64(x.subarray(r * cols, (r + 1) * cols), w, 1e-5), {
        rtol: 3e-7,
        atol: 1e-7,
      });
    jsNorms.layerNorm(x, out, a, b, rows, cols, 1e-5);
    for (let r = 0; r < rows; r++)
      assertClose(out.subarray(r * cols, (r + 1) * cols), layer64(x.subarray(r * cols, (r + 1) * cols), 1e-5), {
        rtol: 3e-7,
        atol: 1e-7,
      });
  });

  it('rmsNormBackward matches finite differences (gx and gw), with and without weight', () => {
    const rows = 3;
    const cols = 7;
    const eps = 1e-3;
    const x = randn(rows * cols, 3);
    const w = randn(cols, 4);
    const gy = randn(rows * cols, 5);
    for (const weighted of [true, false]) {
      const wt = weighted ? w : null;
      const out = new Float32Array(rows * cols);
      const rstd = new Float32Array(rows);
      jsNorms.rmsNorm(x, wt, out, rstd, rows, cols, eps);
      const gx = new Float32Array(rows * cols);
      const gw = new Float32Array(cols);
      jsNorms.rmsNormBackward(x, wt, rstd, gy, gx, weighted ? gw : null, rows, cols);
      const lossX = (xv: Float64Array) => {
        let s = 0;
        for (let r = 0; r < rows; r++)
          s += dot(rms64(xv.subarray(r * cols, (r + 1) * cols), wt, eps), gy.subarray(r * cols, (r + 1) * cols));
        return s;
      };
      assertClose(gx, fdGrad(lossX, x), { rtol: 1e-4, atol: 1e-5, label: `gx weighted=${weighted}` });
      if (weighted) {
        const lossW = (wv: Float64Array) => {
          let s = 0;
          for (let r = 0; r < rows; r++)
            s += dot(rms64(x.subarray(r * cols, (r + 1) * cols), wv, eps), gy.subarray(r * cols, (r + 1) * cols));
          return s;
        };
        assertClose(gw, fdGrad(lossW, w), { rtol: 1e-4, atol: 1e-5, label: 'gw' });
      }
    }
  });

  it('layerNormBackward matches finite differences', () => {
    const rows = 2;
    const cols = 9;
    const eps = 1e-3;
    const x = randn(rows * cols, 6, 2);
    const gy = randn(rows * cols, 7);
    const out = new Float32Array(rows * cols);
    const mean = new Float32Array(rows);
    const rstd = new Float32Array(rows);
    jsNorms.layerNorm(x, out, mean, rstd, rows, cols, eps);
    const gx = new Float32Array(rows * cols);
    jsNorms.layerNormBackward(x, mean, rstd, gy, gx, rows, cols);
    const loss = (xv: Float64Array) => {
      let s = 0;
      for (let r = 0; r < rows; r++)
        s += dot(layer64(xv.subarray(r * cols, (r + 1) * cols), eps), gy.subarray(r * cols, (r + 1) * cols));
      return s;
    };
    assertClose(gx, fdGrad(loss, x), { rtol: 1e-4, atol: 1e-5 });
  });
});

// ---------------------------------------------------------------------------------------------------

const addon = nativeAddonOrNull();
const skip = nativeSkipReason();
const nat = addon ? createNativeKernels(addon) : (null as unknown as NormKernels);

function compare(rows: number, cols: number, seed: number, offset = 0): void {
  const n = rows * cols;
  const x = randn(n, seed, 2);
  if (offset !== 0) for (let i = 0; i < n; i++) x[i] += offset;
  const w = randn(cols, seed + 1);
  const gy = randn(n, seed + 2);
  const tag = `rows=${rows} cols=${cols}`;
  for (const weighted of [true, false]) {
    const wt = weighted ? w : null;
    const oa = new Float32Array(n);
    const ob = new Float32Array(n);
    const ra = new Float32Array(rows);
    const rb = new Float32Array(rows);
    jsNorms.rmsNorm(x, wt, oa, ra, rows, cols, 1e-6);
    nat.rmsNorm(x, wt, ob, rb, rows, cols, 1e-6);
    assertClose(rb, ra, { rtol: 1e-6, atol: 0, label: `rmsNorm rstd ${tag}` });
    assertClose(ob, oa, { rtol: 2e-6, atol: 1e-6, label: `rmsNorm out ${tag} w=${weighted}` });
    const ga = new Float32Array(n);
    const gb = new Float32Array(n);
    const gwa = new Float32Array(cols);
    const gwb = new Float32Array(cols);
    jsNorms.rmsNormBackward(x, wt, ra, gy, ga, gwa, rows, cols);
    nat.rmsNormBackward(x, wt, ra, gy, gb, gwb, rows, cols);
    assertClose(gb, ga, { rtol: 2e-6, atol: 2e-6, label: `rmsNormBackward gx ${tag} w=${weighted}` });
    if (weighted) assertClose(gwb, gwa, { rtol: 2e-6, atol: 2e-5, label: `rmsNormBackward gw ${tag}` });
  }
  const oa = new Float32Array(n);
  const ob = new Float32Array(n);
  const ma = new Float32Array(rows);
  const mb = new Float32Array(rows);
  const ra = new Float32Array(rows);
  const rb = new Float32Array(rows);
  jsNorms.layerNorm(x, oa, ma, ra, rows, cols, 1e-5);
  nat.layerNorm(x, ob, mb, rb, rows, cols, 1e-5);
  assertClose(mb, ma, { rtol: 2.5e-7, atol: 1e-7, label: `layerNorm mean ${tag}` });
  assertClose(rb, ra, { rtol: 1e-6, atol: 0, label: `layerNorm rstd ${tag}` });
  assertClose(ob, oa, { rtol: 2e-6, atol: 2e-6, label: `layerNorm out ${tag}` });
  const ga = new Float32Array(n);
  const gb = new Float32Array(n);
  jsNorms.layerNormBackward(x, ma, ra, gy, ga, rows, cols);
  nat.layerNormBackward(x, ma, ra, gy, gb, rows, cols);
  assertClose(gb, ga, { rtol: 2e-6, atol: 5e-6, label: `layerNormBackward ${tag}` });
}

describe('native norms vs js', { skip }, () => {
  it('agrees on awkward sizes (AVX2 path)', () => {
    let seed = 10;
    for (const cols of COLS) for (const rows of ROWS) compare(rows, cols, (seed += 3));
  });

  it('agrees on awkward sizes (scalar path)', () => {
    withScalarPaths('_normsForceScalar', () => {
      let seed = 100;
      for (const cols of [1, 7, 9, 33, 257]) for (const rows of [0, 3]) compare(rows, cols, (seed += 3));
    });
  });

  it('agrees on multithreaded sizes and on offset data (layerNorm centring)', () => {
    compare(70, 1000, 1);
    compare(9, 4099, 2);
    compare(4, 100, 3, 300);
  });

  it('rmsNormBackward gw is deterministic for any thread count', () => {
    const rows = 300;
    const cols = 515;
    const x = randn(rows * cols, 21);
    const w = randn(cols, 22);
    const gy = randn(rows * cols, 23);
    const rstd = new Float32Array(rows);
    nat.rmsNorm(x, w, new Float32Array(rows * cols), rstd, rows, cols, 1e-6);
    const run = () => {
      const gx = new Float32Array(rows * cols);
      const gw = new Float32Array(cols);
      nat.rmsNormBackward(x, w, rstd, gy, gx, gw, rows, cols);
      return { gx, gw };
    };
    const before = addon!.numThreads();
    try {
      addon!.setNumThreads(1);
      const one = run();
      addon!.setNumThreads(2);
      const two = run();
      addon!.setNumThreads(3);
      const three = run();
      assert.deepEqual(two.gw, one.gw);
      assert.deepEqual(three.gw, one.gw);
      assert.deepEqual(two.gx, one.gx);
    } finally {
      addon!.setNumThreads(before);
    }
  });

  it('works in place (out = x, gx = gy) and with gw skipped', () => {
    const rows = 4;
    const cols = 19;
    const x = randn(rows * cols, 31);
    const w = randn(cols, 32);
    const gy = randn(rows * cols, 33);
    const want = new Float32Array(rows * cols);
    const rstd = new Float32Array(rows);
    nat.rmsNorm(x, w, want, rstd, rows, cols, 1e-6);
    const inplace = x.slice();
    nat.rmsNorm(inplace, w, inplace, rstd, rows, cols, 1e-6);
    assert.deepEqual(inplace, want);
    const gx = new Float32Array(rows * cols);
    nat.rmsNormBackward(x, w, rstd, gy, gx, null, rows, cols);
    const g2 = gy.slice();
    nat.rmsNormBackward(x, w, rstd, g2, g2, new Float32Array(cols), rows, cols);
    assert.deepEqual(g2, gx);
    const mean = new Float32Array(rows);
    const ln = new Float32Array(rows * cols);
    nat.layerNorm(x, ln, mean, rstd, rows, cols, 1e-5);
    const lx = x.slice();
    nat.layerNorm(lx, lx, mean, rstd, rows, cols, 1e-5);
    assert.deepEqual(lx, ln);
  });

  it('validates arguments, naming the kernel', () => {
    const x = new Float32Array(12);
    const r = new Float32Array(3);
    const w = new Float32Array(4);
    expectNativeError('rmsNorm', () => nat.rmsNorm(new Float64Array(12) as never, w, x, r, 3, 4, 1e-6), /'x'/);
    expectNativeError('rmsNorm', () => nat.rmsNorm(x, w.subarray(1), x, r, 3, 4, 1e-6), /'w'/);
    expectNativeError('rmsNorm', () => nat.rmsNorm(x, w, x.subarray(1), r, 3, 4, 1e-6), /'out'/);
    expectNativeError('rmsNorm', () => nat.rmsNorm(x, w, x, r.subarray(1), 3, 4, 1e-6), /'rstd'/);
    expectNativeError('rmsNorm', () => nat.rmsNorm(x, w, x, r, 3, -4, 1e-6), /'cols'/);
    expectNativeError('rmsNorm', () => nat.rmsNorm(x, w, x, r, 3, 4, 'e' as never), /'eps'/);
    expectNativeError('rmsNorm', () => nat.rmsNorm(x, w, x, r, 3, 4, -1), /'eps'/);
    expectNativeError('rmsNormBackward', () => nat.rmsNormBackward(x, w, r, x.subarray(4), x, w, 3, 4), /'gy'/);
    expectNativeError('rmsNormBackward', () => nat.rmsNormBackward(x, w, r, x, x, w.subarray(2), 3, 4), /'gw'/);
    expectNativeError(
      'rmsNormBackward',
      () => nat.rmsNormBackward(x, w, r, x, new Int32Array(12) as never, w, 3, 4),
      /'gx'/,
    );
    expectNativeError('rmsNormBackward', () => nat.rmsNormBackward(x, w, r, x, x, w, 3.5, 4), /'rows'/);
    expectNativeError('layerNorm', () => nat.layerNorm(x, x, r.subarray(1), r, 3, 4, 1e-5), /'mean'/);
    expectNativeError('layerNorm', () => nat.layerNorm(x, x, r, r, 4, 4, 1e-5), /'x'/);
    expectNativeError('layerNormBackward', () => nat.layerNormBackward(x, r, r.subarray(2), x, x, 3, 4), /'rstd'/);
    expectNativeError('layerNormBackward', () => nat.layerNormBackward(x, r, r, x, [] as never, 3, 4), /'gx'/);
  });
});

/** rmsNorm then an f32 add of the residual, on kernels `k`: what residualRmsNorm must equal bit for bit. */
function normThenAdd(
  k: NormKernels,
  res: Float32Array,
  x: Float32Array,
  w: Float32Array | null,
  rows: number,
  cols: number,
) {
  const out = new Float32Array(rows * cols);
  const rstd = new Float32Array(rows);
  k.rmsNorm(x, w, out, rstd, rows, cols, 1e-6);
  for (let i = 0; i < out.length; i++) out[i] = res[i] + out[i];
  return { out, rstd };
}

function checkResidual(k: NormKernels, label: string): void {
  let seed = 400;
  for (const cols of [1, 7, 8, 9, 17, 100, 2048])
    for (const rows of [0, 1, 3, 70]) {
      const n = rows * cols;
      const [res, x, w] = [randn(n, (seed += 3), 3), randn(n, seed + 1, 2), randn(cols, seed + 2)];
      for (const wt of [w, null]) {
        const want = normThenAdd(k, res, x, wt, rows, cols);
        const out = new Float32Array(n);
        const rstd = new Float32Array(rows);
        k.residualRmsNorm(res, x, wt, out, rstd, rows, cols, 1e-6);
        const tag = `${label} rows=${rows} cols=${cols} w=${wt !== null}`;
        assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(want.out.buffer), tag);
        assert.deepEqual(rstd, want.rstd, tag);
      }
    }
}

describe('residualRmsNorm', () => {
  it('is rmsNorm then the residual add, bit for bit (js)', () => checkResidual(jsNorms, 'js'));

  it('is rmsNorm then the residual add, bit for bit (native: AVX2 and scalar paths)', { skip }, () => {
    checkResidual(nat, 'native avx2');
    withScalarPaths('_normsForceScalar', () => checkResidual(nat, 'native scalar'));
  });

  it('validates the residual, naming the kernel', () => {
    const x = new Float32Array(12);
    const r = new Float32Array(3);
    expectJsError('residualRmsNorm', () => jsNorms.residualRmsNorm(x.subarray(1), x, null, x, r, 3, 4, 1e-6));
    if (!nat) return;
    expectNativeError('residualRmsNorm', () => nat.residualRmsNorm(x.subarray(1), x, null, x, r, 3, 4, 1e-6), /'res'/);
    expectNativeError('residualRmsNorm', () => nat.residualRmsNorm(x, x, null, x, r, 3, 4, -1), /'eps'/);
  });
});

describe('js norms validation', () => {
  it('throws errors naming the kernel', () => {
    const x = new Float32Array(12);
    const r = new Float32Array(3);
    expectJsError('rmsNorm', () => jsNorms.rmsNorm(x, new Float32Array(2), x, r, 3, 4, 1e-6));
    expectJsError('rmsNormBackward', () => jsNorms.rmsNormBackward(x, null, r, x.subarray(1), x, null, 3, 4));
    expectJsError('layerNorm', () => jsNorms.layerNorm(x, x, r, r, 3, 4, NaN));
    expectJsError('layerNormBackward', () => jsNorms.layerNormBackward(x, r, r, x, x, -3, 4));
  });
});
