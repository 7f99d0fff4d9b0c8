// Backend selection: `native` (C++ kernels) when the addon loaded, else `js`; OLMO_BACKEND=js|native
// overrides. Falling back to js is announced once on stderr, since it is much slower.
import { createNativeKernels } from './kernels/native.ts';
import { jsKernels } from './kernels/js/index.ts';
import type { Kernels } from './kernels/types.ts';
import { loadNativeAddon, nativeLoadError } from './native-addon.ts';

export type BackendName = 'js' | 'native';

let active: Kernels | undefined;
let nativeKernels: Kernels | null | undefined;
let warned = false;

function native(): Kernels | null {
  if (nativeKernels === undefined) {
    const addon = loadNativeAddon();
    nativeKernels = addon ? createNativeKernels(addon) : null;
  }
  return nativeKernels;
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
