// The bf16 fast mode (linearBf16Fast: x rounded to bf16, AVX512_BF16 dot products): its stated error bound
// against the exact linearBf16 on random data and on a fixture model's weights and activations, batch
// invariance on this machine, the exact kernel where the fast one cannot run (js backend, AVX2 or scalar path
// forced, a CPU without AVX512_BF16), the OLMO_BF16_FAST switch and its one-time fallback notice, bad arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsWgemm } from '../../../src/tensor/kernels/js/wgemm.ts';
import { jsConvert } from '../../../src/tensor/kernels/js/convert.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { allocAligned } from '../../../src/tensor/mapped-file.ts';
import type { WgemmKernels } from '../../../src/tensor/kernels/types.ts';
import { bf16FastMode, compactLinear, setBf16Fast } from '../../../src/tensor/ops/weight-linear.ts';
import { setCpuPath, Tensor } from '../../../src/tensor/index.ts';
import { loadModel } from '../../../src/models/index.ts';
import { nativeAddonOrNull, nativeSkipReason } from '../../helpers.ts';
import { expectJsError, expectNativeError, simdPaths, withCpuPath } from './kernel-test-utils.ts';
import {
  bits,
  checkOffLineWeights,
  checkEnvSwitch,
  fixtureFastModeError,
  randomF32,
  toBf16,
} from './wgemm-test-utils.ts';

/** Whether /proc/cpuinfo (Linux) lists AVX512_BF16 beside the AVX-512 path. */
function cpuHasBf16Dot(): boolean {
  if (!existsSync('/proc/cpuinfo') || !simdPaths().includes('avx512')) return false;
  return /\bavx512_bf16\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
}
const native = (): WgemmKernels => createNativeKernels(nativeAddonOrNull()!);

function widen(w: Uint16Array): Float32Array {
  const out = new Float32Array(w.length);
  jsConvert.bf16ToF32(w, out, w.length);
  return out;
}

/**
 * The stated bound of one output: rounding x to bf16 (8 significant bits, to nearest) moves each product x·w by
 * at most 2^-8·|x·w|, and a product of two bf16 is exact in f32; each mode's f32 sum of k terms errs by at most
 * k·2^-24 of Σ|x·w| (a generous count of its roundings); subnormals flushed to zero by the instruction add at
 * most 2^-126 per term and per addition.
 */
function bound(x: Float32Array, xo: number, wf: Float32Array, wo: number, k: number): number {
  let s = 0;
  let sw = 0;
  for (let c = 0; c < k; c++) {
    s += Math.abs(x[xo + c] * wf[wo + c]);
    sw += Math.abs(wf[wo + c]);
  }
  return 2 ** -8 * s + 2 * k * 2 ** -24 * s + 2 ** -126 * (2 * k + 16 + sw);
}

/** Runs linearBf16Fast and linearBf16 on the same input; checks the bound (or the same bits when not fast). */
function checkAgainstExact(kern: WgemmKernels, x: Float32Array, w: Uint16Array, m: number, n: number, k: number) {
  const fast = new Float32Array(m * n);
  const exact = new Float32Array(m * n);
  const ran = kern.linearBf16Fast(x, w, fast, m, n, k);
  kern.linearBf16(x, w, exact, m, n, k);
  if (!ran) {
    assert.deepEqual(bits(fast), bits(exact), 'without the fast mode, linearBf16Fast is linearBf16');
    return { ran, fast, worst: 0 };
  }
  const wf = widen(w);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const err = Math.abs(fast[i * n + j] - exact[i * n + j]);
      const b = bound(x, i * k, wf, j * k, k);
      assert.ok(err <= b, `out[${i}, ${j}] (m ${m}, n ${n}, k ${k}): |fast - exact| = ${err} over the bound ${b}`);
      worst = Math.max(worst, b > 0 ? err / b : 0);
    }
  }
  return { ran, fast, worst };
}

test('linearBf16Fast (js): the exact linearBf16, reporting that the fast mode did not run', () => {
  const [m, n, k] = [3, 5, 70];
  const x = randomF32(m * k, 1);
  const w = toBf16(randomF32(n * k, 2, 0.3));
  const a = new Float32Array(m * n);
  const b = new Float32Array(m * n);
  assert.equal(jsWgemm.linearBf16Fast(x, w, a, m, n, k), false);
  jsWgemm.linearBf16(x, w, b, m, n, k);
  assert.deepEqual(bits(a), bits(b));
});

