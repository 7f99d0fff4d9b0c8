// GEMM: the js reference against an independent float64 matmul, the native kernel (and its scalar
// fallback) against the js reference on awkward sizes, every transpose/batch/stride/accumulate mode, and
// every validation path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsGemm } from '../../../src/tensor/kernels/js/gemm.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import type { GemmKernels } from '../../../src/tensor/kernels/types.ts';
import { assertClose, nativeAddonOrNull, nativeSkipReason, randn } from '../../helpers.ts';
import { simdPaths, withCpuPath } from './kernel-test-utils.ts';

type Args = Parameters<GemmKernels['gemm']>;

/** op(X) as an explicit rows×cols float64 matrix, from X stored rows×cols or (transposed) cols×rows. */
function opMatrix(x: Float32Array, off: number, rows: number, cols: number, trans: boolean): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = trans ? x[off + c * rows + r] : x[off + r * cols + c];
  return out;
}

/** Textbook C = A·B on explicit float64 matrices. */
function matmul64(a: Float64Array, b: Float64Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  return c;
}

interface Case {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  strideA: number;
  strideB: number;
  strideC: number;
  accumulate: boolean;
}

function lengthFor(batch: number, stride: number, size: number): number {
  return batch === 0 || size === 0 ? 0 : (batch - 1) * stride + size;
}

function makeInputs(t: Case, seed: number) {
  const a = randn(lengthFor(t.batch, t.strideA, t.m * t.k), seed);
  const b = randn(lengthFor(t.batch, t.strideB, t.k * t.n), seed + 1);
  const c = randn(lengthFor(t.batch, t.strideC, t.m * t.n), seed + 2);
  return { a, b, c };
}

function call(kernels: GemmKernels, t: Case, a: Float32Array, b: Float32Array, c: Float32Array): void {
  kernels.gemm(a, b, c, t.batch, t.m, t.n, t.k, t.transA, t.transB, t.strideA, t.strideB, t.strideC, t.accumulate);
}

function simple(m: number, n: number, k: number, transA: boolean, transB: boolean, accumulate: boolean): Case {
  return { batch: 1, m, n, k, transA, transB, strideA: m * k, strideB: k * n, strideC: m * n, accumulate };
}

/** Runs `kernels` and the js reference on the same inputs and compares (float32 tolerance grows with k). */
function checkAgainstJs(kernels: GemmKernels, t: Case, seed: number): void {
  const { a, b, c } = makeInputs(t, seed);
  const expected = c.slice();
  call(jsGemm, t, a, b, expected);
  const actual = c.slice();
  call(kernels, t, a, b, actual);
  const tol = 2e-6 * (t.k + 4) * (t.accumulate && t.strideC === 0 ? t.batch : 1);
  assertClose(actual, expected, {
    atol: tol,
    rtol: 1e-5,
    label: `gemm ${JSON.stringify(t)}`,
  });
}

const SIZES = [0, 1, 2, 3, 5, 7, 13, 17, 31, 33, 65, 100, 129];
const TRANS: Array<[boolean, boolean]> = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

