// linearGroup: several weight matrices times one x in a single call. Each part must be exactly its own
// single-matrix kernel's product (every format and fast mode, every path, decoding and prefill sizes, parts of
// ragged widths), the js reference must agree, bad groups are errors naming the field, and the op that models
// call (linearGroup in ops/matmul.ts) gives linear's results whatever mix of weights it gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsWgemm } from '../../../src/tensor/kernels/js/wgemm.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { q8RowBytes, WeightFormat, type WeightGroup, type WgemmKernels } from '../../../src/tensor/kernels/types.ts';
import { linear, linearGroup, compactLinearGroup, noGrad, q8Weight, tensor } from '../../../src/tensor/index.ts';
import { inferenceWeight } from '../../../src/tensor/ops/weight-linear.ts';
import { nativeAddonOrNull, nativeSkipReason } from '../../helpers.ts';
import { expectJsError, expectNativeError, simdPaths, withCpuPath } from './kernel-test-utils.ts';
import { bits, randomF32, toBf16, toF16 } from './wgemm-test-utils.ts';

const native = (): WgemmKernels => createNativeKernels(nativeAddonOrNull()!);

type Format = 'f32' | 'bf16' | 'f16' | 'q8';
const FORMATS: readonly Format[] = ['f32', 'bf16', 'f16', 'q8'];

/** Random weights [n, k] of each part in `format` (q8_0 quantised by the js reference). */
function weightsOf(format: Format, rows: readonly number[], k: number, seed: number) {
  return rows.map((n, i) => {
    const w = randomF32(n * k, seed + i, 0.5);
    if (format === 'f32') return w;
    if (format === 'bf16') return toBf16(w);
    if (format === 'f16') return toF16(w);
    const q = new Int8Array(n * q8RowBytes(k));
    jsWgemm.quantizeQ8(w, q, n, k);
    return q;
  });
}

/**
 * One product to run: x [m, k] (or, with `inputs`, inputs[i]) times each part's weights, in `format` (its fast mode
 * when `fast`).
 */
interface Product {
  format: Format;
  fast: boolean;
  x: Float32Array;
  inputs?: Float32Array[];
  parts: ReturnType<typeof weightsOf>;
  rows: readonly number[];
  m: number;
  k: number;
}

/** Each part by its own kernel: [outputs, whether a fast mode ran]. */
function oneByOne(kern: WgemmKernels, product: Product): [Float32Array[], boolean] {
  const { format, fast, parts, rows, m, k } = product;
  let ran = false;
  const outs = parts.map((w, i) => {
    const n = rows[i];
    const x = product.inputs?.[i] ?? product.x;
    const out = new Float32Array(m * n);
    if (format === 'f32') kern.linearF32(x, w as Float32Array, out, m, n, k);
    else if (format === 'f16') kern.linearF16(x, w as Uint16Array, out, m, n, k);
    else if (format === 'bf16' && fast) ran = kern.linearBf16Fast(x, w as Uint16Array, out, m, n, k);
    else if (format === 'bf16') kern.linearBf16(x, w as Uint16Array, out, m, n, k);
    else if (fast) ran = kern.linearQ8Fast(x, w as Int8Array, out, m, n, k);
    else kern.linearQ8(x, w as Int8Array, out, m, n, k);
    return out;
  });
  return [outs, ran];
}

/** All parts in one linearGroup call: [outputs, whether a fast mode ran]. */
function grouped(
  kern: WgemmKernels,
  { format, fast, x, inputs, parts, rows, m, k }: Product,
): [Float32Array[], boolean] {
  const outs = rows.map((n) => new Float32Array(m * n).fill(NaN));
  const group: WeightGroup = {
    format: WeightFormat[format],
    fast,
    weights: parts,
    outs,
    rows,
    inputs,
  };
  return [outs, kern.linearGroup(x, group, m, k)];
}

// Decoding (one row, a batch of 8), then sizes that take the other kernels: q8_0's fast mode packs from 16 rows, f32
// weights take the panel path from 96 rows of over 1024; ragged part widths make chunks cross parts mid-tile.
const CASES: [m: number, rows: number[], k: number][] = [
  [1, [45, 7, 64], 64],
  [1, [300, 33], 1056],
  [8, [45, 7, 64], 96],
  [2, [19], 544],
  [17, [50, 13], 64],
  [96, [45, 20], 1056],
];