test('linearBf16Fast: within the stated bound of linearBf16 on random data', { skip: nativeSkipReason() }, () => {
  let ranSomewhere = false;
  let differs = false;
  for (const [m, n, k, scale] of [
    [1, 37, 2048, 1], // decoding's strided tiles: 4 rows 9 apart, then a single row
    [1, 300, 64, 1], // a full stride (4 rows 32 apart) and shorter ones
    [5, 19, 96, 1],
    [4, 8, 77, 1e3], // k % 32 != 0: the masked last step
    [9, 33, 16, 1e-3], // shorter than one step
    [2, 3, 0, 1],
    [6, 40, 513, 1],
  ] as const) {
    const x = randomF32(m * k, 3 + k, scale);
    const w = toBf16(randomF32(n * k, 4 + k, 0.5));
    const { ran, fast, worst } = checkAgainstExact(native(), x, w, m, n, k);
    ranSomewhere ||= ran;
    if (ran && k > 0) {
      const exact = new Float32Array(m * n);
      native().linearBf16(x, w, exact, m, n, k);
      differs ||= bits(fast).some((b, i) => b !== bits(exact)[i]);
      assert.ok(worst < 1, `m ${m}, n ${n}, k ${k}: worst error ${worst} of the bound`);
    }
  }
  if (cpuHasBf16Dot()) assert.ok(ranSomewhere, 'this CPU has AVX512_BF16, yet the fast mode never ran');
  // Rounding x to bf16 must show somewhere, or the fast kernel is not what ran.
  if (ranSomewhere) assert.ok(differs, 'the fast mode gave exactly the exact results');
});

test(
  'linearBf16Fast: on the AVX2 and scalar paths it is the exact linearBf16, bit for bit',
  { skip: nativeSkipReason() },
  () => {
    const [m, n, k] = [3, 21, 160];
    const x = randomF32(m * k, 5);
    const w = toBf16(randomF32(n * k, 6, 0.2));
    for (const path of [...simdPaths().filter((p) => p !== 'avx512'), 'scalar'] as const) {
      withCpuPath(path, () => {
        const { ran } = checkAgainstExact(native(), x, w, m, n, k);
        assert.equal(ran, false, `the fast mode ran on the ${path} path`);
      });
    }
  },
);

test(
  'linearBf16Fast is batch-invariant: a row alone, and in batches of 2..64 at several positions, gives the same bits',
  { skip: nativeSkipReason() },
  () => {
    const [n, k] = [40, 333];
    const row = randomF32(k, 99);
    const w = toBf16(randomF32(n * k, 7, 0.1));
    const alone = new Float32Array(n);
    native().linearBf16Fast(row, w, alone, 1, n, k);
    for (const m of [2, 3, 5, 8, 17, 64]) {
      for (const pos of new Set([0, 1, m >> 1, m - 1])) {
        const x = randomF32(m * k, m * 31 + pos);
        x.set(row, pos * k);
        const out = new Float32Array(m * n);
        native().linearBf16Fast(x, w, out, m, n, k);
        assert.deepEqual(bits(out.subarray(pos * n, (pos + 1) * n)), bits(alone), `m ${m}, row ${pos}`);
      }
    }
  },
);

test(
  'linearBf16Fast: weight rows off their 64-byte lines (a mapped checkpoint) give the bits of the same rows on lines',
  { skip: nativeSkipReason() },
  () => {
    // A batch copies such rows onto lines first (Run and LinearBf16Fast in wgemm.cc), one x row reads them where
    // they lie: both must multiply the very weights the rows on lines hold, in the same order.
    const w = toBf16(randomF32(45 * 96, 23, 0.3)); // 45 rows of 96
    const onLines = new Uint16Array(allocAligned(w.length * 2));
    onLines.set(w);
    const x = randomF32(3 * 96, 24);
    const want = new Float32Array(3 * 45);
    native().linearBf16Fast(x, onLines, want, 3, 45, 96);
    checkOffLineWeights((...a) => native().linearBf16Fast(...a), x, w, want, 96, 'avx512');
  },
);

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'olmo2', 'model-bf16');