describe('js gemm (reference)', () => {
  it('matches a hand-computed 2×3 · 3×2 product', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Float32Array([7, 8, 9, 10, 11, 12]);
    const c = new Float32Array(4);
    jsGemm.gemm(a, b, c, 1, 2, 2, 3, false, false, 0, 0, 0, false);
    assert.deepEqual(Array.from(c), [58, 64, 139, 154]);
    // accumulate adds to what is there
    jsGemm.gemm(a, b, c, 1, 2, 2, 3, false, false, 0, 0, 0, true);
    assert.deepEqual(Array.from(c), [116, 128, 278, 308]);
    // transB: B stored as its transpose (2×3)
    const bt = new Float32Array([7, 9, 11, 8, 10, 12]);
    jsGemm.gemm(a, bt, c, 1, 2, 2, 3, false, true, 0, 0, 0, false);
    assert.deepEqual(Array.from(c), [58, 64, 139, 154]);
  });

  it('matches a float64 triple loop for every transpose mode and odd sizes', () => {
    let seed = 1;
    for (const [transA, transB] of TRANS) {
      for (const [m, n, k] of [
        [1, 1, 1],
        [3, 5, 7],
        [13, 2, 17],
        [7, 31, 1],
        [33, 17, 65],
      ]) {
        const t = simple(m, n, k, transA, transB, false);
        const { a, b, c } = makeInputs(t, seed++);
        jsGemm.gemm(a, b, c, 1, m, n, k, transA, transB, 0, 0, 0, false);
        const expected = matmul64(opMatrix(a, 0, m, k, transA), opMatrix(b, 0, k, n, transB), m, n, k);
        assertClose(c, expected, { atol: 1e-5, rtol: 1e-6, label: `js gemm ${m}x${n}x${k} tA=${transA} tB=${transB}` });
      }
    }
  });

  it('handles batches with strides (0 = shared) and accumulation over a shared C', () => {
    const m = 3,
      n = 4,
      k = 5,
      batch = 3;
    const a = randn((batch - 1) * 17 + m * k, 11);
    const b = randn(k * n, 12);
    const c = randn(m * n, 13);
    const c0 = c.slice();
    jsGemm.gemm(a, b, c, batch, m, n, k, false, false, 17, 0, 0, true);
    const bm = opMatrix(b, 0, k, n, false);
    const expected = Float64Array.from(c0);
    for (let t = 0; t < batch; t++) {
      const prod = matmul64(opMatrix(a, t * 17, m, k, false), bm, m, n, k);
      for (let i = 0; i < m * n; i++) expected[i] += prod[i];
    }
    assertClose(c, expected, { atol: 1e-5, rtol: 1e-5, label: 'js batched shared-C accumulate' });
  });

  it('k = 0 writes zeros, or leaves C unchanged when accumulating', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    jsGemm.gemm(new Float32Array(0), new Float32Array(0), c, 1, 2, 2, 0, false, false, 0, 0, 4, true);
    assert.deepEqual(Array.from(c), [1, 2, 3, 4]);
    jsGemm.gemm(new Float32Array(0), new Float32Array(0), c, 1, 2, 2, 0, false, false, 0, 0, 4, false);
    assert.deepEqual(Array.from(c), [0, 0, 0, 0]);
  });
});

const addon = nativeAddonOrNull();
const skip = nativeSkipReason();

