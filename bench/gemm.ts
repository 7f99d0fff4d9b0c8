// GEMM benchmark: olmo-ts native SGEMM against numpy's `a @ b` (OpenBLAS), measured in the same run.
//
// Each shape: 3 warm-up calls, then repeated calls for at least ~1 s (and ≥ 5) per side, split into ROUNDS
// rounds that alternate between olmo-ts and numpy, so that a burst of load from other processes hits both
// sides alike. The figure reported is the BEST call's GFLOP/s for both sides (the least disturbed run on a
// shared machine); medians go to the notes.
// numpy runs in a `python3` subprocess with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its
// environment, so that OpenBLAS picks its kernel and cache sizes from the CPU itself. `npm run bench -- gemm
// --train` adds training shapes.
// On a CPU with AVX-512 every shape is measured twice: on the default paths (our AVX-512 kernel against
// OpenBLAS's own choice), then with our AVX2 path forced (setCpuPath) against numpy held to its AVX2
// kernel (OPENBLAS_CORETYPE=Haswell), so both paths are compared like for like in one invocation.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNativeAddon, nativeLoadError } from '../src/tensor/native-addon.ts';
import { createNativeKernels } from '../src/tensor/kernels/native.ts';
import type { Kernels } from '../src/tensor/kernels/types.ts';
import type { BenchOptions, Measurement } from './run.ts';

export interface Shape {
  label: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

export const square = (s: number): Shape => ({
  label: `sgemm ${s}x${s}x${s}`,
  m: s,
  n: s,
  k: s,
  transA: false,
  transB: false,
});

const SHAPES: Shape[] = [
  square(256),
  square(512),
  square(1024),
  square(2048),
  { label: 'decode 1x2048 · 2048x8192', m: 1, n: 8192, k: 2048, transA: false, transB: false },
  { label: 'decode 1x2048 · (8192x2048)ᵀ', m: 1, n: 8192, k: 2048, transA: false, transB: true },
];

// Shapes of a small training step (tokens 2048, d 256): forward x·Wᵀ, and the two backward products.
const TRAIN_SHAPES: Shape[] = [
  { label: 'train 2048x256 · (768x256)ᵀ', m: 2048, n: 768, k: 256, transA: false, transB: true },
  { label: 'train 2048x256 · 256x768', m: 2048, n: 768, k: 256, transA: false, transB: false },
  { label: 'train 2048x256 · 256x8192', m: 2048, n: 8192, k: 256, transA: false, transB: false },
  { label: 'train dW 768x2048ᵀ · 2048x256', m: 768, n: 256, k: 2048, transA: true, transB: false },
  { label: 'train dX 2048x768 · 768x256', m: 2048, n: 256, k: 768, transA: false, transB: false },
];

const ROUNDS = 3;
const MIN_SECONDS = 1 / ROUNDS; // per round and side

/** n values uniform in [-0.5, 0.5) from a seeded linear congruential generator. */
export function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

export interface Timing {
  best: number;
  median: number;
  reps: number;
}

/** Best over rounds; the median reported is the median of the rounds' medians. */
function bestOf(ts: Timing[]): Timing {
  const medians = ts.map((t) => t.median).sort((x, y) => x - y);
  return {
    best: Math.max(...ts.map((t) => t.best)),
    median: medians[medians.length >> 1],
    reps: ts.reduce((n, t) => n + t.reps, 0),
  };
}

export function timeOurs(gemm: Kernels['gemm'], s: Shape): Timing {
  const a = randomArray(s.m * s.k, 1);
  const b = randomArray(s.k * s.n, 2);
  const c = new Float32Array(s.m * s.n);
  const call = () => gemm(a, b, c, 1, s.m, s.n, s.k, s.transA, s.transB, 0, 0, 0, false);
  for (let i = 0; i < 3; i++) call();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 5 || performance.now() - start < MIN_SECONDS * 1000) {
    const t0 = performance.now();
    call();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  const flop = 2 * s.m * s.n * s.k;
  return { best: flop / times[0] / 1e9, median: flop / times[times.length >> 1] / 1e9, reps: times.length };
}

function pythonEnv(coretype?: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  return env;
}

/** The CPU's model name (Linux), for the report. */
export function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1].trim() : 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

