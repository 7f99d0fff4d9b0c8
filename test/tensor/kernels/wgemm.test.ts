// Weight-only GEMM (f32 / bf16 / f16 / q8_0 weights, f32 activations): the exact fused multiply-add of the js
// reference, native against js bit for bit on every path (AVX-512, AVX2, scalar), batch invariance (a row alone
// or among others, at any position: the same bits), q8_0 quantisation against its definition, bad arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fma32, jsWgemm } from '../../../src/tensor/kernels/js/wgemm.ts';
import { jsConvert } from '../../../src/tensor/kernels/js/convert.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { q8RowBytes, type WgemmKernels } from '../../../src/tensor/kernels/types.ts';
import type { CpuPathName } from '../../../src/tensor/native-addon.ts';
import { nativeAddonOrNull, nativeSkipReason } from '../../helpers.ts';
import { expectJsError, expectNativeError, simdPaths, withCpuPath } from './kernel-test-utils.ts';
import { bits, checkOffLineWeights, q8Split, randomF32, toBf16, toF16 } from './wgemm-test-utils.ts';
import { q8FromBlocks, q8Parts, q8Weight, Tensor } from '../../../src/tensor/index.ts';
import { packQ8_0 } from '../../../src/io/gguf/q8_0.ts';

const native = (): WgemmKernels => createNativeKernels(nativeAddonOrNull()!);
const paths = (): CpuPathName[] => [...simdPaths(), 'scalar'];

/** q8_0 rows of w by kernels `k` (r), and their quants (q) and scales (s) apart. */
function quantize(k: WgemmKernels, w: Float32Array, rows: number, cols: number) {
  const r = new Int8Array(rows * q8RowBytes(cols));
  assert.equal(k.quantizeQ8(w, r, rows, cols), 0);
  return { r, ...q8Split(r, rows, cols) };
}

/** The three formats' products of x [m, k] by the same random weights [n, k], on kernels `kern`. */
function products(kern: WgemmKernels, x: Float32Array, m: number, n: number, k: number, seed: number) {
  const w = randomF32(n * k, seed, 0.5);
  const out = () => new Float32Array(m * n);
  const bf = out(),
    f16 = out(),
    f32 = out();
  kern.linearF32(x, w, f32, m, n, k);
  kern.linearBf16(x, toBf16(w), bf, m, n, k);
  kern.linearF16(x, toF16(w), f16, m, n, k);
  const res = { f32, bf16: bf, f16 };
  if (k % 32 !== 0) return res;
  const { r } = quantize(jsWgemm, w, n, k);
  const q8 = out();
  kern.linearQ8(x, r, q8, m, n, k);
  return { ...res, q8 };
}

test('fma32 rounds a·b + c once (hand-checked ties that a double sum rounds wrongly)', () => {
  // 1 + 2^-24 is a float tie; with c = 2^-60 added the exact value is just above it, so the fused result rounds up.
  assert.equal(fma32(1 + 2 ** -23, 1, 2 ** -60), 1 + 2 ** -23);
  assert.equal(fma32(1, 1, 2 ** -24 + 2 ** -60), 1 + 2 ** -23);
  assert.equal(fma32(1, 1, 2 ** -24), 1); // an exact tie goes to even
  assert.equal(fma32(1, 1, -(2 ** -25) - 2 ** -70), 1 - 2 ** -24);
  assert.equal(fma32(3, 5, 7), 22);
  // Against BigInt-free exact arithmetic: a·b + c with small integers scaled into the float range stays exact.
  assert.equal(fma32(1.5, 1.5, -2.25), 0);
});

