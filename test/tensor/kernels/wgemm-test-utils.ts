// Shared inputs of the weight-only GEMM tests (wgemm.test.ts, wgemm-bf16-fast.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsConvert } from '../../../src/tensor/kernels/js/convert.ts';
import { loadModel, type LoadOptions } from '../../../src/models/index.ts';
import { noGrad, q8Parts, q8Weight, Tensor, tidy } from '../../../src/tensor/index.ts';
import { allocAligned } from '../../../src/tensor/mapped-file.ts';
import { rng } from '../../helpers.ts';

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}
export function toBf16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  jsConvert.f32ToBf16(x, out, x.length);
  return out;
}
export function toF16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  jsConvert.f32ToF16(x, out, x.length);
  return out;
}
/** The bit patterns of a Float32Array, to compare results exactly (NaN payloads and signed zeros included). */
type Bf16Linear = (x: Float32Array, w: Uint16Array, out: Float32Array, m: number, n: number, k: number) => unknown;

/**
 * `linear` of x [rows, k] by copies of the bf16 weights w [n, k] that start 2, 4, 16, 34 and 62 bytes past a 64-byte
 * line, as a mapped checkpoint's do: the whole batch and each row alone must give `want`'s bits.
 */
export function checkOffLineWeights(
  linear: Bf16Linear,
  x: Float32Array,
  w: Uint16Array,
  want: Float32Array,
  k: number,
  label: string,
): void {
  const rows = x.length / k,
    n = w.length / k;
  for (const skew of [2, 4, 16, 34, 62]) {
    const storage = new Uint16Array(allocAligned(w.length * 2 + 64), skew, w.length);
    storage.set(w);
    const batch = new Float32Array(rows * n);
    linear(x, storage, batch, rows, n, k);
    assert.deepEqual(bits(batch), bits(want), `batch of ${rows}, ${label}, ${skew} bytes off`);
    for (let i = 0; i < rows; i++) {
      const one = new Float32Array(n);
      linear(x.subarray(i * k, (i + 1) * k), storage, one, 1, n, k);
      assert.deepEqual(bits(one), bits(want.subarray(i * n, (i + 1) * n)), `row ${i}, ${label}, ${skew} bytes off`);
    }
  }
}

export const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

/**
 * An opt-in switch read from the environment variable `name` (OLMO_BF16_FAST, OLMO_INT8_FAST): "1" on, "0" or unset
 * off, anything else refused by name. `mode` reads it, `set(undefined)` makes it read the variable again; the
 * variable and the switch are restored after.
 */
export function checkEnvSwitch(name: string, mode: () => boolean, set: (on: boolean | undefined) => void): void {
  const before = process.env[name];
  try {
    for (const [value, on] of [
      ['1', true],
      ['0', false],
      ['', false],
    ] as const) {
      process.env[name] = value;
      set(undefined);
      assert.equal(mode(), on, `${name}="${value}"`);
    }
    process.env[name] = 'yes';
    set(undefined);
    assert.throws(() => mode(), new RegExp(`${name} must be "1" or "0", got "yes"`));
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
    set(undefined);
  }
}

/**
 * The fixture model (OLMo 2, bf16 weights) loaded with `weights`, run on two rows of ids with its fast mode off and
 * then on (`set`): the largest |fast − exact| logit and the largest |exact| logit.
 */
export function fixtureFastModeError(
  weights: LoadOptions['weights'],
  set: (on: boolean | undefined) => void,
): { err: number; maxAbs: number } {
  const model = loadModel(join(import.meta.dirname, '..', '..', 'fixtures', 'olmo2', 'model-bf16'), { weights });
  const ids = Tensor.fromStorage([2, 6], 'i32', Int32Array.from([1, 5, 9, 42, 7, 3, 8, 8, 2, 100, 4, 6]));
  const logits = (fast: boolean) => {
    set(fast);
    try {
      return noGrad(() => tidy(() => model.forward(ids).logits.f32().slice()));
    } finally {
      set(undefined);
    }
  };
  const exact = logits(false);
  const fast = logits(true);
  let err = 0;
  for (let i = 0; i < exact.length; i++) err = Math.max(err, Math.abs(fast[i] - exact[i]));
  return { err, maxAbs: exact.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
}

/** q8_0 rows (kernels/types.ts q8RowBytes: each row's quants, then its block scales) of quants [rows, cols] and scales [rows, cols/32]. */
export function q8Rows(q: Int8Array, s: Uint16Array, rows: number, cols: number): Int8Array {
  return q8Weight([rows, cols], q, s).data as Int8Array;
}

/** The quants [rows, cols] and block scales [rows, cols/32] of q8_0 rows. */
export function q8Split(rowsData: Int8Array, rows: number, cols: number): { q: Int8Array; s: Uint16Array } {
  const { quants, scales } = q8Parts(Tensor.fromStorage([rows, cols], 'q8_0', rowsData));
  return { q: quants, s: scales };
}
