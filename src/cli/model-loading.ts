// Shared by the commands that take --model: loading the checkpoint and its tokenizer, with messages that
// say what is missing and what to do.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type CausalLM, dolma2Tokenizer, loadTokenizer, type Tokenizer } from '../index.ts';
import { UsageError } from './command.ts';

export function requireModelDir(command: string, dir: string | undefined): string {
  if (!dir) throw new UsageError(`olmo ${command}: --model DIR is required (a Hugging Face checkpoint folder)`);
  if (!existsSync(dir)) throw new UsageError(`olmo ${command}: model folder ${dir} does not exist`);
  return dir;
}

export function loadInferenceModel(dir: string): CausalLM {
  return loadModel(dir, { trainable: false });
}

/**
 * The checkpoint's own tokenizer (tokenizer.json), or the built-in dolma2 tokenizer when asked for with
 * `--tokenizer dolma2` or when an OLMo 2 checkpoint ships none.
 */
export function resolveTokenizer(command: string, dir: string, model: CausalLM, choice?: string): Tokenizer {
  if (choice === 'dolma2') return dolma2Tokenizer();
  if (choice) return loadTokenizer(choice);
  if (existsSync(join(dir, 'tokenizer.json'))) return loadTokenizer(dir);
  if (model.config.modelType === 'olmo2' && model.config.vocabSize >= 100278) return dolma2Tokenizer();
  throw new UsageError(
    `olmo ${command}: ${dir} has no tokenizer.json; pass --tokenizer DIR (a folder with tokenizer.json) or --tokenizer dolma2`,
  );
}