test('linear (js): hand-computed products and the q8_0 definition', () => {
  const x = Float32Array.from({ length: 32 }, (_, i) => i - 16);
  const w = Float32Array.from({ length: 64 }, (_, i) => (i < 32 ? 1 : i % 2 ? 0.5 : -0.25));
  const out = new Float32Array(2);
  jsWgemm.linearBf16(x, toBf16(w), out, 1, 2, 32);
  let want1 = 0;
  for (let i = 0; i < 32; i++) want1 += (i - 16) * (i % 2 ? 0.5 : -0.25);
  assert.deepEqual([...out], [-16, want1]);
  const { q, r } = quantize(jsWgemm, w, 2, 32);
  assert.deepEqual([...q.subarray(0, 4)], [127, 127, 127, 127]);
  assert.deepEqual([...q.subarray(32, 36)], [-64, 127, -64, 127]); // -0.25 / (0.5/127) = -63.5 → -64 (half away)
  assert.deepEqual([...r.subarray(34, 38)], [-64, 127, -64, 127]); // row 1 starts after row 0's 32 quants and scale
  jsWgemm.linearQ8(x, r, out, 1, 2, 32);
  assert.ok(Math.abs(out[0] + 16) < 0.02 && Math.abs(out[1] - want1) < 0.05);
});

test('linearQ8 gives the bits linearF32 gives on the dequantised matrix (q·scale is exact in f32)', () => {
  const [m, n, k] = [3, 5, 96];
  const x = randomF32(m * k, 41);
  const { q, s, r } = quantize(jsWgemm, randomF32(n * k, 42, 3), n, k);
  const scale = new Float32Array(s.length);
  jsConvert.f16ToF32(s, scale, s.length);
  const dequantised = Float32Array.from(q, (v, i) => v * scale[i >> 5]);
  const [viaQ8, viaF32] = [new Float32Array(m * n), new Float32Array(m * n)];
  jsWgemm.linearQ8(x, r, viaQ8, m, n, k);
  jsWgemm.linearF32(x, dequantised, viaF32, m, n, k);
  assert.deepEqual(bits(viaQ8), bits(viaF32));
});

for (const [m, n, k] of [
  [1, 7, 64],
  [1, 29, 1056], // one row: strided tiles (4 rows, 7 apart) over several k chunks (q8_0 scales widened per chunk)
  [1, 45, 37], // a single row: bf16's strided tiles (4 rows, 11 apart) with a k tail, then a single row
  [2, 19, 544],
  [5, 9, 96],
  [3, 5, 37],
  [9, 33, 16],
  [2, 3, 0],
  [0, 5, 64], // no x rows (an expert no token was routed to): nothing to do, and no crash
  [96, 45, 1030], // from 96 rows of over 1024, f32 weights take the panel path: a narrow last tile and a k tail
  [96, 70, 4100], // the panel path over several k blocks, with a tail
  [95, 45, 1030], // just below the panel path by rows: balanced groups of 5 and 6 rows
  [100, 9, 1024], // and by the length of a row (q8_0 weights take the panel path at any k)
  [96, 45, 512], // q8_0 on the panel path with short rows: a narrow last tile
  [97, 33, 4128], // q8_0 on the panel path over several k blocks, a last group of one x row
  [37, 45, 100], // balanced groups of 5 and 6 rows
  [1, 5000, 64], // one row over both threads: decoding hands out wide chunks of weight rows
] as const) {
  test(`linear native = js bit for bit on every path (m ${m}, n ${n}, k ${k})`, { skip: nativeSkipReason() }, () => {
    const x = randomF32(m * k, 11 + m);
    const want = products(jsWgemm, x, m, n, k, 5);
    for (const path of paths()) {
      const got = withCpuPath(path, () => products(native(), x, m, n, k, 5));
      for (const fmt of Object.keys(want) as (keyof typeof want)[])
        assert.deepEqual(bits(got[fmt]!), bits(want[fmt]!), `${fmt} on the ${path} path`);
    }
  });
}

test(
  'linear is batch-invariant: a row alone, and in batches of 2..64 at several positions, gives the same bits',
  { skip: nativeSkipReason() },
  () => {
    // 27: the tiles of 4 and 8 weight rows leave rows over; rows of 1040 in batches of 96 and more take the f32
    // panel path (q8_0 weights at 1056), the same row alone takes Tile
    for (const [n, k, sizes] of [
      [27, 160, [2, 3, 5, 8, 17, 64]],
      [27, 1040, [96, 100]],
      [27, 1056, [96, 100]], // q8_0 too (k a multiple of 32): its panel path in the batch, Tile alone
    ] as const) {
      const row = randomF32(k, 99);
      for (const path of paths()) {
        withCpuPath(path, () => {
          const alone = products(native(), row, 1, n, k, 7);
          for (const m of sizes) {
            for (const pos of new Set([0, 1, m >> 1, m - 1])) {
              const x = randomF32(m * k, m * 31 + pos);
              x.set(row, pos * k);
              const batch = products(native(), x, m, n, k, 7);
              for (const fmt of Object.keys(alone) as (keyof typeof alone)[])
                assert.deepEqual(
                  bits(batch[fmt]!.subarray(pos * n, (pos + 1) * n)),
                  bits(alone[fmt]!),
                  `${fmt}, ${path}, m ${m}, k ${k}, row ${pos}`,
                );
            }
          }
        });
      }
    }
  },
);