for (const [m, rows, k] of CASES)
  test(
    `linearGroup native = each part's own kernel, bit for bit, on every path (m ${m}, rows ${rows}, k ${k})`,
    { skip: nativeSkipReason() },
    () => {
      const x = randomF32(m * k, 5 + m);
      for (const path of [...simdPaths(), 'scalar' as const])
        withCpuPath(path, () => {
          const kern = native();
          for (const format of FORMATS)
            for (const fast of format === 'bf16' || format === 'q8' ? [false, true] : [false]) {
              const parts = weightsOf(format, rows, k, 11);
              // The parts on x, then each on an input of its own.
              const own = rows.map((_, i) => randomF32(m * k, 31 * m + i));
              for (const inputs of [undefined, own]) {
                const product = { format, fast, x, inputs, parts, rows, m, k };
                const [want, wantFast] = oneByOne(kern, product);
                const [got, gotFast] = grouped(kern, product);
                const at = `${path} ${format}${fast ? ' fast' : ''}${inputs ? ', own inputs' : ''}`;
                assert.equal(gotFast, wantFast, `${at}: whether the fast mode ran`);
                got.forEach((g, i) => assert.deepEqual(bits(g), bits(want[i]), `${at}: part ${i}`));
              }
            }
        });
    },
  );

test("linearGroup js = each part's own js kernel; native = js", () => {
  const [m, rows, k] = [3, [5, 9], 64];
  const x = randomF32(m * k, 3);
  for (const format of FORMATS)
    for (const fast of [false, true]) {
      const parts = weightsOf(format, rows, k, 21);
      const [want] = oneByOne(jsWgemm, { format, fast, x, parts, rows, m, k });
      const [got, ran] = grouped(jsWgemm, { format, fast, x, parts, rows, m, k });
      assert.equal(ran, false, 'js has no fast kernels');
      got.forEach((g, i) => assert.deepEqual(bits(g), bits(want[i]), `${format} part ${i}`));
      if (nativeSkipReason() || fast) continue; // the fast modes' native bits are the CPU's (bf16) or tested above
      const [nat] = grouped(native(), { format, fast: false, x, parts, rows, m, k });
      nat.forEach((g, i) => assert.deepEqual(bits(g), bits(want[i]), `${format} part ${i}: native`));
    }
});

test('linearGroup: bad groups are errors naming the kernel and the field', { skip: nativeSkipReason() }, () => {
  const x = new Float32Array(64);
  const w = () => new Uint16Array(64);
  const out = () => new Float32Array(2);
  const good = (): WeightGroup => ({
    format: WeightFormat.bf16,
    fast: false,
    weights: [w(), w()],
    outs: [out(), out()],
    rows: [2, 2],
  });
  const bad: [Partial<Record<keyof WeightGroup, unknown>>, RegExp, number?][] = [
    [{ weights: [], outs: [], rows: [] }, /group.weights must hold 1 to 64 matrices, got 0/],
    [
      { weights: Array.from({ length: 65 }, w), outs: Array.from({ length: 65 }, out), rows: Array(65).fill(2) },
      /1 to 64 matrices, got 65/,
    ],
    [{ outs: [out()] }, /one entry per matrix \(2\)/],
    [{ rows: [2, -1] }, /'group.rows\[1\]' must be a non-negative integer/],
    [{ weights: [w(), new Float32Array(64)] }, /'group.weights\[1\]' must be a Uint16Array/],
    [{ weights: [w(), new Uint16Array(10)] }, /'group.weights\[1\]' has 10 elements, needs at least 64/],
    [{ outs: [out(), new Float32Array(1)] }, /'group.outs\[1\]' has 1 elements, needs at least 2/],
    [{ format: 7 as never }, /group.format must be 0 \(f32\), 1 \(bf16\), 2 \(f16\) or 3 \(q8_0\), got 7/],
    [{ fast: 1 as never }, /'group.fast' must be a boolean/],
    [{ weights: 'w' as never }, /'group.weights' must be an array/],
    [{ inputs: [new Float32Array(32)] }, /one entry per matrix \(2\)/],
    [{ inputs: [new Float32Array(32), new Float32Array(8)] }, /'group.inputs\[1\]' has 8 elements, needs at least 32/],
    [{ inputs: [new Float32Array(32), new Uint16Array(32)] }, /'group.inputs\[1\]' must be a Float32Array/],
    [{ inputs: 'x' as never }, /'group.inputs' must be an array/],
    [
      // q8_0 rows of 32 weights are 34 bytes (the quants and their scale): 64 bytes are short of two rows.
      { format: WeightFormat.q8, weights: [new Int8Array(68), new Int8Array(64)] },
      /'group.weights\[1\]' has 64 elements, needs at least 68/,
    ],
    [{ format: WeightFormat.q8, weights: [new Int8Array(48), new Int8Array(48)] }, /k must be a multiple of 32/, 24],
  ];
  for (const [change, what, k = 32] of bad) {
    const group = { ...good(), ...change } as WeightGroup;
    expectNativeError('linearGroup', () => native().linearGroup(x, group, 1, k), what);
    expectJsError('linearGroup', () => jsWgemm.linearGroup(x, group, 1, k));
    assert.throws(() => jsWgemm.linearGroup(x, group, 1, k), what, `js: ${what}`);
  }
  expectNativeError(
    'linearGroup',
    () => native().linearGroup(new Float32Array(8), good(), 1, 32),
    /'x' has 8 elements, needs at least 32/,
  );
});