// Every test below runs once on each SIMD path this CPU has (AVX-512 and AVX2 on an AVX-512 machine).
for (const path of skip ? ['avx2' as const] : simdPaths())
  describe(`native gemm (${path} path)`, { skip }, () => {
    const kernels = addon ? createNativeKernels(addon) : jsGemm;
    const native: GemmKernels = { gemm: (...args: Args) => withCpuPath(path, () => kernels.gemm(...args)) };
    const scalar: GemmKernels = { gemm: (...args: Args) => withCpuPath('scalar', () => kernels.gemm(...args)) };

    it('agrees with js on mixed odd sizes, all transpose modes, accumulate on/off', () => {
      let seed = 100;
      for (const [transA, transB] of TRANS) {
        for (let s = 0; s < SIZES.length; s++) {
          const m = SIZES[s];
          const n = SIZES[(s * 5 + 3) % SIZES.length];
          const k = SIZES[(s * 7 + 6) % SIZES.length];
          for (const accumulate of [false, true]) {
            checkAgainstJs(native, simple(m, n, k, transA, transB, accumulate), seed++);
            // and with the roles of the sizes rotated, so each size appears as M, N and K
            checkAgainstJs(native, simple(n, k, m, transA, transB, accumulate), seed++);
            checkAgainstJs(native, simple(k, m, n, transA, transB, accumulate), seed++);
          }
        }
      }
    });

    it('agrees with js on larger shapes (multi-threaded, K and M beyond one cache block, skinny rows)', () => {
      let seed = 500;
      const shapes: Array<[number, number, number]> = [
        [300, 257, 190],
        [150, 70, 600], // K beyond one KC slice, M beyond one MC block
        [20, 4100, 9], // N beyond one NC block
        [1, 2000, 300], // decode-like rows: skinny paths, threaded
        [3, 1037, 257],
        [1, 1037, 77], // one row, ragged N and K
        [2, 8200, 40], // N beyond one skinny column chunk
        [9, 515, 301],
        [16, 700, 129],
        [17, 400, 100],
        [513, 19, 300], // tall and narrow: threads split M
        [700, 20, 50], // taller: M handed out in several chunks
      ];
      for (const [transA, transB] of TRANS)
        for (const [m, n, k] of shapes)
          checkAgainstJs(native, simple(m, n, k, transA, transB, (m + n) % 2 === 0), seed++);
    });

    it('agrees with js on batches with strides, shared (stride 0) operands and a shared accumulated C', () => {
      let seed = 900;
      for (const [transA, transB] of TRANS) {
        for (const [batch, m, n, k] of [
          [3, 5, 7, 13],
          [4, 33, 17, 65],
          [2, 100, 129, 31],
          [5, 1, 300, 64],
          [0, 5, 5, 5],
        ]) {
          for (const accumulate of [false, true]) {
            // gaps between matrices
            checkAgainstJs(
              native,
              {
                batch,
                m,
                n,
                k,
                transA,
                transB,
                strideA: m * k + 3,
                strideB: k * n + 1,
                strideC: m * n + 2,
                accumulate,
              },
              seed++,
            );
            // shared A, shared B
            checkAgainstJs(
              native,
              { batch, m, n, k, transA, transB, strideA: 0, strideB: 0, strideC: m * n, accumulate },
              seed++,
            );
            // one C for the whole batch: with accumulate it sums the products, without the last one wins
            checkAgainstJs(
              native,
              { batch, m, n, k, transA, transB, strideA: m * k, strideB: 0, strideC: 0, accumulate },
              seed++,
            );
          }
        }
      }
    });

    it('k = 0 zeroes C, or leaves it unchanged when accumulating; m = 0 / n = 0 touch nothing', () => {
      const c = new Float32Array([1, 2, 3, 4, 5, 6]);
      native.gemm(new Float32Array(0), new Float32Array(0), c, 2, 1, 3, 0, false, false, 0, 0, 3, true);
      assert.deepEqual(Array.from(c), [1, 2, 3, 4, 5, 6]);
      native.gemm(new Float32Array(0), new Float32Array(0), c, 2, 1, 3, 0, false, false, 0, 0, 3, false);
      assert.deepEqual(Array.from(c), [0, 0, 0, 0, 0, 0]);
      const d = new Float32Array([7]);
      native.gemm(new Float32Array(10), new Float32Array(0), d, 1, 0, 0, 10, false, false, 0, 0, 0, false);
      native.gemm(new Float32Array(0), new Float32Array(10), d, 1, 0, 10, 0, false, false, 0, 0, 0, false);
      assert.deepEqual(Array.from(d), [7]);
    });

    it('writes exactly C: elements past the batch end and in stride gaps are untouched', () => {
      const m = 7,
        n = 9,
        k = 5,
        batch = 2,
        strideC = m * n + 4;
      const a = randn(batch * m * k, 1);
      const b = randn(k * n, 2);
      const c = new Float32Array(batch * strideC + 8).fill(42);
      native.gemm(a, b, c, batch, m, n, k, false, false, m * k, 0, strideC, false);
      for (let g = m * n; g < strideC; g++) assert.equal(c[g], 42);
      for (let g = strideC + m * n; g < c.length; g++) assert.equal(c[g], 42);
    });

    it('the scalar fallback agrees with js', () => {
      let seed = 2000;
      for (const [transA, transB] of TRANS) {
        for (const [m, n, k] of [
          [0, 3, 3],
          [1, 1, 1],
          [5, 7, 13],
          [17, 2, 33],
          [31, 19, 0],
        ])
          for (const accumulate of [false, true])
            checkAgainstJs(scalar, simple(m, n, k, transA, transB, accumulate), seed++);
        checkAgainstJs(
          scalar,
          { batch: 3, m: 4, n: 5, k: 6, transA, transB, strideA: 24, strideB: 0, strideC: 0, accumulate: true },
          seed++,
        );
      }
    });

    describe('validation', () => {
      const good = (): Args => [
        new Float32Array(6),
        new Float32Array(12),
        new Float32Array(8),
        1,
        2,
        4,
        3,
        false,
        false,
        6,
        12,
        8,
        false,
      ];
      const expectThrow = (args: unknown[], what: RegExp) => {
        assert.throws(
          () => (native.gemm as (...a: unknown[]) => void)(...args),
          (err: Error) => /gemm/.test(err.message) && what.test(err.message),
        );
      };
      const withArg = (i: number, v: unknown): unknown[] => {
        const args: unknown[] = good();
        args[i] = v;
        return args;
      };

      it('accepts the well-formed call', () => {
        native.gemm(...good());
      });
      it('rejects wrong array types', () => {
        expectThrow(withArg(0, new Float64Array(6)), /'a'.*Float32Array/);
        expectThrow(withArg(1, [1, 2, 3]), /'b'.*Float32Array/);
        expectThrow(withArg(2, null), /'c'.*Float32Array/);
        expectThrow(withArg(2, new Int32Array(8)), /'c'/);
      });
      it('rejects too-short arrays', () => {
        expectThrow(withArg(0, new Float32Array(5)), /'a'/);
        expectThrow(withArg(1, new Float32Array(11)), /'b'/);
        expectThrow(withArg(2, new Float32Array(7)), /'c'/);
      });
      it('rejects negative, fractional and non-numeric sizes and strides', () => {
        expectThrow(withArg(3, -1), /batch/);
        expectThrow(withArg(4, -2), /'m'/);
        expectThrow(withArg(5, 1.5), /'n'/);
        expectThrow(withArg(6, '3'), /'k'/);
        expectThrow(withArg(9, -6), /strideA/);
        expectThrow(withArg(10, Number.NaN), /strideB/);
        expectThrow(withArg(11, 0.5), /strideC/);
      });
      it('rejects non-boolean flags and missing arguments', () => {
        expectThrow(withArg(7, 1), /transA/);
        expectThrow(withArg(8, 'no'), /transB/);
        expectThrow(withArg(12, undefined), /accumulate/);
        expectThrow(good().slice(0, 12), /13 arguments/);
        assert.throws(() => (addon!.gemm as (...a: unknown[]) => void)(...good().slice(0, 12)), /gemm.*13 arguments/);
      });
      it('rejects strides that would read or write past the end for the batch', () => {
        // batch 2: A needs 6 + 6, B needs 12 + 12, C needs 8 + 8
        const args = (): unknown[] => [
          new Float32Array(12),
          new Float32Array(24),
          new Float32Array(16),
          2,
          2,
          4,
          3,
          false,
          false,
          6,
          12,
          8,
          false,
        ];
        const bump = (i: number, v: number) => {
          const x = args();
          x[i] = v;
          return x;
        };
        (native.gemm as (...a: unknown[]) => void)(...args());
        expectThrow(bump(9, 7), /'a'/);
        expectThrow(bump(10, 13), /'b'/);
        expectThrow(bump(11, 9), /'c'/);
        expectThrow(bump(3, 3), /'a'/);
      });
      it('rejects sizes whose product overflows', () => {
        expectThrow(
          [
            new Float32Array(1),
            new Float32Array(1),
            new Float32Array(1),
            1,
            2 ** 40,
            2 ** 40,
            2 ** 10,
            false,
            false,
            0,
            0,
            0,
            false,
          ],
          /overflow/,
        );
      });
    });
  });