test(
  'linear: bf16 weight rows off their 64-byte lines (a mapped checkpoint) give the same bits, one row and batched',
  { skip: nativeSkipReason() },
  () => {
    // A single x row on AVX-512 reads such rows with aligned loads (wgemm_bf16lines.h): rows 2 bytes off a 4-byte
    // boundary take the word permute, the others the dword one; 45 rows: strided tiles of 4, then a single row.
    const [n, k] = [45, 96];
    const w = toBf16(randomF32(n * k, 21, 0.3));
    const x = randomF32(3 * k, 22);
    const want = new Float32Array(3 * n);
    jsWgemm.linearBf16(x, w, want, 3, n, k);
    for (const path of paths())
      withCpuPath(path, () => checkOffLineWeights((...a) => native().linearBf16(...a), x, w, want, k, path));
  },
);

test(
  'linear: a multithreaded large call equals the single-row calls (threads split weight rows only)',
  { skip: nativeSkipReason() },
  () => {
    const [m, n, k] = [6, 1000, 512];
    const x = randomF32(m * k, 3);
    const w = toBf16(randomF32(n * k, 4, 0.1));
    const all = new Float32Array(m * n);
    native().linearBf16(x, w, all, m, n, k);
    for (let i = 0; i < m; i++) {
      const one = new Float32Array(n);
      native().linearBf16(x.subarray(i * k, (i + 1) * k), w, one, 1, n, k);
      assert.deepEqual(bits(all.subarray(i * n, (i + 1) * n)), bits(one));
    }
  },
);

test(
  'quantizeQ8: native = js; round trip within half a step per block; zero blocks; refusals counted',
  { skip: nativeSkipReason() },
  () => {
    const [rows, cols] = [7, 96];
    const w = randomF32(rows * cols, 8, 3);
    w.fill(0, 32, 64); // an all-zero block: scale 0, quants 0
    w[100] = 2.5 * (3 / 127); // values on exact half steps round away from zero
    const a = quantize(jsWgemm, w, rows, cols);
    for (const path of paths()) {
      const b = withCpuPath(path, () => quantize(native(), w, rows, cols));
      assert.deepEqual([...b.r], [...a.r], `q8_0 rows on the ${path} path`);
    }
    assert.deepEqual([...a.q.subarray(32, 64)], new Array(32).fill(0));
    assert.equal(a.s[1], 0);
    const scale = new Float32Array(a.s.length);
    jsConvert.f16ToF32(a.s, scale, a.s.length);
    for (let i = 0; i < w.length; i++) {
      const d = scale[i >> 5];
      // |w − q·d| ≤ d/2 plus the scale's own half rounding (relative 2^-11 of |q·d| ≤ 127·d).
      assert.ok(Math.abs(w[i] - a.q[i] * d) <= d / 2 + 127 * d * 2 ** -11 + 1e-12, `element ${i}`);
    }
    const bad = randomF32(64, 1);
    bad[3] = NaN;
    bad[40] = 1e7; // max|w|/127 over the largest half
    for (const kern of [jsWgemm, native()]) assert.equal(kern.quantizeQ8(bad, new Int8Array(68), 1, 64), 2);
  },
);

