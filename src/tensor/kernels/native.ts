// The native backend: the addon's C++ kernels (SIMD paths chosen at run time, a persistent thread pool),
// taken as they are. The addon validates every argument (types, sizes, lengths) from each kernel's
// signature, so no per-call TypeScript wrapper is needed; what is checked here, once at load, is that the
// addon declares every kernel with exactly the signature of KERNEL_SIGNATURES (an addon built from other
// sources fails here, by name, instead of misreading arguments).
import type { NativeAddon } from '../native-addon.ts';
import { kernelSignatures, type KernelName, type Kernels } from './types.ts';

/** The addon's kernels, after checking each one's signature against ours. */
export function createNativeKernels(addon: NativeAddon): Kernels {
  const declared = typeof addon.kernelSignatures === 'function' ? addon.kernelSignatures() : {};
  const problems: string[] = [];
  const out: Record<string, unknown> = { name: 'native' };
  for (const [name, sig] of Object.entries(kernelSignatures) as [KernelName, string][]) {
    const fn = addon[name];
    if (typeof fn !== 'function') problems.push(`lacks '${name}'`);
    else if (declared[name] !== sig)
      problems.push(`declares '${name}' as "${declared[name] ?? '(no signature)'}", expected "${sig}"`);
    else out[name] = fn;
  }
  if (problems.length > 0)
    throw new Error(
      `native addon does not match this olmo-ts (rebuild it: npm run build:native): ${problems.join('; ')}`,
    );
  return Object.freeze(out) as unknown as Kernels;
}
