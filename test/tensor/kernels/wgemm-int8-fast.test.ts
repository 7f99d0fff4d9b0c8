// The int8 fast mode (linearQ8Fast: x quantised to q8_0 per 32-element block, integer block sums): its definition
// on hand-made inputs, native against the js reference bit for bit on every path (the VNNI kernels' reduction
// across lanes for a few rows, their packed weights from 16 rows on, the reference tile elsewhere), batch
// invariance across that switch, the stated error bound against the exact linearQ8, non-finite inputs, the
// OLMO_INT8_FAST switch, a fixture model's logits. (Its bad arguments are checked with linearQ8's, in wgemm.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { jsWgemm } from '../../../src/tensor/kernels/js/wgemm.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { q8RowBytes, type WgemmKernels } from '../../../src/tensor/kernels/types.ts';
import { compactLinear, int8FastMode, q8Weight, setInt8Fast } from '../../../src/tensor/ops/weight-linear.ts';
import { Tensor } from '../../../src/tensor/index.ts';
import type { CpuPathName } from '../../../src/tensor/native-addon.ts';
import { nativeAddonOrNull, nativeSkipReason } from '../../helpers.ts';
import { simdPaths, withCpuPath } from './kernel-test-utils.ts';
import { bits, checkEnvSwitch, fixtureFastModeError, q8Rows, q8Split, randomF32 } from './wgemm-test-utils.ts';

const native = (): WgemmKernels => createNativeKernels(nativeAddonOrNull()!);
const paths = (): CpuPathName[] => [...simdPaths(), 'scalar'];

/** The quants and scales (apart) of w quantised by the js reference. */
function quantized(w: Float32Array, rows: number, cols: number): { q: Int8Array; s: Uint16Array } {
  const r = new Int8Array(rows * q8RowBytes(cols));
  assert.equal(jsWgemm.quantizeQ8(w, r, rows, cols), 0);
  return q8Split(r, rows, cols);
}

function run(
  kern: WgemmKernels,
  fast: boolean,
  x: Float32Array,
  q: Int8Array,
  s: Uint16Array,
  m: number,
  n: number,
  k: number,
) {
  const out = new Float32Array(m * n);
  (fast ? kern.linearQ8Fast : kern.linearQ8)(x, q8Rows(q, s, n, k), out, m, n, k);
  return out;
}

test('linearQ8Fast (js): x quantised as q8_0 and the blocks summed as integers, by hand', () => {
  // Block 0 of x: amax 127 → dx = 1, quants exactly x; block 1: amax 2.54 → dx = 0.02, x = ±0.01 rounds half away.
  const x = new Float32Array(64);
  for (let e = 0; e < 32; e++) x[e] = e % 2 ? 127 : -3;
  for (let e = 32; e < 64; e++) x[e] = e === 32 ? 2.54 : e % 2 ? 0.01 : -0.01;
  const q = new Int8Array(64).fill(1);
  const s = Uint16Array.of(0x3c00, 0x4000); // weight scales 1 and 2
  const out = new Float32Array(1);
  jsWgemm.linearQ8Fast(x, q8Rows(q, s, 1, 64), out, 1, 1, 64);
  const dx1 = Math.fround(2.54 / 127);
  const xq1 = Math.round(Math.fround(0.01 * Math.fround(1 / dx1))); // 0.5 rounds away from zero: ±1
  assert.equal(xq1, 1);
  const block0 = 16 * 127 + 16 * -3; // dx 1 · dw 1
  const block1 = 127 + 16 * xq1 - 15 * xq1; // 2.54 → 127; odd offsets 33..63 (+0.01), even 34..62 (−0.01)
  assert.equal(out[0], Math.fround(block0 + block1 * Math.fround(dx1 * 2)));
});

for (const [m, n, k] of [
  [1, 7, 64],
  [1, 29, 1056], // 33 blocks: two steps of 16 and a last one of 1; decoding's strided tiles, 4 rows 7 apart
  [1, 600, 64], // one row over both threads: strided tiles 64 rows apart, then shorter strides
  [3, 19, 544],
  [5, 9, 96],
  [15, 50, 512], // the last row count before the packed kernel
  [16, 50, 544], // the first with it: a narrow last pack of 48 weight rows
  [17, 97, 1024], // a group of one row after four groups of four
  [33, 48, 32], // one block: fifteen lanes never used
  [2, 3, 0],
  [0, 5, 64], // no x rows: nothing to do, and no crash
] as const) {
  test(
    `linearQ8Fast: native equals js bit for bit on every path (m ${m}, n ${n}, k ${k})`,
    { skip: nativeSkipReason() },
    () => {
      const x = randomF32(m * k, 10 + m, 2);
      const { q, s } = quantized(randomF32(n * k, 20 + n, 0.5), n, k);
      const want = run(jsWgemm, true, x, q, s, m, n, k);
      for (const path of paths())
        withCpuPath(path, () => assert.deepEqual(bits(run(native(), true, x, q, s, m, n, k)), bits(want), path));
    },
  );
}

