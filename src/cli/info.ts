// `olmo info`: the engine's backend, threads and CPU features, for bug reports and benchmarks.
import { backendName, nativeAvailable, numThreads, loadNativeAddon, nativeLoadError, packageVersion } from '../index.ts';
import { parseCommandArgs, type Command } from './command.ts';

export const infoCommand: Command = {
  name: 'info',
  summary: 'show the tensor backend, thread count and CPU features',
  usage: 'olmo info [--json]\n\nPrints the package version, the active tensor backend (OLMO_BACKEND), the thread count\n(OLMO_NUM_THREADS) and the CPU features the native kernels use.',
  async run(argv) {
    const { values } = parseCommandArgs('info', { args: argv, options: { json: { type: 'boolean' } } });
    const addon = loadNativeAddon();
    const info = {
      version: packageVersion(),
      node: process.version,
      backend: backendName(),
      nativeAvailable: nativeAvailable(),
      nativeError: nativeAvailable() ? undefined : nativeLoadError(),
      threads: numThreads(),
      cpu: addon ? addon.cpuFeatures() : undefined,
    };
    if (values.json) {
      console.log(JSON.stringify(info));
    } else {
      console.log(`olmo-ts ${info.version} (node ${info.node})`);
      console.log(`backend: ${info.backend}${info.nativeError ? ` (native unavailable: ${info.nativeError})` : ''}`);
      console.log(`threads: ${info.threads}`);
      if (info.cpu) console.log(`cpu: avx2=${info.cpu.avx2} fma=${info.cpu.fma} f16c=${info.cpu.f16c}`);
    }
    return 0;
  },
};