test(
  'quantizeQ8Bf16 / quantizeQ8F16 read the stored bits in place: the quants of quantizeQ8 on the widened weights, every path',
  { skip: nativeSkipReason() },
  () => {
    const [rows, cols] = [9, 224];
    const w = randomF32(rows * cols, 21, 2);
    w.fill(0, 64, 96);
    w[300] = -w[301]; // a block whose largest |w| appears with both signs
    const stored = { bf16: toBf16(w), f16: toF16(w) };
    const widened = (bits: Uint16Array, conv: 'bf16ToF32' | 'f16ToF32') => {
      const f = new Float32Array(bits.length);
      jsConvert[conv](bits, f, f.length);
      return f;
    };
    const want = {
      bf16: quantize(jsWgemm, widened(stored.bf16, 'bf16ToF32'), rows, cols),
      f16: quantize(jsWgemm, widened(stored.f16, 'f16ToF32'), rows, cols),
    };
    const check = (kern: WgemmKernels, where: string) => {
      for (const fmt of ['bf16', 'f16'] as const) {
        const r = new Int8Array(rows * q8RowBytes(cols));
        const bad =
          fmt === 'bf16'
            ? kern.quantizeQ8Bf16(stored.bf16, r, rows, cols)
            : kern.quantizeQ8F16(stored.f16, r, rows, cols);
        assert.equal(bad, 0);
        assert.deepEqual([...r], [...want[fmt].r], `${fmt} q8_0 rows, ${where}`);
      }
    };
    check(jsWgemm, 'js');
    for (const path of paths()) withCpuPath(path, () => check(native(), path));
    // Non-finite stored values are counted as bad blocks.
    const badBits = stored.bf16.slice(0, 64);
    badBits[5] = 0x7fc0; // bf16 NaN
    badBits[40] = 0xff80; // bf16 -Inf
    for (const kern of [jsWgemm, native()]) assert.equal(kern.quantizeQ8Bf16(badBits, new Int8Array(68), 1, 64), 2);
  },
);

test(
  'linear/quantize: bad arguments are errors naming the kernel and the argument',
  { skip: nativeSkipReason() },
  () => {
    const x = new Float32Array(64);
    const out = new Float32Array(4);
    for (const [kern, expect] of [
      [native(), (op: string, f: () => void, what: RegExp) => expectNativeError(op, f, what)],
      [jsWgemm, (op: string, f: () => void) => expectJsError(op, f)],
    ] as const) {
      expect(
        'linearBf16',
        () => kern.linearBf16(x, new Uint16Array(10), out, 1, 2, 32),
        /'w' has 10 elements, needs at least 64/,
      );
      expect(
        'linearF32',
        () => kern.linearF32(x, new Float32Array(10), out, 1, 2, 32),
        /'w' has 10 elements, needs at least 64/,
      );
      for (const op of ['linearQ8', 'linearQ8Fast'] as const) {
        const q8 = kern[op];
        expect(op, () => q8(x, new Int8Array(40), out, 1, 2, 20), /multiple of 32/);
        // Two rows of 32 weights are 2 × 34 bytes (each row's quants and its scale): 64 quants alone are short.
        expect(op, () => q8(x, new Int8Array(64), out, 1, 2, 32), /'w' has 64 elements, needs at least 68/);
        expect(op, () => q8(x, new Int8Array(68), out, 3, 2, 32), /'x' has 64 elements, needs/);
      }
      expect('quantizeQ8', () => kern.quantizeQ8(x, new Int8Array(64), 1, 48), /multiple of 32/);
      expect(
        'quantizeQ8',
        () => kern.quantizeQ8(x, new Int8Array(64), 1, 64),
        /'q' has 64 elements, needs at least 68/,
      );
      expect(
        'quantizeQ8Bf16',
        () => kern.quantizeQ8Bf16(new Uint16Array(64), new Int8Array(64), 1, 48),
        /multiple of 32/,
      );
      expect(
        'quantizeQ8F16',
        () => kern.quantizeQ8F16(new Uint16Array(10), new Int8Array(68), 1, 64),
        /'w' has 10 elements/,
      );
    }
    for (const op of ['linearQ8', 'linearQ8Fast'] as const)
      assert.throws(
        () => (native()[op] as (...a: unknown[]) => void)(x, new Uint8Array(68), out, 1, 2, 32),
        /'w' must be a Int8Array/,
      );
    assert.throws(
      () => (native().linearF32 as (...a: unknown[]) => void)(x, new Uint16Array(64), out, 1, 2, 32),
      /'w' must be a Float32Array/,
    );
  },
);

