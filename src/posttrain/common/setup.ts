// Loading what a post-training run starts from: the model, its tokenizer (with the checks chat training needs),
// and a conversation file encoded for training with its report.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type CausalLM } from '../../models/index.ts';
import { loadTokenizer, type ChatMessage, type Tokenizer } from '../../tokenizers/index.ts';
import {
  encodeForTraining,
  newEncodeReport,
  noteOutcome,
  type EncodeOptions,
  type EncodeReport,
  type EncodedExample,
} from './encode.ts';

/** The tokenizer of a run: `tokenizerDir`, else the model folder; it must have an EOS token (ends each assistant turn). */
export function loadChatTokenizer(modelDir: string, tokenizerDir?: string): { tokenizer: Tokenizer; dir: string } {
  const dir = tokenizerDir ?? modelDir;
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    throw new Error(
      `no tokenizer.json in ${dir}${tokenizerDir ? '' : ' (the model folder); give the tokenizer folder in the config (tokenizer: DIR)'}`,
    );
  }
  const tokenizer = loadTokenizer(dir);
  if (tokenizer.eosToken === null || tokenizer.eosTokenId === null) {
    throw new Error(
      `the tokenizer in ${dir} has no EOS token: assistant turns end with EOS in the chat template (set eos_token in tokenizer_config.json)`,
    );
  }
  return { tokenizer, dir };
}

export function loadPolicy(dir: string, tokenizer: Tokenizer): CausalLM {
  const model = loadModel(dir);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new Error(
      `the tokenizer has ${tokenizer.vocabSize} ids but the model in ${dir} only ${model.config.vocabSize} embeddings; is this the model's tokenizer?`,
    );
  }
  return model;
}

/** Encodes conversations (with their file:line) for training, dropping (or truncating) as configured and reporting it. */
export function encodeConversations<T>(
  rows: readonly { value: T; file: string; line: number }[],
  messagesOf: (row: T) => ChatMessage[],
  tokenizer: Tokenizer,
  opts: EncodeOptions,
  file: string,
): { examples: { example: EncodedExample; index: number }[]; report: EncodeReport } {
  const report = newEncodeReport(file);
  const examples: { example: EncodedExample; index: number }[] = [];
  rows.forEach((r, index) => {
    const outcome = encodeForTraining(tokenizer, messagesOf(r.value), opts);
    noteOutcome(report, outcome, `${r.file}:${r.line}`, opts.maxLength);
    if (outcome.ok) examples.push({ example: outcome.example, index });
  });
  return { examples, report };
}
