// Batch invariance and path invariance of the native kernels.
//
// A row's GEMM result must not depend on how many rows share its GEMM, nor on its position among them: the
// skinny paths (M ≤ 16) and the packed path sum each element in the same order (native/gemm_problem.h).
// And the AVX-512 and AVX2 paths must give bit-identical results on every kernel, so the same seed gives
// the same training run on an AVX2-only and an AVX-512 host.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { UnaryOp, type Kernels } from '../../../src/tensor/kernels/types.ts';
import { nativeAddonOrNull, nativeSkipReason, randInts, randn } from '../../helpers.ts';
import { simdPaths, withCpuPath } from './kernel-test-utils.ts';

const addon = nativeAddonOrNull();
const skip = nativeSkipReason();
const paths = simdPaths();

/** Bitwise equality of two float arrays (NaN payloads and signed zeros included). */
function assertBitEqual(a: Float32Array, b: Float32Array, what: string): void {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  assert.equal(x.length, y.length, `${what}: lengths`);
  for (let i = 0; i < x.length; i++)
    if (x[i] !== y[i]) assert.fail(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
}

/** x (rows × k) times W: Wᵀ stored n × k when transB, else W stored k × n. */
function linear(k: Kernels, x: Float32Array, w: Float32Array, rows: number, n: number, kk: number, transB: boolean) {
  const out = new Float32Array(rows * n);
  k.gemm(x, w, out, 1, rows, n, kk, false, transB, 0, 0, 0, false);
  return out;
}

describe('batch-invariant GEMM', { skip }, () => {
  const k = addon ? createNativeKernels(addon) : (null as unknown as Kernels);
  const BATCHES = [2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64];
  for (const path of paths)
    for (const [n, kk] of [
      [100, 700],
      [1037, 257],
      [48, 1030],
    ])
      for (const transB of [true, false])
        it(`a row alone equals the row in batches of 2..64 at every position (${path}, n=${n}, k=${kk}, transB=${transB})`, () => {
          withCpuPath(path, () => {
            const w = randn(n * kk, n + kk);
            const rows = randn(64 * kk, 7 * n + kk);
            const alone: Float32Array[] = [];
            for (let r = 0; r < 64; r++)
              alone.push(linear(k, rows.subarray(r * kk, (r + 1) * kk), w, 1, n, kk, transB));
            for (const b of BATCHES) {
              // The batch starting at row s: the rows it holds sit at positions 0..b-1.
              for (const s of [0, 64 - b, (64 - b) >> 1]) {
                const out = linear(k, rows.subarray(s * kk, (s + b) * kk), w, b, n, kk, transB);
                for (let p = 0; p < b; p++)
                  assertBitEqual(out.subarray(p * n, (p + 1) * n), alone[s + p], `batch ${b}, row ${s + p} at ${p}`);
              }
            }
          });
        });

  it('accumulating into C and batched (strided) problems keep each row invariant too', () => {
    const n = 70;
    const kk = 600;
    const w = randn(n * kk, 3);
    const x = randn(40 * kk, 4);
    const c0 = randn(40 * n, 5);
    for (const path of paths)
      withCpuPath(path, () => {
        const all = c0.slice();
        k.gemm(x, w, all, 1, 40, n, kk, false, true, 0, 0, 0, true);
        for (const r of [0, 13, 39]) {
          const one = c0.slice(r * n, (r + 1) * n);
          k.gemm(x.subarray(r * kk), w, one, 1, 1, n, kk, false, true, 0, 0, 0, true);
          assertBitEqual(all.subarray(r * n, (r + 1) * n), one, `${path} accumulate row ${r}`);
        }
        // Five problems of 8 rows sharing W: the same as the 40-row GEMM.
        const batched = c0.slice();
        k.gemm(x, w, batched, 5, 8, n, kk, false, true, 8 * kk, 0, 8 * n, true);
        assertBitEqual(batched, all, `${path} batched problems`);
      });
  });
});

// ---------------------------------------------------------------------------------------------------------
// AVX-512 against AVX2, bit for bit, on every kernel the training and inference paths use.

type Run = (k: Kernels) => Float32Array[];

function cases(): Record<string, Run> {
  const x = randn(3 * 1000, 11);
  const y = randn(3 * 1000, 12);
  const gy = randn(3 * 1000, 13);
  const w = randn(1000, 14);
  const gemm =
    (m: number, n: number, kk: number, ta: boolean, tb: boolean, acc: boolean): Run =>
    (k) => {
      const a = randn(m * kk, m + n);
      const b = randn(kk * n, kk + n);
      const c = randn(m * n, 99);
      k.gemm(a, b, c, 1, m, n, kk, ta, tb, 0, 0, 0, acc);
      return [c];
    };
  const out = () => new Float32Array(3 * 1000);
  const att = { batch: 2, tq: 37, tk: 37, hq: 4, hkv: 2, d: 32, scale: 0.17 };
  const q = randn(2 * 37 * 4 * 32, 21);
  const kv = randn(2 * 37 * 2 * 32, 22);
  const v = randn(2 * 37 * 2 * 32, 23);
  const gOut = randn(2 * 37 * 4 * 32, 24);
  const logits = randn(6 * 517, 31, 3);
  const targets = randInts(6, 0, 517, 32);
  return {
    'gemm square 300': gemm(300, 300, 300, false, false, false),
    'gemm x·Wᵀ 200×130×1100 accumulate': gemm(200, 130, 1100, false, true, true),
    'gemm Aᵀ·B 64×96×2048': gemm(64, 96, 2048, true, false, false),
    'gemm skinny 3×1000×600 ᵀ': gemm(3, 1000, 600, false, true, false),
    'gemm skinny 5×999×700': gemm(5, 999, 700, false, false, true),
    unary: (k) =>
      Object.values(UnaryOp).map((op) => {
        const o = out();
        k.unary(op, x, o, o.length, 0.5, 2);
        return o;
      }),
    binary: (k) => {
      const o = out();
      k.binary(2, x, Int32Array.of(1000, 1), w, Int32Array.of(0, 1), o, Int32Array.of(3, 1000));
      return [o];
    },
    swiglu: (k) => {
      const o = out();
      const g1 = out();
      const g2 = out();
      k.swiglu(x, y, o, o.length);
      k.swigluBackward(x, y, gy, g1, g2, o.length);
      return [o, g1, g2];
    },
    rmsNorm: (k) => {
      const o = out();
      const rstd = new Float32Array(3);
      const gx = out();
      const gw = new Float32Array(1000);
      k.rmsNorm(x, w, o, rstd, 3, 1000, 1e-6);
      k.rmsNormBackward(x, w, rstd, gy, gx, gw, 3, 1000);
      return [o, rstd, gx, gw];
    },
    softmax: (k) => {
      const s = out();
      const ls = out();
      const g1 = out();
      const g2 = out();
      k.softmax(x, s, 3, 1000);
      k.logSoftmax(x, ls, 3, 1000);
      k.softmaxBackward(s, gy, g1, 3, 1000);
      k.logSoftmaxBackward(ls, gy, g2, 3, 1000);
      return [s, ls, g1, g2];
    },
    reduce: (k) => {
      const s = new Float32Array(1000);
      k.reduceSum(x, s, 1, 3, 1000);
      return [s, Float32Array.of(k.sumSquares(x, x.length))];
    },
    attention: (k) => {
      const o = new Float32Array(q.length);
      const lse = new Float32Array(2 * 4 * 37);
      const gq = new Float32Array(q.length);
      const gk = new Float32Array(kv.length);
      const gv = new Float32Array(kv.length);
      k.attention(q, kv, v, o, lse, null, att);
      k.attentionBackward(q, kv, v, o, lse, gOut, gq, gk, gv, null, att);
      return [o, lse, gq, gk, gv];
    },
    crossEntropy: (k) => {
      const loss = new Float32Array(6);
      const lse = new Float32Array(6);
      const g = new Float32Array(logits.length);
      k.crossEntropy(logits, targets, loss, lse, 6, 517, -100);
      k.crossEntropyBackward(logits, targets, lse, randn(6, 33), null, g, 6, 517, -100);
      return [loss, lse, g];
    },
    rope: (k) => {
      const o = new Float32Array(q.length);
      const inv = Float32Array.from({ length: 16 }, (_, i) => 1 / 10000 ** (i / 16));
      k.rope(q, o, randInts(2 * 37, 0, 500, 41), 2, 37, 4, 32, inv, false);
      return [o];
    },
    adamw: (k) => {
      const p = x.slice();
      const m = y.slice().fill(0.01);
      const vv = y.map(Math.abs);
      k.adamw(p, gy, m, vv, p.length, 1e-3, 0.9, 0.95, 1e-8, 0.1, 3, 1);
      return [p, m, vv];
    },
  };
}

describe(
  'AVX-512 and AVX2 paths agree bit for bit',
  { skip: skip || (paths.length < 2 ? 'this CPU has no AVX-512' : false) },
  () => {
    const k = addon ? createNativeKernels(addon) : (null as unknown as Kernels);
    for (const [name, run] of Object.entries(cases()))
      it(name, () => {
        const wide = withCpuPath('avx512', () => run(k));
        const narrow = withCpuPath('avx2', () => run(k));
        wide.forEach((a, i) => assertBitEqual(a, narrow[i], `${name} output ${i}`));
      });
  },
);

describe('cpu paths', { skip }, () => {
  it('setCpuPath refuses an unknown path by name', () => {
    assert.throws(() => addon!.setCpuPath('avx9' as 'avx2'), /setCpuPath.*"avx9"/);
  });
  it('the active path follows setCpuPath, never wider than the CPU', () => {
    const { detected } = addon!.cpuPath();
    withCpuPath('scalar', () => assert.equal(addon!.cpuPath().active, 'scalar'));
    withCpuPath('avx2', () => assert.equal(addon!.cpuPath().active, detected === 'scalar' ? 'scalar' : 'avx2'));
    assert.equal(addon!.cpuPath().active, detected);
  });
  it('OLMO_CPU_PATH narrows the path at start-up and refuses an unknown value by name', () => {
    const run = (value: string) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', '-e', "const t = await import('./src/tensor/index.ts'); console.log(t.cpuPaths()?.active)"],
        { env: { ...process.env, OLMO_CPU_PATH: value, OLMO_BACKEND: 'native' }, encoding: 'utf8' },
      );
    const ok = run('scalar');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), 'scalar');
    const bad = run('avx9');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /OLMO_CPU_PATH must be one of avx512, avx2, scalar, got "avx9"/);
  });
});