test('q8_0 tensors: q8Weight and q8Parts round-trip the quants and scales; bad shapes and lengths are errors naming them', () => {
  const [rows, cols] = [3, 64];
  const q = Int8Array.from({ length: rows * cols }, (_, i) => (i % 255) - 127);
  const s = Uint16Array.from({ length: (rows * cols) / 32 }, (_, i) => 0x3c00 + i);
  const t = q8Weight([rows, cols], q, s);
  assert.equal(t.dtype, 'q8_0');
  assert.equal(t.data.length, rows * q8RowBytes(cols));
  // Row 1 holds its 64 quants, then its two scales (little-endian bits).
  const row1 = (t.data as Int8Array).subarray(q8RowBytes(cols), 2 * q8RowBytes(cols));
  assert.deepEqual([...row1.subarray(0, cols)], [...q.subarray(cols, 2 * cols)]);
  assert.deepEqual([...new Uint16Array(Uint8Array.from(row1.subarray(cols)).buffer)], [s[2], s[3]]);
  assert.deepEqual(q8Parts(t), { quants: q, scales: s });
  assert.deepEqual(q8Parts(t, 1, 2), { quants: q.subarray(cols, 2 * cols), scales: s.subarray(2, 4) });
  assert.throws(
    () => q8Weight([rows, 48], q, s),
    /q8Weight: a q8_0 weight's shape must be \[rows, cols\] with cols a multiple of 32, got \[3, 48\]/,
  );
  assert.throws(() => q8Weight([rows, cols], q.subarray(1), s), /needs 192 quants, got 191/);
  assert.throws(() => q8Weight([rows, cols], q, s.subarray(1)), /needs 6 block scales, got 5/);
  assert.throws(() => Tensor.fromStorage([rows, cols], 'q8_0', q), /q8_0 \[3, 64\] needs 204 elements, got 192/);
  assert.throws(() => Tensor.fromStorage([rows * cols], 'q8_0', q), /a q8_0 tensor is a matrix \[rows, cols\]/);
  assert.throws(() => t.viewAs([cols, rows]), /a q8_0 matrix .* is stored by rows and keeps its shape/);
  assert.throws(() => t.toArray(), /a q8_0 matrix's values come from widenRows/);
  assert.throws(() => q8Parts(Tensor.fromStorage([2], 'f32', new Float32Array(2))), /is not a q8_0 weight/);
});

test('q8FromBlocks: ggml q8_0 blocks into q8_0 rows, native = js = packQ8_0 inverted; bad arguments named', () => {
  const [rows, cols] = [5, 96];
  const quants = Int8Array.from({ length: rows * cols }, (_, i) => ((i * 7) % 255) - 127);
  const scales = Uint16Array.from({ length: (rows * cols) / 32 }, (_, i) => 0x2c00 + 37 * i);
  const blocks = packQ8_0(quants, scales);
  const want = q8Weight([rows, cols], quants, scales);
  assert.deepEqual(q8FromBlocks([rows, cols], blocks).data, want.data);
  const i8 = new Int8Array(blocks.buffer);
  const kerns: [string, WgemmKernels][] = [['js', jsWgemm]];
  if (!nativeSkipReason()) kerns.push(['native', native()]);
  for (const [name, kern] of kerns) {
    const q = new Int8Array(rows * q8RowBytes(cols));
    kern.q8FromBlocks(i8, q, rows, cols);
    assert.deepEqual(q, want.data, name);
  }
  assert.throws(() => q8FromBlocks([rows, cols], blocks.subarray(1)), /needs 510 bytes of q8_0 blocks, got 509/);
  assert.throws(() => q8FromBlocks([rows, 40], blocks), /cols a multiple of 32, got \[5, 40\]/);
  if (!nativeSkipReason()) {
    const q = new Int8Array(rows * q8RowBytes(cols));
    expectNativeError('q8FromBlocks', () => native().q8FromBlocks(i8.subarray(2), q, rows, cols), /'blocks' has 508/);
    expectNativeError('q8FromBlocks', () => native().q8FromBlocks(i8, q, rows, 48), /multiple of 32/);
  }
  expectJsError('q8FromBlocks', () => jsWgemm.q8FromBlocks(i8, new Int8Array(10), rows, cols));
});
