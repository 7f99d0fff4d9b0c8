// `olmo info`: the engine's backend, threads and CPU features, for bug reports and benchmarks; with --model, what
// that model needs in memory (weights, KV cache, activations) and whether it fits, from config.json alone.
import {
  backendName,
  cpuPaths,
  nativeAvailable,
  numThreads,
  loadNativeAddon,
  nativeLoadError,
  packageVersion,
  readConfig,
  estimateMemory,
  formatBytes,
  machineMemory,
  storedDType,
  weightBytes,
  type ModelConfig,
  weightAlignment,
  type WeightAlignment,
} from '../index.ts';
import { numberOption, parseCommandArgs, type Command, optionTable } from './command.ts';
import { quantizeOption, readQuantize, resolveModelArg } from './model-loading.ts';

/**
 * The memory a model needs for `batch` sequences of `context` tokens, its weights as stored or quantised to int8,
 * and this machine's, as printed and as JSON.
 */
export function modelMemoryReport(cfg: ModelConfig, context: number, batch: number, quantize?: 'int8') {
  const stored = storedDType(cfg);
  // Generation holds the weights as stored (or as q8_0 with --quantize int8), allocates the cache for
  // batch × context and prefills up to context tokens at once, with logits at each sequence's last position only.
  const need = estimateMemory(cfg, {
    weightDtype: quantize ?? stored,
    batch,
    context,
    tokens: context,
    logitsPerSequence: 1,
  });
  const machine = machineMemory();
  return {
    modelType: cfg.modelType,
    parameters: need.parameters,
    storedDtype: stored,
    storedWeightBytes: weightBytes(cfg, stored),
    loadedDtype: need.weightDtype,
    loadedWeightBytes: need.weightBytes,
    context,
    batch,
    kvCacheBytes: need.kvCacheBytes,
    activationBytes: need.activationBytes,
    totalBytes: need.totalBytes,
    availableBytes: machine.availableBytes,
    machineBytes: machine.totalBytes,
    memorySource: machine.source,
    fits: need.totalBytes <= machine.availableBytes,
  };
}

/** 1.48B, 173.6K: the way model sizes are usually written. */
function shortCount(n: number): string {
  const [div, unit] = n >= 1e9 ? [1e9, 'B'] : n >= 1e6 ? [1e6, 'M'] : n >= 1e3 ? [1e3, 'K'] : [1, ''];
  return `${(n / div).toFixed(div === 1 ? 0 : div === 1e9 ? 2 : 1)}${unit}`;
}