/** Whether /proc/cpuinfo (Linux) lists AVX512_VNNI beside the AVX-512 path. */
function cpuHasVnni(): boolean {
  if (!existsSync('/proc/cpuinfo') || !simdPaths().includes('avx512')) return false;
  return /\bavx512_vnni\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
}

test(
  'linearQ8Fast says whether the AVX512-VNNI kernels ran: on the AVX-512 path of a VNNI CPU only',
  { skip: nativeSkipReason() },
  () => {
    const call = (kern: WgemmKernels) =>
      kern.linearQ8Fast(new Float32Array(64), new Int8Array(68), new Float32Array(1), 1, 1, 64);
    assert.equal(call(jsWgemm), false);
    for (const path of paths())
      withCpuPath(path, () => assert.equal(call(native()), path === 'avx512' && cpuHasVnni(), path));
  },
);

test(
  'linearQ8Fast is batch-invariant: a row alone, and in batches of 2..64 at several positions, gives the same bits',
  { skip: nativeSkipReason() },
  () => {
    const [n, k] = [53, 1088];
    const row = randomF32(k, 99, 3);
    const { q, s } = quantized(randomF32(n * k, 7, 0.1), n, k);
    const alone = run(native(), true, row, q, s, 1, n, k);
    for (const m of [2, 3, 5, 8, 15, 16, 17, 33, 64]) {
      for (const pos of new Set([0, 1, m >> 1, m - 1])) {
        const x = randomF32(m * k, m * 31 + pos, 3);
        x.set(row, pos * k);
        const out = run(native(), true, x, q, s, m, n, k);
        assert.deepEqual(bits(out.subarray(pos * n, (pos + 1) * n)), bits(alone), `m ${m}, row ${pos}`);
      }
    }
  },
);

/**
 * The stated bound of one output against linearQ8: rounding x to its block's grid moves each value by at most
 * dx_b/2 (so a product by at most dx_b/2·|w|), with dx_b = max|x over b|/127 (one rounding, allowed for by the
 * factor 1.001); each order's f32 sum errs by at most k·2^-24 of Σ|x·w| (a generous count of its roundings).
 */
function bound(x: Float32Array, xo: number, q: Int8Array, s: Uint16Array, wo: number, k: number): number {
  let quant = 0;
  let sum = 0;
  for (let b = 0; b < k / 32; b++) {
    let amax = 0;
    let wsum = 0;
    const dw = f16(s[(wo + 32 * b) / 32]);
    for (let e = 0; e < 32; e++) {
      const c = 32 * b + e;
      amax = Math.max(amax, Math.abs(x[xo + c]));
      wsum += Math.abs(q[wo + c] * dw);
      sum += Math.abs(x[xo + c] * q[wo + c] * dw);
    }
    quant += ((1.001 * amax) / 127 / 2) * wsum;
  }
  return quant + 4 * k * 2 ** -24 * sum;
}

function f16(h: number): number {
  const e = (h >> 10) & 31;
  const mant = h & 1023;
  const v = e === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

test('linearQ8Fast: within the stated bound of linearQ8, and not equal to it', { skip: nativeSkipReason() }, () => {
  let worst = 0;
  let differs = false;
  for (const [m, n, k, scale] of [
    [1, 37, 2048, 1],
    [20, 19, 96, 1e3],
    [4, 8, 64, 1e-3],
    [6, 40, 512, 1],
  ] as const) {
    const x = randomF32(m * k, 3 + k, scale);
    const { q, s } = quantized(randomF32(n * k, 4 + k, 0.5), n, k);
    const fast = run(native(), true, x, q, s, m, n, k);
    const exact = run(native(), false, x, q, s, m, n, k);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const err = Math.abs(fast[i * n + j] - exact[i * n + j]);
        const b = bound(x, i * k, q, s, j * k, k);
        assert.ok(err <= b, `out[${i}, ${j}] (m ${m}, n ${n}, k ${k}): |fast - exact| = ${err} over the bound ${b}`);
        worst = Math.max(worst, err / b);
        differs ||= fast[i * n + j] !== exact[i * n + j];
      }
  }
  assert.ok(differs, 'the fast mode gave exactly the exact results: x was not quantised');
  if (process.env.OLMO_TEST_VERBOSE) console.log(`int8 fast worst error ${worst} of the bound`);
});

