// Shared by the commands that take --model: resolving the reference (a folder, or a hub id downloaded into the
// Hugging Face cache with a progress bar), loading the checkpoint and its tokenizer, with messages that say what is
// missing and what to do.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadModel,
  type CausalLM,
  dolma2Tokenizer,
  loadTokenizer,
  type Tokenizer,
  Progress,
  resolveModelRef,
  ModelRefError,
  looksLikeHubId,
  type ModelDownloadProgress,
  isGgufPath,
  loadGgufTokenizer,
} from '../index.ts';
import { UsageError } from './command.ts';

/** What `--model` takes, for usage texts. */
export const MODEL_REF_HELP =
  'a checkpoint folder, a .gguf file, or a hub id owner/name[@revision] (downloaded into the Hugging Face cache)';

/** A bar on a terminal (plain lines every 10 s elsewhere) over the bytes of the weights being downloaded. */
function downloadProgress(): (p: ModelDownloadProgress) => void {
  let bar: Progress | null = null;
  return (p) => {
    if (p.stage !== 'weights' || p.total === 0) return;
    const mb = (n: number) => Math.round(n / 1e5) / 10;
    bar ??= new Progress({ label: `downloading ${p.repo}`, total: mb(p.total), unit: 'MB' });
    bar.update(mb(p.bytes), `${p.file} (${p.filesDone}/${p.filesTotal} files)`);
  };
}

/** A folder argument that must exist (callers that resolved a hub id already pass its snapshot folder). */
export function requireModelDir(command: string, dir: string | undefined): string {
  if (!dir) throw new UsageError(`olmo ${command}: --model is required (${MODEL_REF_HELP})`);
  if (!existsSync(dir)) throw new UsageError(`olmo ${command}: model folder ${dir} does not exist`);
  return dir;
}

/**
 * The local folder of `--model` (or `flag`): the folder itself, or the hub id's snapshot in the cache, downloaded
 * when missing and online. A malformed or unknown reference is a usage error.
 */
export async function resolveModelArg(command: string, ref: string | undefined, flag = '--model'): Promise<string> {
  if (!ref) throw new UsageError(`olmo ${command}: ${flag} is required (${MODEL_REF_HELP})`);
  try {
    return await resolveModelRef(ref, {
      onProgress: downloadProgress(),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (e) {
    if (e instanceof ModelRefError && (e.problem === 'malformed' || e.problem === 'not-found'))
      throw new UsageError(`olmo ${command}: ${flag}: ${e.message}`);
    throw e;
  }
}

/**
 * Replaces the model fields of a loaded post-training config (dotted paths such as `initFrom`, `ppo.valueModel`)
 * that hold hub ids with their snapshot folders, downloading what is missing; folders are left as they are.
 */
export async function resolveConfigModels<T extends object>(
  command: string,
  cfg: T,
  fields: readonly string[],
): Promise<T> {
  for (const field of fields) {
    const keys = field.split('.');
    let holder = cfg as Record<string, unknown> | undefined;
    for (const k of keys.slice(0, -1)) holder = holder?.[k] as Record<string, unknown> | undefined;
    const value = holder?.[keys.at(-1)!];
    if (holder && typeof value === 'string' && looksLikeHubId(value))
      holder[keys.at(-1)!] = await resolveModelArg(command, value, `the config's ${field}`);
  }
  return cfg;
}

/** `--quantize`, for the commands that run a model for inference. */
export const quantizeOption = { quantize: { type: 'string' } } as const;
export const QUANTIZE_HELP =
  '  --quantize int8      hold the weights as q8_0 (int8 in 32-element blocks, an f16 scale each), quantised at load';

/** The value of --quantize: 'int8', or undefined when absent. */
export function readQuantize(command: string, value: string | undefined): 'int8' | undefined {
  if (value === undefined || value === 'int8') return value;
  throw new UsageError(`olmo ${command}: --quantize must be int8, got "${value}"`);
}

/** `--align-weights`, for the commands that decode (generate, chat, serve). */
export const alignOption = { 'align-weights': { type: 'boolean' } } as const;
export const ALIGN_HELP =
  '  --align-weights      copy matrices that do not start on a 64-byte cache line (Hugging Face files align to 8\n' +
  '                       bytes) into aligned memory at load: faster decoding of f32 and f16 weights (and of bf16\n' +
  '                       off the AVX-512 path, whose kernels align bf16 rows themselves), for one pass at load';

/**
 * A checkpoint for inference: its matrices kept in their stored dtype and memory-mapped (nothing widened to f32),
 * or quantised to q8_0 with quantize 'int8'; alignWeights: see LoadOptions.
 */
export function loadInferenceModel(dir: string, quantize?: 'int8', alignWeights = false): CausalLM {
  return loadModel(dir, { trainable: false, weights: quantize === 'int8' ? 'int8' : 'stored', alignWeights });
}

/**
 * --model (a folder or hub id) loaded for inference, quantised as --quantize says, and its tokenizer
 * (--tokenizer, else the checkpoint's own): what `olmo generate` and `olmo chat` run.
 */
export async function loadModelAndTokenizer(
  command: string,
  values: { model?: string; quantize?: string; tokenizer?: string; 'align-weights'?: boolean },
): Promise<{ dir: string; model: CausalLM; tokenizer: Tokenizer }> {
  const quantize = readQuantize(command, values.quantize);
  const dir = await resolveModelArg(command, values.model);
  const model = loadInferenceModel(dir, quantize, values['align-weights'] ?? false);
  return { dir, model, tokenizer: resolveTokenizer(command, dir, model, values.tokenizer) };
}

/**
 * The checkpoint's own tokenizer (tokenizer.json, or a GGUF file's tokenizer keys), or the built-in dolma2
 * tokenizer when asked for with `--tokenizer dolma2` or when an OLMo 2 checkpoint ships none.
 */
export function resolveTokenizer(command: string, dir: string, model: CausalLM, choice?: string): Tokenizer {
  if (choice === 'dolma2') return dolma2Tokenizer();
  if (choice) return loadTokenizer(choice);
  if (isGgufPath(dir)) {
    const own = loadGgufTokenizer(dir);
    if (own) return own;
    if (model.config.modelType === 'olmo2' && model.config.vocabSize >= 100278) return dolma2Tokenizer();
    throw new UsageError(
      `olmo ${command}: ${dir} carries no tokenizer (no tokenizer.ggml.model key); pass --tokenizer DIR (a folder with tokenizer.json) or --tokenizer dolma2`,
    );
  }
  if (existsSync(join(dir, 'tokenizer.json'))) return loadTokenizer(dir);
  if (model.config.modelType === 'olmo2' && model.config.vocabSize >= 100278) return dolma2Tokenizer();
  throw new UsageError(
    `olmo ${command}: ${dir} has no tokenizer.json; pass --tokenizer DIR (a folder with tokenizer.json) or --tokenizer dolma2`,
  );
}
