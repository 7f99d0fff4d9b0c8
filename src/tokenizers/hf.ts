// Tokenizers from Hugging Face checkpoint folders (tokenizer.json + tokenizer_config.json), via tokenizers.js.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfJsTokenizer } from '@huggingface/tokenizers';
import { ByteDecodeStream, PrefixDecodeStream } from './decode-stream.ts';
import { byteLevelToBytes, toWellFormed } from './text.ts';
import type { DecodeOptions, DecodeStream, EncodeOptions, Tokenizer } from './types.ts';

type Json = Record<string, unknown>;

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

/** A `bos_token`-style entry of tokenizer_config.json: a string, an AddedToken dict, or null. */
function tokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as Json).content === 'string') {
    return (value as Json).content as string;
  }
  return null;
}

export interface HfTokenizerSource {
  /** Parsed tokenizer.json. */
  tokenizerJson: Json;
  /** Parsed tokenizer_config.json ({} when absent). */
  tokenizerConfig?: Json;
  /** Chat template found next to the tokenizer (chat_template.jinja), overriding tokenizer_config's. */
  chatTemplate?: string | null;
  /** Fallback special-token ids (config.json's bos/eos/pad_token_id) for tokenizers whose config names none. */
  fallbackIds?: { bos?: unknown; eos?: unknown; pad?: unknown };
  /** Name used in messages, normally the tokenizer.json path. */
  name?: string;
}

