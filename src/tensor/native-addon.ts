// Loads the compiled C++ addon (build/Release/olmo_native.node) once. When it is missing or fails to load,
// the engine runs on the pure-TypeScript backend and says so once, clearly.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The kernels' types are derived from their signatures in kernels/types.ts (checked at load by kernels/native.ts).
/** The addon's SIMD paths, widest first (native/simd.h). */
export const CPU_PATHS = ['avx512', 'avx2', 'scalar'] as const;
export type CpuPathName = (typeof CPU_PATHS)[number];

export type NativeAddon = Record<string, (...args: never[]) => unknown> & {
  numThreads(): number;
  setNumThreads(n: number): void;
  cpuFeatures(): { avx2: boolean; fma: boolean; f16c: boolean; avx512: boolean };
  /** The widest SIMD path this CPU has, and the one in use. */
  cpuPath(): { detected: CpuPathName; active: CpuPathName };
  /** Uses at most the given path from now on (OLMO_CPU_PATH is applied through it). */
  setCpuPath(path: CpuPathName): void;
  /** Each kernel's signature as the addon declares it (compared with kernels/types.ts at load). */
  kernelSignatures(): Record<string, string>;
};

let cached: NativeAddon | null | undefined;
let loadError: string | undefined;

function packageRoot(): string {
  // src/tensor/native-addon.ts and dist/tensor/native-addon.js both sit two levels below the root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The native addon, or null when it is not built or cannot load (the reason is in nativeLoadError()). */
export function loadNativeAddon(): NativeAddon | null {
  if (cached !== undefined) return cached;
  // OLMO_NATIVE_ADDON points at another build of the addon (a debug build, or a missing path to force js).
  const path = process.env.OLMO_NATIVE_ADDON || join(packageRoot(), 'build', 'Release', 'olmo_native.node');
  if (!existsSync(path)) {
    loadError = `native addon not built (${path} is missing; run \`npm rebuild olmo-ts\` with g++ and make installed)`;
    cached = null;
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    cached = require(path) as NativeAddon;
  } catch (err) {
    loadError = `native addon failed to load: ${(err as Error).message}`;
    cached = null;
  }
  return cached;
}

export function nativeLoadError(): string | undefined {
  loadNativeAddon();
  return loadError;
}