test(
  'linearQ8Fast: a non-finite value makes its own row NaN and leaves the others as they were',
  { skip: nativeSkipReason() },
  () => {
    const [m, n, k] = [18, 5, 64]; // 18 rows: the packed kernel; row 1 alone: the few-rows kernel
    const x = randomF32(m * k, 5);
    const { q, s } = quantized(randomF32(n * k, 6, 0.2), n, k);
    const clean = run(native(), true, x, q, s, m, n, k);
    x[3 * k + 40] = Infinity;
    x[7 * k + 2] = NaN;
    for (const kern of [native(), jsWgemm]) {
      const out = run(kern, true, x, q, s, m, n, k);
      for (let i = 0; i < m; i++) {
        const row = out.subarray(i * n, (i + 1) * n);
        if (i === 3 || i === 7) assert.ok(row.every(Number.isNaN), `row ${i}: ${row}`);
        else assert.deepEqual(bits(row), bits(clean.subarray(i * n, (i + 1) * n)), `row ${i}`);
      }
      const one = run(kern, true, x.subarray(3 * k, 4 * k), q, s, 1, n, k);
      assert.ok(one.every(Number.isNaN));
    }
  },
);

test('OLMO_INT8_FAST: "1" on, "0" or unset off, anything else refused by name; compactLinear follows it', () => {
  checkEnvSwitch('OLMO_INT8_FAST', int8FastMode, setInt8Fast);
  const [m, n, k] = [3, 6, 64];
  const x = randomF32(m * k, 1);
  const { q, s } = quantized(randomF32(n * k, 2, 0.3), n, k);
  const w = q8Weight([n, k], q, s);
  const xt = Tensor.fromStorage([m, k], 'f32', x);
  try {
    for (const fast of [false, true]) {
      setInt8Fast(fast);
      const got = compactLinear(xt, w).f32().slice();
      const kern = nativeAddonOrNull() ? native() : jsWgemm;
      assert.deepEqual(bits(got), bits(run(kern, fast, x, q, s, m, n, k)), `fast ${fast}`);
    }
  } finally {
    setInt8Fast(undefined);
  }
});

// The stated logit bound of the int8 fast mode on the fixture model (int8 weights): within 2% of the largest
// |logit| of the exact int8 mode, as for the bf16 fast mode (each linear is within its bound above; through the
// layers these add up, and the logits of these tiny random-weight models are small, so the bound is loose).
const FAST_LOGIT_BOUND = 0.02;

test(
  `int8 fast mode: fixture logits within ${FAST_LOGIT_BOUND} of max|logit| of the exact int8 mode`,
  { skip: nativeSkipReason() },
  () => {
    const { err, maxAbs } = fixtureFastModeError('int8', setInt8Fast);
    assert.ok(err > 0, 'the fast mode changed no logit: it did not run');
    assert.ok(err <= FAST_LOGIT_BOUND * maxAbs, `fast-mode logits off by ${err}, over ${FAST_LOGIT_BOUND}·${maxAbs}`);
    if (process.env.OLMO_TEST_VERBOSE) console.log(`int8 fast max error ${err} (max|logit| ${maxAbs})`);
  },
);

test(
  'int8 fast mode without its VNNI kernels: the same results, and a notice on stderr once',
  { skip: nativeSkipReason() },
  () => {
    const [m, n, k] = [3, 6, 64];
    const x = Tensor.fromStorage([m, k], 'f32', randomF32(m * k, 4));
    const { q, s } = quantized(randomF32(n * k, 5, 0.3), n, k);
    const w = q8Weight([n, k], q, s);
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((text: string) => written.push(String(text)) > 0) as typeof process.stderr.write;
    setInt8Fast(true);
    try {
      const wide = compactLinear(x, w).f32().slice();
      withCpuPath('scalar', () => {
        for (let i = 0; i < 2; i++) assert.deepEqual(bits(compactLinear(x, w).f32().slice()), bits(wide));
      });
    } finally {
      process.stderr.write = write;
      setInt8Fast(undefined);
    }
    const notices = written.filter((t) => t.includes('int8 fast mode'));
    assert.equal(notices.length, 1, `notices: ${JSON.stringify(written)}`);
    assert.match(notices[0], /AVX512-VNNI.*reference loop gives the same results/);
  },
);