/** A tokenizer.json tokenizer (BPE, WordPiece, Unigram …) behind the project's `Tokenizer` interface. */
export class HfTokenizer implements Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly unkTokenId: number | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly unkToken: string | null;
  readonly specialTokenIds: ReadonlySet<number>;
  readonly chatTemplate: string | null;
  /** tokenizer_config's add_bos_token / add_eos_token, applied when the post-processor does not already. */
  readonly addBosToken: boolean;
  readonly addEosToken: boolean;

  private readonly tk: HfJsTokenizer;
  private plainTk: HfJsTokenizer | undefined;
  private readonly json: Json;
  private readonly config: Json;
  private readonly byteLevel: boolean;
  private readonly addedBytes = new Map<number, Uint8Array>();
  private readonly postAddsBos: boolean;
  private readonly postAddsEos: boolean;

  constructor(source: HfTokenizerSource) {
    const name = source.name ?? 'tokenizer.json';
    this.name = name;
    const json = source.tokenizerJson;
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new Error(`${name}: expected a JSON object`);
    }
    if (json.model === null || typeof json.model !== 'object') {
      throw new Error(`${name}: no "model" object — this is not a Hugging Face tokenizers file`);
    }
    const model = json.model as Json;
    if (!['BPE', 'WordPiece', 'Unigram'].includes(model.type as string)) {
      throw new Error(
        `${name}: model.type ${JSON.stringify(model.type)} is not supported (BPE, WordPiece, Unigram are)`,
      );
    }
    if (model.vocab === null || typeof model.vocab !== 'object') {
      throw new Error(`${name}: model.vocab is missing`);
    }
    if (model.type === 'BPE' && !Array.isArray(model.merges)) {
      throw new Error(`${name}: model.merges must be an array for a BPE model`);
    }
    if (json.added_tokens !== undefined && !Array.isArray(json.added_tokens)) {
      throw new Error(`${name}: "added_tokens" must be an array, got ${typeof json.added_tokens}`);
    }
    const added = ((json.added_tokens as AddedTokenJson[] | undefined) ?? []).map((t, i) => {
      if (t === null || typeof t !== 'object' || !Number.isInteger(t.id) || typeof t.content !== 'string') {
        throw new Error(
          `${name}: added_tokens[${i}] needs an integer "id" and a string "content", got ${JSON.stringify(t)}`,
        );
      }
      return t;
    });
    // tokenizers.js requires every component key to be present (null when unused).
    this.json = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      ...json,
      added_tokens: added,
    };
    const config: Json = { ...(source.tokenizerConfig ?? {}) };
    // transformers ≥ 4.45 defaults clean_up_tokenization_spaces to False; tokenizers.js would default to true.
    config.clean_up_tokenization_spaces = config.clean_up_tokenization_spaces ?? false;
    // tokenizers.js expects plain strings where HF configs may hold AddedToken dicts.
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      if (config[key] !== undefined) config[key] = tokenText(config[key]);
    }
    if (Array.isArray(config.additional_special_tokens)) {
      config.additional_special_tokens = config.additional_special_tokens.map(tokenText).filter((t) => t !== null);
    }
    this.config = config;
    try {
      this.tk = new HfJsTokenizer(this.json, config);
    } catch (e) {
      throw new Error(`${name}: cannot build the tokenizer: ${(e as Error).message}`, { cause: e });
    }

    let maxId = -1;
    for (const id of this.tk.get_vocab(true).values()) if (id > maxId) maxId = id;
    for (const t of added) if (t.id > maxId) maxId = t.id;
    this.vocabSize = maxId + 1;

    const special = new Set<number>();
    for (const t of added) if (t.special) special.add(t.id);
    for (const t of (config.additional_special_tokens as string[] | undefined) ?? []) {
      const id = this.tk.token_to_id(t);
      if (id !== undefined) special.add(id);
    }
    for (const t of added) this.addedBytes.set(t.id, new Uint8Array(Buffer.from(t.content, 'utf8')));

    const resolve = (key: string, fallback: unknown): [string | null, number | null] => {
      const text = tokenText(config[key]);
      if (text !== null) {
        const id = this.tk.token_to_id(text);
        if (id === undefined) {
          throw new Error(`${name}: tokenizer_config.json ${key} ${JSON.stringify(text)} is not in the vocabulary`);
        }
        special.add(id);
        return [text, id];
      }
      if (Number.isInteger(fallback) && (fallback as number) >= 0 && (fallback as number) < this.vocabSize) {
        const id = fallback as number;
        return [this.tk.id_to_token(id) ?? null, id];
      }
      return [null, null];
    };
    const fb = source.fallbackIds ?? {};
    [this.bosToken, this.bosTokenId] = resolve('bos_token', fb.bos);
    [this.eosToken, this.eosTokenId] = resolve('eos_token', fb.eos);
    [this.padToken, this.padTokenId] = resolve('pad_token', fb.pad);
    [this.unkToken, this.unkTokenId] = resolve('unk_token', undefined);
    this.specialTokenIds = special;

    this.chatTemplate = source.chatTemplate ?? chatTemplateOf(config, name);
    this.addBosToken = config.add_bos_token === true && this.bosTokenId !== null;
    this.addEosToken = config.add_eos_token === true && this.eosTokenId !== null;
    // Does the post-processor already add BOS/EOS? (Then add_bos_token/add_eos_token must not add them again.)
    const probe = this.tk.encode('a', { add_special_tokens: true }).ids;
    const plain = this.tk.encode('a', { add_special_tokens: false }).ids;
    this.postAddsBos = probe.length > plain.length && probe[0] === this.bosTokenId;
    this.postAddsEos = probe.length > plain.length && probe[probe.length - 1] === this.eosTokenId;

    const decoder = json.decoder as Json | null | undefined;
    this.byteLevel =
      decoder?.type === 'ByteLevel' && model.type === 'BPE' && config.clean_up_tokenization_spaces === false;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecial = options.addSpecialTokens ?? true;
    const tk = (options.allowSpecial ?? true) ? this.tk : this.withoutSpecialMatching();
    let ids: number[];
    try {
      ids = tk.encode(toWellFormed(text), { add_special_tokens: addSpecial }).ids;
    } catch (e) {
      throw new Error(`${this.name}: encoding failed: ${(e as Error).message}`, { cause: e });
    }
    const bad = ids.findIndex((id) => !Number.isInteger(id));
    if (bad >= 0) {
      throw new Error(
        `${this.name}: a piece of the input has no token and the tokenizer has no unk token (token ${bad})`,
      );
    }
    if (addSpecial) {
      if (this.addBosToken && !this.postAddsBos) ids.unshift(this.bosTokenId!);
      if (this.addEosToken && !this.postAddsEos) ids.push(this.eosTokenId!);
    }
    return ids;
  }

  /** A second tokenizers.js instance that does not match special added tokens (non-special ones still match). */
  private withoutSpecialMatching(): HfJsTokenizer {
    if (this.plainTk === undefined) {
      const added = (this.json.added_tokens as AddedTokenJson[]).filter(
        (t) => !t.special && !this.specialTokenIds.has(t.id),
      );
      this.plainTk = new HfJsTokenizer(
        { ...this.json, added_tokens: added },
        { ...this.config, additional_special_tokens: [] },
      );
    }
    return this.plainTk;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.tk.id_to_token(id) === undefined) {
      throw new RangeError(`${this.name}: token id ${id} is not in the vocabulary (size ${this.vocabSize})`);
    }
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const list = Array.from(ids);
    for (const id of list) this.checkId(id);
    if (list.length === 0) return '';
    const skip = options.skipSpecialTokens ?? false;
    const kept = skip ? list.filter((id) => !this.specialTokenIds.has(id)) : list;
    if (kept.length === 0) return '';
    return this.tk.decode(kept, { skip_special_tokens: skip });
  }

  decodeStream(options: DecodeOptions = {}): DecodeStream {
    const skip = options.skipSpecialTokens ?? false;
    if (this.byteLevel) {
      return new ByteDecodeStream((id) => {
        this.checkId(id);
        if (skip && this.specialTokenIds.has(id)) return null;
        const added = this.addedBytes.get(id);
        if (added !== undefined) return added;
        const bytes = byteLevelToBytes(this.tk.id_to_token(id)!);
        return bytes ?? new Uint8Array(Buffer.from(this.decode([id]), 'utf8'));
      });
    }
    return new PrefixDecodeStream((ids) => this.decode(ids, options));
  }

  tokenToId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }
}

