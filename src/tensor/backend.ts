// Backend selection: `native` (C++ kernels) when the addon loaded, else `js`; OLMO_BACKEND=js|native
// overrides. Falling back to js is announced once on stderr, since it is much slower.
import { createNativeKernels } from './kernels/native.ts';
import { jsKernels } from './kernels/js/index.ts';
import type { Kernels } from './kernels/types.ts';
import { CPU_PATHS, loadNativeAddon, nativeLoadError, type CpuPathName, type NativeAddon } from './native-addon.ts';

export type BackendName = 'js' | 'native';

let active: Kernels | undefined;
let nativeKernels: Kernels | null | undefined;
let warned = false;

function native(): Kernels | null {
  if (nativeKernels === undefined) {
    const addon = loadNativeAddon();
    nativeKernels = addon ? createNativeKernels(addon) : null;
    if (addon) applyCpuPathEnv(addon);
  }
  return nativeKernels;
}

// OLMO_CPU_PATH=avx2 (or scalar) runs the native kernels on a narrower path than the CPU has.
function applyCpuPathEnv(addon: NativeAddon): void {
  const want = process.env.OLMO_CPU_PATH;
  if (want === undefined || want === '') return;
  if (!(CPU_PATHS as readonly string[]).includes(want))
    throw new Error(`OLMO_CPU_PATH must be one of ${CPU_PATHS.join(', ')}, got "${want}"`);
  addon.setCpuPath(want as CpuPathName);
}

function warnFallback(): void {
  if (warned) return;
  warned = true;
  process.stderr.write(`olmo-ts: using the pure-TypeScript backend (slow): ${nativeLoadError()}\n`);
}

function select(): Kernels {
  const requested = process.env.OLMO_BACKEND;
  if (requested !== undefined && requested !== '' && requested !== 'js' && requested !== 'native') {
    throw new Error(`OLMO_BACKEND must be "js" or "native", got "${requested}"`);
  }
  if (requested === 'js') return jsKernels;
  const k = native();
  if (k) return k;
  if (requested === 'native') throw new Error(`OLMO_BACKEND=native but ${nativeLoadError()}`);
  warnFallback();
  return jsKernels;
}

/** The kernels every op runs on. */
export function kernels(): Kernels {
  if (!active) active = select();
  return active;
}

/** Switches backend for the rest of the process (tests compare backends this way). */
export function setBackend(name: BackendName): void {
  if (name === 'js') {
    active = jsKernels;
    return;
  }
  const k = native();
  if (!k) throw new Error(`cannot use the native backend: ${nativeLoadError()}`);
  active = k;
}

export function backendName(): BackendName {
  return kernels().name;
}

export function nativeAvailable(): boolean {
  return native() !== null;
}

/** Threads the native kernels use (OLMO_NUM_THREADS at start-up; 1 on the js backend). */
export function numThreads(): number {
  return kernels().name === 'native' ? (loadNativeAddon()?.numThreads() ?? 1) : 1;
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected a positive integer, got ${n}`);
  loadNativeAddon()?.setNumThreads(n);
}

/** The SIMD paths of the native kernels: what the CPU has, and what each kernel family runs. */
export interface CpuPaths {
  /** The widest path this CPU has ('scalar' on the js backend's view when the addon is missing). */
  detected: CpuPathName;
  /** The path in use: `detected`, or narrower when OLMO_CPU_PATH / setCpuPath asked for it. */
  active: CpuPathName;
  /** The GEMM's path (AVX-512 and AVX2 give bit-identical results). */
  gemm: CpuPathName;
  /** Every other kernel family (elementwise, reductions, norms, attention, losses…): AVX2 at most. */
  other: CpuPathName;
  /**
   * What the opt-in fast modes of the weight-only kernels run here: bf16 (OLMO_BF16_FAST) AVX512_BF16 dot products,
   * or the exact kernel where it cannot; int8 (OLMO_INT8_FAST) AVX512-VNNI integer dot products, or its reference
   * loop (the same results, slower).
   */
  fastModes: { bf16: 'avx512-bf16' | 'exact'; int8: 'avx512-vnni' | 'reference' };
}

/** The native kernels' SIMD paths, or null when the native addon is not available. */
export function cpuPaths(): CpuPaths | null {
  const addon = native() ? loadNativeAddon() : null;
  if (!addon) return null;
  const { detected, active } = addon.cpuPath();
  // Each fast kernel says which way it ran: ask both on the smallest input.
  const k = kernels();
  const out = new Float32Array(1);
  const bf16 = k.linearBf16Fast(new Float32Array(32), new Uint16Array(32), out, 1, 1, 32);
  const int8 = k.linearQ8Fast(new Float32Array(32), new Int8Array(34), out, 1, 1, 32);
  return {
    detected,
    active,
    gemm: active,
    other: active === 'avx512' ? 'avx2' : active,
    fastModes: { bf16: bf16 ? 'avx512-bf16' : 'exact', int8: int8 ? 'avx512-vnni' : 'reference' },
  };
}

/** Runs the native kernels on at most `path` from now on (tests force each path this way). */
export function setCpuPath(path: CpuPathName): void {
  if (!(CPU_PATHS as readonly string[]).includes(path))
    throw new Error(`setCpuPath: expected one of ${CPU_PATHS.join(', ')}, got "${String(path)}"`);
  const addon = native() ? loadNativeAddon() : null;
  if (!addon) throw new Error(`setCpuPath: ${nativeLoadError()}`);
  addon.setCpuPath(path);
}