test('linearGroup (op): linear on each weight, in one call for compact weights of one dtype; mixes fall back', () => {
  noGrad(() => {
    const k = 64;
    const x = tensor(randomF32(2 * k, 1), [1, 2, k]);
    const f32 = (n: number, seed: number) => inferenceWeight(tensor(randomF32(n * k, seed, 0.5), [n, k]));
    const q8 = (n: number, seed: number) => {
      const q = new Int8Array(n * k).map((_, i) => ((i * 37 + seed) % 255) - 127);
      return q8Weight([n, k], q, new Uint16Array((n * k) / 32).fill(0x2000));
    };
    const trainable = tensor(randomF32(3 * k, 9, 0.5), [3, k]);
    for (const ws of [
      [f32(5, 2), f32(3, 3), f32(8, 4)],
      [q8(4, 1), q8(6, 2)],
      [f32(5, 2), q8(4, 1), trainable],
    ]) {
      const got = linearGroup(x, ws);
      assert.equal(got.length, ws.length);
      got.forEach((g, i) => {
        const want = linear(x, ws[i]);
        assert.deepEqual(g.shape, want.shape);
        assert.deepEqual(bits(g.f32()), bits(want.f32()));
      });
    }
    assert.throws(
      () => compactLinearGroup(x, [f32(5, 2), q8(4, 1)]),
      /a group's weights must be compact and of one dtype/,
    );
    assert.throws(
      () => compactLinearGroup(x, [f32(5, 2), trainable]),
      /a group's weights must be compact and of one dtype/,
    );
    assert.throws(() => compactLinearGroup(x, []), /a group takes 1 to 64 weights, got 0/);
    // One input per weight: weight i multiplies input i, grouped or not.
    const x2 = tensor(randomF32(2 * k, 2), [1, 2, k]);
    for (const ws of [
      [f32(5, 2), f32(3, 3)],
      [q8(4, 1), q8(6, 2)],
      [f32(5, 2), trainable],
    ]) {
      const got = linearGroup([x, x2], ws);
      got.forEach((g, i) => assert.deepEqual(bits(g.f32()), bits(linear([x, x2][i], ws[i]).f32())));
    }
    assert.throws(() => linearGroup([x], [f32(5, 2), f32(3, 3)]), /1 inputs for 2 weights/);
    assert.throws(
      () => compactLinearGroup([x, tensor(randomF32(k, 3), [1, k])], [f32(5, 2), f32(3, 3)]),
      /inputs must be one per weight and of one shape/,
    );
    assert.throws(
      () => compactLinearGroup(tensor(new Float32Array(3), [1, 3]), [f32(5, 2)]),
      /inner dimensions differ/,
    );
  });
});