function printModelReport(dir: string, r: ReturnType<typeof modelMemoryReport>): void {
  const b = formatBytes;
  console.log(`model: ${dir} (${r.modelType})`);
  console.log(`parameters: ${r.parameters.toLocaleString('en-US')} (${shortCount(r.parameters)})`);
  console.log(
    `weights: ${b(r.storedWeightBytes)} stored (${r.storedDtype}); ${b(r.loadedWeightBytes)} in memory (${r.loadedDtype})`,
  );
  console.log(`KV cache: ${b(r.kvCacheBytes)} for ${r.batch} × ${r.context} tokens`);
  console.log(`activations: ${b(r.activationBytes)} for a forward pass over ${r.batch} × ${r.context} tokens`);
  console.log(
    `total: ${b(r.totalBytes)}; available ${b(r.availableBytes)} of ${b(r.machineBytes)} (${r.memorySource}): ` +
      (r.fits ? 'fits' : 'does NOT fit'),
  );
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'show the tensor backend, thread count and CPU features; with --model, the memory a model needs',
  usage: `olmo info [--model DIR|ID [--context N] [--batch B] [--quantize int8]] [--json]

Prints the package version, the active tensor backend (OLMO_BACKEND), the thread count
(OLMO_NUM_THREADS) and the CPU features the native kernels use.

  --model DIR|ID  also print the model's parameters, bytes of weights (as stored and in memory), the KV
                  cache and activations for --batch sequences of --context tokens, and whether that fits
                  in this machine's available memory (free memory, capped by a cgroup limit, or
                  OLMO_MEMORY_LIMIT), computed from config.json; and how many of its float matrices start
                  off a 64-byte cache line (see --align-weights), from the file headers; nothing is loaded
  --context N     tokens per sequence (default: the model's max_position_embeddings)
  --batch B       sequences decoded together (default 1)
  --quantize int8 count the weights as q8_0 (int8 in 32-element blocks, an f16 scale each), as
                  --quantize int8 holds them in generate, chat, eval and serve
  --json          one JSON object instead of text`,
  async run(argv) {
    const { values } = parseCommandArgs('info', {
      args: argv,
      options: {
        ...optionTable(['model', 'context', 'batch'], ['json']),
        ...quantizeOption,
      },
    });
    const quantize = readQuantize('info', values.quantize);
    const context = numberOption('info', 'context', values.context, { integer: true, min: 1 });
    const batch = numberOption('info', 'batch', values.batch, { integer: true, min: 1 }) ?? 1;
    let model: { dir: string; report: ReturnType<typeof modelMemoryReport>; alignment: WeightAlignment } | undefined;
    if (values.model !== undefined || [values.context, values.batch, quantize].some((v) => v !== undefined)) {
      const dir = await resolveModelArg('info', values.model);
      const cfg = readConfig(dir);
      const report = modelMemoryReport(cfg, context ?? cfg.maxPositionEmbeddings, batch, quantize);
      model = { dir, report, alignment: weightAlignment(dir) };
    }
    const addon = loadNativeAddon();
    const info = {
      version: packageVersion(),
      node: process.version,
      backend: backendName(),
      nativeAvailable: nativeAvailable(),
      nativeError: nativeAvailable() ? undefined : nativeLoadError(),
      threads: numThreads(),
      cpu: addon ? addon.cpuFeatures() : undefined,
      cpuPaths: cpuPaths() ?? undefined,
      model: model ? { path: model.dir, ...model.report, alignment: model.alignment } : undefined,
    };
    if (values.json) {
      console.log(JSON.stringify(info));
    } else {
      console.log(`olmo-ts ${info.version} (node ${info.node})`);
      console.log(`backend: ${info.backend}${info.nativeError ? ` (native unavailable: ${info.nativeError})` : ''}`);
      console.log(`threads: ${info.threads}`);
      if (info.cpu) console.log(`cpu: avx2=${info.cpu.avx2} fma=${info.cpu.fma} f16c=${info.cpu.f16c}`);
      if (info.cpuPaths)
        console.log(
          `cpu paths: ${info.cpuPaths.active} (detected ${info.cpuPaths.detected}; gemm ${info.cpuPaths.gemm}, other kernels ${info.cpuPaths.other}; OLMO_CPU_PATH=avx2|scalar narrows)`,
        );
      if (info.cpuPaths) {
        const { bf16, int8 } = info.cpuPaths.fastModes;
        console.log(
          `fast modes (opt-in): OLMO_BF16_FAST=1 ${bf16 === 'exact' ? 'unavailable here (no AVX512_BF16 on the path in use: the exact kernel runs)' : 'AVX512_BF16 dot products'}; ` +
            `OLMO_INT8_FAST=1 ${int8 === 'avx512-vnni' ? 'AVX512-VNNI integer dot products' : 'reference loop (no AVX512-VNNI on the path in use: same results, slower)'}`,
        );
      }
      if (model) {
        printModelReport(model.dir, model.report);
        const { matrices, offLine, offLineBf16 } = model.alignment;
        // bf16 rows off their lines cost the AVX-512 kernels nothing (aligned loads, or copies onto lines per chunk).
        const helped = info.cpuPaths?.active === 'avx512' ? offLine - offLineBf16 : offLine;
        const advice =
          offLine === 0 || quantize !== undefined
            ? ''
            : helped > 0
              ? '; decoding is faster with --align-weights (generate, chat, serve), which copies them onto lines at load'
              : ' (bf16: the AVX-512 kernels read them from aligned loads; --align-weights gains nothing here)';
        console.log(
          `weight alignment: ${offLine} of ${matrices} float matrices start off a 64-byte cache line${advice}`,
        );
      }
    }
    return 0;
  },
};
