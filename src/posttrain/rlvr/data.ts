// RLVR prompts in open-instruct's format: {messages, ground_truth, dataset} per JSONL line. The prompt is the
// conversation without a trailing assistant turn, rendered with the generation prompt (`tokenize_fn`); `dataset`
// names the verifier (gsm8k, math, ifeval, … matched case-insensitively by the verifier registry).
import { applyChatTemplate, type ChatMessage, type Tokenizer } from '../../tokenizers/index.ts';
import { loadRows, parseMessages, RowError, type BadRowPolicy } from '../common/conversations.ts';
import { getVerifier } from '../../verifiers/index.ts';

export interface RlvrRow {
  id: string;
  /** The prompt messages (a final assistant turn, if any, removed). */
  messages: ChatMessage[];
  groundTruth: unknown;
  /** Verifier name (the row's `dataset`). */
  verifier: string;
}

/** One prompt ready for rollouts. */
export interface RlvrPrompt {
  id: string;
  /** Prompt token ids (chat template with the generation prompt). */
  ids: number[];
  groundTruth: unknown;
  verifier: string;
}

export function parseRlvrRow(value: unknown, index = 0): RlvrRow {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RowError(`expected a JSON object, got ${JSON.stringify(value)}`);
  const row = value as Record<string, unknown>;
  if (!('messages' in row))
    throw new RowError('no "messages" field (RLVR rows are {"messages", "ground_truth", "dataset"})');
  let messages = parseMessages(row.messages);
  if (messages[messages.length - 1].role === 'assistant') messages = messages.slice(0, -1);
  if (messages.length === 0)
    throw new RowError('messages: nothing is left for the prompt once the final assistant turn is removed');
  const gt = row.ground_truth ?? row.groundTruth;
  if (gt === undefined || gt === null) throw new RowError('no "ground_truth" field');
  const dataset = row.dataset ?? row.verifier;
  if (typeof dataset !== 'string')
    throw new RowError(`"dataset" (the verifier name) must be a string, got ${JSON.stringify(dataset)}`);
  try {
    getVerifier(dataset);
  } catch (err) {
    throw new RowError(`dataset: ${(err as Error).message}`);
  }
  const id = typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : `row-${index}`;
  return { id, messages, groundTruth: gt, verifier: dataset };
}

export interface LoadPromptsOptions {
  maxPromptTokens: number;
  badRows?: BadRowPolicy;
  warn?: (line: string) => void;
  limit?: number;
}

/**
 * Loads and tokenises the RLVR prompts of JSONL files. Prompts longer than maxPromptTokens are dropped (as
 * open-instruct filters them) and counted in `dropped`.
 */
export function loadRlvrPrompts(
  files: readonly string[],
  tokenizer: Tokenizer,
  opts: LoadPromptsOptions,
): { prompts: RlvrPrompt[]; dropped: number } {
  const prompts: RlvrPrompt[] = [];
  let dropped = 0;
  for (const file of files) {
    let i = 0;
    const { rows } = loadRows(file, (v) => parseRlvrRow(v, i++), opts.badRows ?? 'error', opts.warn);
    for (const { value } of rows) {
      if (opts.limit !== undefined && prompts.length >= opts.limit) break;
      const ids = encodePrompt(tokenizer, value.messages);
      if (ids.length > opts.maxPromptTokens) {
        dropped++;
        continue;
      }
      prompts.push({ id: value.id, ids, groundTruth: value.groundTruth, verifier: value.verifier });
    }
  }
  if (dropped > 0)
    opts.warn?.(`dropped ${dropped} prompt${dropped === 1 ? '' : 's'} longer than ${opts.maxPromptTokens} tokens`);
  return { prompts, dropped };
}

/** The chat template with the generation prompt, encoded as HF does (special-token text recognised, nothing added). */
export function encodePrompt(tokenizer: Tokenizer, messages: readonly ChatMessage[]): number[] {
  const text = applyChatTemplate(tokenizer, messages, { addGenerationPrompt: true });
  return tokenizer.encode(text, { addSpecialTokens: false, allowSpecial: true });
}
