// The tokenizer as llama.cpp reads it from GGUF (tokenizer.ggml.*), built from a Hugging Face tokenizer.json the
// way convert_hf_to_gguf.py does (TextModel.get_vocab_base and gguf.SpecialVocab,
// https://github.com/ggml-org/llama.cpp/blob/master/convert_hf_to_gguf.py): every id below the embedding's row
// count gets a token (ids the tokenizer lacks become "[PAD{id}]", type UNUSED), added tokens are CONTROL when
// special and USER_DEFINED otherwise, merges are "left right" strings, and tokenizer.ggml.pre names the
// pre-tokenizer regex from llama.cpp's list (src/llama-vocab.cpp).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GgufTokenType, GgufValueType } from '../io/gguf/constants.ts';
import type { GgufFile, GgufScalar } from '../io/gguf/reader.ts';
import { kv, type GgufKv } from '../io/gguf/writer.ts';
import { loadTokenizer } from '../tokenizers/hf.ts';
import { CL100K_HF_PATTERN } from '../tokenizers/train-bpe.ts';
import { ExportRefusal } from './gguf-refusal.ts';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isByteLevel(p: unknown, useRegex: boolean): boolean {
  return isObject(p) && p.type === 'ByteLevel' && (p.use_regex ?? true) === useRegex;
}

/**
 * llama.cpp's name for the pre-tokenizer of a tokenizer.json, or null when none of the names olmo-ts knows has
 * the same regex: cl100k's split before a regex-less ByteLevel (OLMo 2's dolma2 and olmo-ts's own trained BPE)
 * is "dbrx", whose regex in llama-vocab.cpp is cl100k's (and the hash convert_hf_to_gguf.py computes for
 * dolma2's encoding of its check text is DBRX's); GPT-2's ByteLevel regex is "olmo" after an NFC normalizer
 * (the GPT-NeoX tokenizer of OLMo 1 and OLMoE) and "gpt2" without one.
 */
export function ggufPreTokenizer(tokenizerJson: Json): string | null {
  const pre = tokenizerJson.pre_tokenizer;
  const norm = tokenizerJson.normalizer;
  if (isByteLevel(pre, true)) {
    if (norm === null || norm === undefined) return 'gpt2';
    if (isObject(norm) && norm.type === 'NFC') return 'olmo';
    return null;
  }
  if (norm !== null && norm !== undefined) return null;
  const steps = isObject(pre) && pre.type === 'Sequence' ? pre.pretokenizers : null;
  if (!Array.isArray(steps) || steps.length !== 2) return null;
  const [split, bytes] = steps as unknown[];
  if (!isObject(split) || split.type !== 'Split' || !isObject(split.pattern)) return null;
  // cl100k's split comes in two spellings with the same pieces (the regex matches every character): Isolated, and
  // Removed + invert (allenai_dolma2.json, OLMo 2's tokenizer.json, has the latter).
  const isolated = split.behavior === 'Isolated' && split.invert !== true;
  const removedInverted = split.behavior === 'Removed' && split.invert === true;
  const cl100k = split.pattern.Regex === CL100K_HF_PATTERN && (isolated || removedInverted);
  return cl100k && isByteLevel(bytes, false) ? 'dbrx' : null;
}

function readJson(path: string): Json {
  const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!isObject(v)) throw new ExportRefusal(`${path}: expected a JSON object`);
  return v;
}

/** [token text, type] for ids 0 … rows−1. */
function tokenTable(path: string, json: Json, rows: number): { tokens: string[]; types: number[] } {
  const model = json.model as Json;
  const tokens: (string | undefined)[] = new Array<string | undefined>(rows);
  const types = new Array<number>(rows).fill(GgufTokenType.NORMAL);
  const place = (text: string, id: number, type: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= rows)
      throw new ExportRefusal(
        `${path}: token ${JSON.stringify(text)} has id ${id}, but the model's embedding has ${rows} rows ` +
          `(vocab_size); llama.cpp needs every token id below vocab_size`,
      );
    tokens[id] = text;
    types[id] = type;
  };
  for (const [text, id] of Object.entries(model.vocab as Record<string, number>)) place(text, id, GgufTokenType.NORMAL);
  for (const t of (json.added_tokens ?? []) as Json[]) {
    const text = String(t.content);
    // convert_hf_to_gguf.py also treats <|…|> tokens as control tokens even when not flagged special
    const control = t.special === true || (text.startsWith('<|') && text.endsWith('|>'));
    place(text, Number(t.id), control ? GgufTokenType.CONTROL : GgufTokenType.USER_DEFINED);
  }
  for (let i = 0; i < rows; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = GgufTokenType.UNUSED;
    }
  }
  return { tokens: tokens as string[], types };
}