/** null when numpy works, else the reason it does not. */
function numpyUnavailable(): string | null {
  const r = spawnSync('python3', ['-c', 'import numpy'], { env: pythonEnv(), encoding: 'utf8' });
  if (r.error) return `python3 could not start (${r.error.message})`;
  if (r.status !== 0) return `python3 -c "import numpy" failed: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  return null;
}

function timeNumpy(s: Shape, coretype?: string): Timing | string {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'baselines', 'numpy_gemm.py');
  const r = spawnSync(
    'python3',
    [script, String(s.m), String(s.n), String(s.k), s.transA ? '1' : '0', s.transB ? '1' : '0', String(MIN_SECONDS)],
    {
      env: pythonEnv(coretype),
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) return `numpy run failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`;
  const out = JSON.parse(r.stdout.trim()) as { best_gflops: number; median_gflops: number; reps: number };
  return { best: out.best_gflops, median: out.median_gflops, reps: out.reps };
}

/** One pass over the shapes: ours on `path` against numpy (held to `coretype` when given). */
function measure(opts: BenchOptions, gemm: Kernels['gemm'], shapes: Shape[], tag: string, coretype?: string) {
  const noNumpy = numpyUnavailable();
  const results: Measurement[] = [];
  for (const s of shapes) {
    const name = `gemm ${s.label}${s.transA ? ' (transA)' : ''}${tag}`;
    const ours: Timing[] = [];
    const np: Timing[] = [];
    let npError: string | null = noNumpy;
    for (let r = 0; r < ROUNDS; r++) {
      ours.push(timeOurs(gemm, s));
      if (!npError) {
        const t = timeNumpy(s, coretype);
        if (typeof t === 'string') npError = t;
        else np.push(t);
      }
    }
    const o = bestOf(ours);
    const m: Measurement = { name, value: o.best, unit: 'GFLOP/s' };
    let note = `${name}: ours best ${o.best.toFixed(1)} / median ${o.median.toFixed(1)} (${o.reps} reps)`;
    if (!npError) {
      const b = bestOf(np);
      m.baseline = b.best;
      m.ratio = o.best / b.best;
      note += `; numpy best ${b.best.toFixed(1)} / median ${b.median.toFixed(1)} (${b.reps} reps)`;
    } else if (!noNumpy) note += `; ${npError}`;
    opts.log(note);
    results.push(m);
  }
  return results;
}

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  const addon = loadNativeAddon();
  if (!addon) throw new Error(`gemm benchmark needs the native addon: ${nativeLoadError()}`);
  const { gemm } = createNativeKernels(addon);
  const shapes = opts.args.includes('--train') ? [...SHAPES, ...TRAIN_SHAPES] : SHAPES;
  const { detected, active } = addon.cpuPath();
  opts.log(`cpu: ${cpuModel()}; SIMD path ${active} (detected ${detected})`);
  opts.log(
    `olmo-ts native threads: ${addon.numThreads()}; figures are the best call of ${ROUNDS} alternating rounds of ≥ ${MIN_SECONDS.toFixed(2)} s per side`,
  );
  const noNumpy = numpyUnavailable();
  if (noNumpy) opts.log(`no numpy baseline: ${noNumpy}`);
  const results = measure(opts, gemm, shapes, '');
  if (active === 'avx512') {
    opts.log('AVX2 against AVX2: our AVX2 path forced, numpy with OPENBLAS_CORETYPE=Haswell');
    addon.setCpuPath('avx2');
    try {
      results.push(...measure(opts, gemm, shapes, ' [avx2 vs Haswell]', 'Haswell'));
    } finally {
      addon.setCpuPath(active);
    }
  }
  return results;
}