function chatTemplateOf(config: Json, name: string): string | null {
  const t = config.chat_template;
  if (t === undefined || t === null) return null;
  if (typeof t === 'string') return t;
  // Older multi-template form: [{name, template}, …]; HF uses the one named "default".
  if (Array.isArray(t)) {
    const entry = t.find((e) => e?.name === 'default') ?? t[0];
    if (entry && typeof entry.template === 'string') return entry.template;
  }
  throw new Error(`${name}: tokenizer_config.json chat_template must be a string or a list of {name, template}`);
}

function readJson(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${path}: expected a JSON object at the top level`);
  }
  return value as Json;
}

/**
 * Loads the tokenizer of a Hugging Face checkpoint folder: tokenizer.json (required) and, when present,
 * tokenizer_config.json (special tokens, add_bos/eos_token, chat_template), special_tokens_map.json,
 * chat_template.jinja / chat_template.json, and config.json's bos/eos/pad_token_id as a fallback.
 */
export function loadTokenizer(dir: string): HfTokenizer {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(
      `loadTokenizer: ${dir} is not a folder (expected a Hugging Face checkpoint folder with tokenizer.json)`,
    );
  }
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokenizerPath)) {
    const present = readdirSync(dir)
      .filter((f) => ['vocab.json', 'merges.txt', 'tokenizer.model', 'vocab.txt', 'tokenizer_config.json'].includes(f))
      .sort();
    const hint =
      present.length > 0
        ? ` (found ${present.join(', ')}: only the fast-tokenizer format is read; convert once with Python: ` +
          `AutoTokenizer.from_pretrained(dir).save_pretrained(dir))`
        : '';
    throw new Error(`${tokenizerPath} not found: loadTokenizer needs a Hugging Face tokenizer.json${hint}`);
  }
  const tokenizerJson = readJson(tokenizerPath);
  const configPath = join(dir, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(configPath) ? readJson(configPath) : {};
  const mapPath = join(dir, 'special_tokens_map.json');
  if (existsSync(mapPath)) {
    const map = readJson(mapPath);
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token', 'additional_special_tokens']) {
      if (tokenizerConfig[key] === undefined && map[key] !== undefined) tokenizerConfig[key] = map[key];
    }
  }
  let chatTemplate: string | null = null;
  const jinjaPath = join(dir, 'chat_template.jinja');
  const chatJsonPath = join(dir, 'chat_template.json');
  if (existsSync(jinjaPath)) chatTemplate = readFileSync(jinjaPath, 'utf8');
  else if (existsSync(chatJsonPath)) {
    const t = readJson(chatJsonPath).chat_template;
    if (typeof t !== 'string') throw new Error(`${chatJsonPath}: "chat_template" must be a string`);
    chatTemplate = t;
  }
  const modelConfigPath = join(dir, 'config.json');
  const modelConfig = existsSync(modelConfigPath) ? readJson(modelConfigPath) : {};
  const firstId = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
  const wrap = (e: unknown): Error => {
    const msg = (e as Error).message;
    return new Error(msg.startsWith(tokenizerPath) ? msg : `${tokenizerPath}: ${msg}`);
  };
  try {
    return new HfTokenizer({
      tokenizerJson,
      tokenizerConfig,
      chatTemplate,
      fallbackIds: {
        bos: firstId(modelConfig.bos_token_id),
        eos: firstId(modelConfig.eos_token_id),
        pad: firstId(modelConfig.pad_token_id),
      },
      name: tokenizerPath,
    });
  } catch (e) {
    throw wrap(e);
  }
}