function mergeStrings(path: string, merges: unknown): string[] {
  if (!Array.isArray(merges)) throw new ExportRefusal(`${path}: model.merges must be an array`);
  return merges.map((m, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && m.every((p) => typeof p === 'string')) return `${m[0]} ${m[1]}`;
    throw new ExportRefusal(`${path}: model.merges[${i}] must be "a b" or ["a", "b"], got ${JSON.stringify(m)}`);
  });
}

/** What the tokenizer adds around a text when asked for special tokens (HF add_special_tokens=True). */
function addsSpecial(dir: string): { bos: boolean; eos: boolean; tk: ReturnType<typeof loadTokenizer> } {
  const tk = loadTokenizer(dir);
  const ids = tk.encode('a', { addSpecialTokens: true });
  return {
    tk,
    bos: tk.bosTokenId !== null && ids[0] === tk.bosTokenId,
    eos: tk.eosTokenId !== null && ids.at(-1) === tk.eosTokenId,
  };
}

/**
 * tokenizer.ggml.* and tokenizer.chat_template from the tokenizer folder DIR (tokenizer.json and its
 * companions), for a model whose embedding has `rows` rows. Refuses, naming the file and what is wrong, a
 * tokenizer llama.cpp would run differently: not byte-level BPE, or a pre-tokenizer with no llama.cpp name.
 */
export function ggufVocab(dir: string, rows: number): { entries: [string, GgufKv][]; pre: string } {
  const path = join(dir, 'tokenizer.json');
  if (!existsSync(path)) throw new ExportRefusal(`${path} not found: the GGUF tokenizer is built from tokenizer.json`);
  const json = readJson(path);
  const model = json.model;
  if (!isObject(model) || model.type !== 'BPE' || !isObject(model.vocab))
    throw new ExportRefusal(
      `${path}: model.type is ${JSON.stringify(isObject(model) ? model.type : model)}; only byte-level BPE ` +
        `(llama.cpp's "gpt2" tokenizer model) is exported`,
    );
  const pre = ggufPreTokenizer(json);
  if (pre === null)
    throw new ExportRefusal(
      `${path}: the pre_tokenizer ${JSON.stringify(json.pre_tokenizer)} (normalizer ${JSON.stringify(json.normalizer ?? null)}) ` +
        `matches none of llama.cpp's pre-tokenizers that olmo-ts names (dbrx = cl100k, olmo, gpt2); llama.cpp would split text differently`,
    );
  const { tokens, types } = tokenTable(path, json, rows);
  const { tk, bos, eos } = addsSpecial(dir);
  const entries: [string, GgufKv][] = [
    ['tokenizer.ggml.model', kv.str('gpt2')],
    ['tokenizer.ggml.pre', kv.str(pre)],
    ['tokenizer.ggml.tokens', kv.array(GgufValueType.STRING, tokens)],
    ['tokenizer.ggml.token_type', kv.array(GgufValueType.INT32, types)],
    ['tokenizer.ggml.merges', kv.array(GgufValueType.STRING, mergeStrings(path, model.merges))],
  ];
  const ids: [string, number | null][] = [
    ['tokenizer.ggml.bos_token_id', tk.bosTokenId],
    ['tokenizer.ggml.eos_token_id', tk.eosTokenId],
    ['tokenizer.ggml.unknown_token_id', tk.unkTokenId],
    ['tokenizer.ggml.padding_token_id', tk.padTokenId],
  ];
  for (const [key, id] of ids) if (id !== null && id < rows) entries.push([key, kv.u32(id)]);
  entries.push(['tokenizer.ggml.add_bos_token', kv.bool(bos)], ['tokenizer.ggml.add_eos_token', kv.bool(eos)]);
  if (tk.chatTemplate) entries.push(['tokenizer.chat_template', kv.str(tk.chatTemplate)]);
  return { entries, pre };
}

/**
 * The tokenizer of a GGUF file (its tokenizer.* keys, with their stored types) to write into another GGUF of the
 * same model, as a re-export (to another dtype) carries it over; null when the file has none.
 */
export function ggufVocabOf(file: GgufFile): { entries: [string, GgufKv][]; pre: string } | null {
  if (!file.metadata.has('tokenizer.ggml.model')) return null;
  const entries: [string, GgufKv][] = [];
  for (const [key, value] of file.metadata) {
    if (!key.startsWith('tokenizer.')) continue;
    const t = file.metadataTypes.get(key)!;
    if (t.type !== GgufValueType.ARRAY) {
      entries.push([key, { type: t.type, value } as GgufKv]);
    } else if (t.itemType !== GgufValueType.ARRAY && Array.isArray(value)) {
      entries.push([key, kv.array(t.itemType as Parameters<typeof kv.array>[0], value as GgufScalar[])]);
    } else {
      throw new ExportRefusal(`${file.path}: ${key} is an array of arrays, which no GGUF tokenizer key holds`);
    }
  }
  const pre = file.metadata.get('tokenizer.ggml.pre');
  return { entries, pre: typeof pre === 'string' ? pre : 'default' };
}