test(
  "linearBf16Fast: within the stated bound on a fixture model's weights and hidden states",
  { skip: nativeSkipReason() },
  () => {
    const model = loadModel(FIXTURE, { weights: 'stored' });
    const params = new Map(model.namedParameters());
    const embed = [...params].find(([name]) => name.includes('embed_tokens'))![1];
    const [, dim] = embed.shape;
    const ids = [1, 5, 9, 42, 7, 3];
    const x = new Float32Array(ids.length * dim);
    ids.forEach((id, i) => x.set(widen((embed.data as Uint16Array).subarray(id * dim, (id + 1) * dim)), i * dim));
    let checked = 0;
    for (const [name, w] of params) {
      if (w.dtype !== 'bf16' || w.rank !== 2 || w.shape[1] !== dim || name.includes('embed')) continue;
      checkAgainstExact(native(), x, w.data as Uint16Array, ids.length, w.shape[0], dim);
      checked++;
    }
    assert.ok(checked >= 3, `only ${checked} matrices of the fixture take the hidden size`);
  },
);

// The stated logit bound of the fast mode on the fixture model: within 2% of the largest |logit| of the exact
// mode. Each linear is within 2^-8 of its Σ|x·w| (above); through the layers these add up, and the logits of
// these tiny random-weight models are small, so the bound is loose on purpose (observed 0.65% on Zen 5).
const FAST_LOGIT_BOUND = 0.02;

test(
  `bf16 fast mode (OLMO_BF16_FAST): fixture logits within ${FAST_LOGIT_BOUND} of max|logit| of the exact mode`,
  { skip: nativeSkipReason() },
  () => {
    const { err, maxAbs } = fixtureFastModeError('stored', setBf16Fast);
    assert.ok(err <= FAST_LOGIT_BOUND * maxAbs, `fast-mode logits off by ${err}, over ${FAST_LOGIT_BOUND}·${maxAbs}`);
    if (process.env.OLMO_TEST_VERBOSE) console.log(`bf16 fast max error ${err} (max|logit| ${maxAbs})`);
  },
);

test('OLMO_BF16_FAST: "1" on, "0" or unset off, anything else refused by name', () => {
  checkEnvSwitch('OLMO_BF16_FAST', bf16FastMode, setBf16Fast);
});

test(
  'bf16 fast mode where it cannot run: the exact results, and a notice on stderr once',
  { skip: nativeSkipReason() },
  () => {
    const [n, k] = [6, 64];
    const w = Tensor.fromStorage([n, k], 'bf16', toBf16(randomF32(n * k, 8, 0.2)));
    const x = Tensor.fromStorage([2, k], 'f32', randomF32(2 * k, 9));
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => written.push(String(s)) > 0) as typeof process.stderr.write;
    setCpuPath('avx2');
    try {
      setBf16Fast(false);
      const exact = compactLinear(x, w).f32().slice();
      setBf16Fast(true);
      const first = compactLinear(x, w).f32().slice();
      const second = compactLinear(x, w).f32().slice();
      assert.deepEqual(bits(first), bits(exact));
      assert.deepEqual(bits(second), bits(exact));
    } finally {
      process.stderr.write = write;
      setCpuPath('avx512');
      setBf16Fast(undefined);
    }
    const notices = written.filter((s) => s.includes('bf16 fast mode'));
    assert.equal(notices.length, 1, `notices: ${JSON.stringify(written)}`);
    assert.match(notices[0], /AVX512_BF16.*exact kernel/);
  },
);

test(
  'linearBf16Fast: bad arguments are errors naming the kernel and the argument',
  { skip: nativeSkipReason() },
  () => {
    const x = new Float32Array(64);
    const out = new Float32Array(4);
    expectNativeError(
      'linearBf16Fast',
      () => native().linearBf16Fast(x, new Uint16Array(10), out, 1, 2, 32),
      /'w' has 10 elements, needs at least 64/,
    );
    expectNativeError(
      'linearBf16Fast',
      () => native().linearBf16Fast(x, new Uint16Array(64), new Float32Array(1), 1, 2, 32),
      /'out' has 1 elements/,
    );
    expectJsError('linearBf16Fast', () => jsWgemm.linearBf16Fast(x, new Uint16Array(10), out, 1, 2, 32));
    assert.throws(
      () => (native().linearBf16Fast as (...a: unknown[]) => void)(x, new Float32Array(64), out, 1, 2, 32),
      /'w' must be a Uint16Array/,
    );
    // On a path without the fast mode the exact kernel checks the same arguments under the same name.
    withCpuPath('scalar', () =>
      expectNativeError(
        'linearBf16Fast',
        () => native().linearBf16Fast(x, new Uint16Array(10), out, 1, 2, 32),
        /'w' has 10 elements/,
      ),
    );
  },
);
