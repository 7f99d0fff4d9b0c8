// The tokenizer a GGUF file carries (tokenizer.ggml.* keys), rebuilt as the tokenizer.json it came from and run by
// HfTokenizer, so that a GGUF model encodes exactly as its Hugging Face checkpoint does. Only byte-level BPE
// (tokenizer.ggml.model "gpt2") is read; its pre-tokenizer is named by tokenizer.ggml.pre, and each name below is
// the regex llama.cpp gives it (https://github.com/ggml-org/llama.cpp/blob/master/src/llama-vocab.cpp,
// llm_tokenizer_bpe) in the spelling of the tokenizer.json it was converted from.
import type { GgufValue } from '../io/gguf/reader.ts';
import { HfTokenizer } from './hf.ts';
import { CL100K_HF_PATTERN } from './train-bpe.ts';

type Json = Record<string, unknown>;

/** llama.cpp's token types (tokenizer.ggml.token_type), https://github.com/ggml-org/llama.cpp/blob/master/include/llama.h */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };

/** What tokenizer.json said for each pre-tokenizer name olmo-ts reads. */
const PRE_TOKENIZERS: Record<string, { preTokenizer: Json; normalizer: Json | null; ignoreMerges: boolean }> = {
  // GPT-2's own regex, inside ByteLevel (use_regex)
  gpt2: { preTokenizer: { ...BYTE_LEVEL, use_regex: true }, normalizer: null, ignoreMerges: false },
  // the GPT-NeoX tokenizer of OLMo 1 and OLMoE: GPT-2's regex after NFC
  olmo: { preTokenizer: { ...BYTE_LEVEL, use_regex: true }, normalizer: { type: 'NFC' }, ignoreMerges: false },
  // cl100k's regex (dolma2 of OLMo 2, and olmo-ts's own trained BPE): llama.cpp's name for it is DBRX's
  dbrx: { preTokenizer: cl100kSplit(), normalizer: null, ignoreMerges: false },
  // the same regex with Llama 3's ignore_merges (a piece that is a whole token is taken as it is)
  llama3: { preTokenizer: cl100kSplit(), normalizer: null, ignoreMerges: true },
};

function cl100kSplit(): Json {
  return {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: CL100K_HF_PATTERN }, behavior: 'Isolated', invert: false },
      BYTE_LEVEL,
    ],
  };
}

/** The pre-tokenizer names ggufTokenizer reads. */
export const GGUF_PRE_TOKENIZERS = Object.keys(PRE_TOKENIZERS);

export class GgufTokenizerError extends Error {
  override name = 'GgufTokenizerError';
}

function stringArray(meta: ReadonlyMap<string, GgufValue>, key: string, where: string): string[] {
  const v = meta.get(key);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new GgufTokenizerError(
      `${where}: ${key} must be an array of strings, got ${v === undefined ? 'nothing (the key is missing)' : typeof v}`,
    );
  return v as string[];
}

function optionalId(meta: ReadonlyMap<string, GgufValue>, key: string, size: number, where: string): number | null {
  const v = meta.get(key);
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= size)
    throw new GgufTokenizerError(`${where}: ${key} must be a token id in 0..${size - 1}, got ${String(v)}`);
  return v;
}

/** The tokenizer.json (and tokenizer_config.json) that the GGUF tokenizer keys describe. */
function rebuildTokenizerJson(meta: ReadonlyMap<string, GgufValue>, where: string): { json: Json; config: Json } {
  const pre = meta.get('tokenizer.ggml.pre') ?? 'gpt2';
  const preTok = typeof pre === 'string' ? PRE_TOKENIZERS[pre] : undefined;
  if (!preTok)
    throw new GgufTokenizerError(
      `${where}: tokenizer.ggml.pre ${JSON.stringify(pre)} is not supported (supported: ${GGUF_PRE_TOKENIZERS.join(', ')})`,
    );
  const tokens = stringArray(meta, 'tokenizer.ggml.tokens', where);
  const merges = stringArray(meta, 'tokenizer.ggml.merges', where);
  const types = meta.get('tokenizer.ggml.token_type') ?? tokens.map(() => TOKEN_TYPE.normal);
  if (!Array.isArray(types) || types.length !== tokens.length)
    throw new GgufTokenizerError(
      `${where}: tokenizer.ggml.token_type must have one entry per token (${tokens.length}), got ${Array.isArray(types) ? types.length : typeof types}`,
    );
  const vocab: Record<string, number> = {};
  const added: Json[] = [];
  tokens.forEach((content, id) => {
    const type = types[id];
    // UNUSED entries are llama.cpp's [PAD<id>] fillers of a padded embedding: not tokens of the original vocabulary
    if (type === TOKEN_TYPE.unused) return;
    vocab[content] = id;
    if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.userDefined)
      added.push({ id, content, normalized: false, special: type === TOKEN_TYPE.control });
  });
  const tokenAt = (key: string) => {
    const id = optionalId(meta, key, tokens.length, where);
    return id === null ? null : tokens[id];
  };
  // only what differs from tokenizer.json's defaults (no unk token, no byte fallback, no subword affixes)
  const json: Json = {
    added_tokens: added,
    normalizer: preTok.normalizer,
    pre_tokenizer: preTok.preTokenizer,
    decoder: { ...BYTE_LEVEL, use_regex: true },
    model: { type: 'BPE', ignore_merges: preTok.ignoreMerges, vocab, merges },
  };
  const config: Json = {
    bos_token: tokenAt('tokenizer.ggml.bos_token_id'),
    eos_token: tokenAt('tokenizer.ggml.eos_token_id'),
    pad_token: tokenAt('tokenizer.ggml.padding_token_id'),
    unk_token: tokenAt('tokenizer.ggml.unknown_token_id'),
    add_bos_token: meta.get('tokenizer.ggml.add_bos_token') === true,
    add_eos_token: meta.get('tokenizer.ggml.add_eos_token') === true,
    clean_up_tokenization_spaces: false,
  };
  return { json, config };
}

/**
 * The tokenizer of a GGUF file's metadata, or null when it has none (no tokenizer.ggml.model). `where` names the
 * file in messages. Anything but byte-level BPE ("gpt2") is refused by name.
 */
export function ggufTokenizer(meta: ReadonlyMap<string, GgufValue>, where: string): HfTokenizer | null {
  const model = meta.get('tokenizer.ggml.model');
  if (model === undefined || model === 'none' || model === 'no_vocab') return null;
  if (model !== 'gpt2')
    throw new GgufTokenizerError(
      `${where}: tokenizer.ggml.model ${JSON.stringify(model)} is not supported; olmo-ts reads byte-level BPE ("gpt2") tokenizers`,
    );
  const { json, config } = rebuildTokenizerJson(meta, where);
  const template = meta.get('tokenizer.chat_template');
  if (template !== undefined && typeof template !== 'string')
    throw new GgufTokenizerError(`${where}: tokenizer.chat_template must be a string, got ${typeof template}`);
  try {
    return new HfTokenizer({
      tokenizerJson: json,
      tokenizerConfig: config,
      chatTemplate: template ?? null,
      name: `${where}#tokenizer`,
    });
  } catch (e) {
    throw new GgufTokenizerError(`${where}: cannot build the tokenizer: ${(e as Error).message}`, { cause: e });
  }
}
