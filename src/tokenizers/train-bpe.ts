// Byte-level BPE training (the algorithm of Hugging Face tokenizers' BpeTrainer with a ByteLevel alphabet), written
// out as a standard tokenizer.json + tokenizer_config.json that `loadTokenizer` and transformers both read.
//
//   1. Split special-token text out of every document (it never takes part in merges), pre-tokenise the rest with
//      the regex (cl100k by default, as dolma2), map each piece's UTF-8 bytes to the GPT-2 byte-level alphabet,
//      and count the distinct pieces ("words").
//   2. Vocabulary = special tokens (ids 0..k-1, in the order given) + all 256 byte symbols (ordered by the code
//      point of their byte-level character, as HF sorts its alphabet) + one token per merge.
//   3. Repeatedly merge the most frequent adjacent pair of symbols, counted over all words weighted by word
//      frequency (overlapping occurrences count, as in HF), until the vocabulary has `vocabSize` entries, no pair
//      is left, or the best pair occurs fewer than `minFrequency` times. Ties go to the pair with the smaller
//      (left id, right id) — HF's order. Each merge rewrites only the words that contain the pair (a position
//      index per pair) and updates pair counts incrementally; a max-heap with lazy invalidation picks the next
//      pair, so a merge costs time proportional to the words it touches, not to the corpus.
//
// On the same word counts this gives HF's merges, except in one rare case: when a merge re-creates a token that
// already exists (two pairs spelling the same string), HF keeps a second, partial position list for the pairs it
// forms and may apply such a pair in two steps; here a pair is always applied in every word at once.
import fs from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { chunkLine, firstInvalidUtf8, readByteLineChunks } from '../io/byte-lines.ts';
import { writeFileAtomically } from '../io/safetensors-file.ts';
import { TULU_CHAT_TEMPLATE } from './chat.ts';
import { CL100K_PATTERN } from './dolma2.ts';
import { BYTE_TO_UNICODE, escapeRegex, toWellFormed } from './text.ts';

/** The cl100k pre-tokenisation regex as tokenizer.json spells it (Rust `regex`/Oniguruma syntax); CL100K_PATTERN is its JS form. */
export const CL100K_HF_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Default special tokens: OLMo 2's EOS (also its BOS) and pad token. */
export const DEFAULT_BPE_SPECIAL_TOKENS: readonly string[] = ['<|endoftext|>', '<|pad|>'];

/** Pair keys: left·2^21 + right (exact in a double), so vocabularies are limited to 2^21 ids. */
const KEY = 1 << 21;
const MAX_VOCAB = KEY;

export interface TrainBpeProgress {
  phase: 'count' | 'merge' | 'done';
  /** count: documents read; merge: merges done. */
  done: number;
  /** merge: merges wanted (vocabSize − specials − 256); count: 0 (unknown). */
  total: number;
}

export interface TrainBpeOptions {
  /** Training documents (each pre-tokenised on its own). */
  texts?: Iterable<string> | AsyncIterable<string>;
  /**
   * Training files: Dolma JSONL (`.jsonl`, `.json`, optionally `.gz`; the `text` field of each line is a document)
   * or plain text (any other extension; the whole file is one document). Read after `texts`.
   */
  files?: readonly string[];
  /** Total vocabulary: special tokens + 256 byte symbols + merges. Must be ≥ specials + 256. */
  vocabSize: number;
  /** Special tokens, given ids 0, 1, … in this order. Default `<|endoftext|>`, `<|pad|>`. */
  specialTokens?: readonly string[];
  /** Pre-tokenisation regex used for training (global + unicode flags). Default CL100K_PATTERN. */
  pattern?: RegExp;
  /**
   * The same regex as written into tokenizer.json's Split pre-tokenizer, in Rust-regex syntax. Default:
   * CL100K_HF_PATTERN when `pattern` is CL100K_PATTERN, else `pattern.source` (which must then mean the same in both).
   */
  hfPattern?: string;
  /** Refuse training files holding invalid UTF-8 (default: decode it as U+FFFD and list it in the stats). */
  strict?: boolean;
  /** Stop when the best pair occurs fewer times than this (HF `min_frequency`; default 0, i.e. any pair ≥ 1). */
  minFrequency?: number;
  /** tokenizer_config.json entries. Defaults as OLMo 2: eos = bos = `<|endoftext|>`, pad = `<|pad|>` (each must be a special token). */
  eosToken?: string;
  bosToken?: string | null;
  padToken?: string | null;
  /** Chat template of tokenizer_config.json (default the Tülu template; null for none). */
  chatTemplate?: string | null;
  onProgress?: (p: TrainBpeProgress) => void;
}

export interface TrainBpeStats {
  /** Documents (texts and file documents) read. */
  documents: number;
  /** UTF-8 bytes of the training text outside special tokens. */
  bytes: number;
  /** Pre-tokenised pieces, and distinct ones. */
  words: number;
  distinctWords: number;
  /** Merges learned (≥ vocabSize − specials − 256 only when the corpus ran out of pairs). */
  merges: number;
  vocabSize: number;
  /** Tokens of the training text (outside special tokens) after the learned merges, as training segmented it. */
  tokens: number;
  /** Count of the last merge (0 when none). */
  lastMergeCount: number;
  /** File documents that held invalid UTF-8 and were trained on with U+FFFD in its place (reading not strict). */
  invalidUtf8Documents: number;
  /** The first of them (null when none). */
  firstInvalidUtf8: InvalidUtf8Document | null;
}

export interface TrainedBpe {
  /** tokenizer.json (HF schema; write it with `tokenizerJsonString` to keep the vocabulary in id order). */
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** id → token (byte-level string, or special-token text). */
  vocab: string[];
  /** Merges in rank order, as byte-level strings. */
  merges: [string, string][];
  stats: TrainBpeStats;
}

/** Splits documents into pre-tokenised pieces and counts them (the first stage of training). */
export class BpeWordCounter {
  readonly counts = new Map<string, number>();
  documents = 0;
  private readonly pattern: RegExp;
  private readonly specials: RegExp | null;

  constructor(pattern: RegExp, specialTokens: readonly string[]) {
    if (!pattern.global)
      throw new Error(
        `trainByteLevelBpe: the pre-tokenisation regex needs the g flag: /${pattern.source}/${pattern.flags}`,
      );
    this.pattern = new RegExp(pattern.source, pattern.flags);
    const alternatives = [...specialTokens].sort((a, b) => b.length - a.length).map(escapeRegex);
    this.specials = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'g') : null;
  }

  add(text: string): void {
    this.documents++;
    const clean = toWellFormed(text);
    if (this.specials === null) {
      this.addOrdinary(clean);
      return;
    }
    const re = this.specials;
    re.lastIndex = 0;
    let start = 0;
    for (let m = re.exec(clean); m !== null; m = re.exec(clean)) {
      this.addOrdinary(clean.slice(start, m.index));
      start = m.index + m[0].length;
    }
    this.addOrdinary(clean.slice(start));
  }

  private addOrdinary(text: string): void {
    if (text.length === 0) return;
    const re = this.pattern;
    re.lastIndex = 0;
    const counts = this.counts;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++; // a pattern that can match empty must still advance
        continue;
      }
      counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    }
  }
}

/** Max-heap of (count, left, right): larger count first, then smaller left id, then smaller right id. */
class PairHeap {
  private count: number[] = [];
  private left: number[] = [];
  private right: number[] = [];

  get size(): number {
    return this.count.length;
  }

  private above(i: number, j: number): boolean {
    const c = this.count;
    if (c[i] !== c[j]) return c[i] > c[j];
    if (this.left[i] !== this.left[j]) return this.left[i] < this.left[j];
    return this.right[i] < this.right[j];
  }

  private swap(i: number, j: number): void {
    const c = this.count,
      l = this.left,
      r = this.right;
    [c[i], c[j]] = [c[j], c[i]];
    [l[i], l[j]] = [l[j], l[i]];
    [r[i], r[j]] = [r[j], r[i]];
  }

  push(count: number, left: number, right: number): void {
    this.count.push(count);
    this.left.push(left);
    this.right.push(right);
    let i = this.count.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  top(): [count: number, left: number, right: number] {
    return [this.count[0], this.left[0], this.right[0]];
  }

  pop(): void {
    const last = this.count.length - 1;
    this.swap(0, last);
    this.count.pop();
    this.left.pop();
    this.right.pop();
    const n = this.count.length;
    let i = 0;
    for (;;) {
      const a = 2 * i + 1;
      const b = a + 1;
      let m = i;
      if (a < n && this.above(a, m)) m = a;
      if (b < n && this.above(b, m)) m = b;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}

interface ResolvedOptions {
  vocabSize: number;
  specialTokens: string[];
  pattern: RegExp;
  hfPattern: string;
  minFrequency: number;
  eosToken: string;
  bosToken: string | null;
  padToken: string | null;
  chatTemplate: string | null;
  onProgress: (p: TrainBpeProgress) => void;
}

function resolveOptions(o: TrainBpeOptions): ResolvedOptions {
  const specialTokens = [...(o.specialTokens ?? DEFAULT_BPE_SPECIAL_TOKENS)];
  const seen = new Set<string>();
  for (const t of specialTokens) {
    if (typeof t !== 'string' || t.length === 0)
      throw new Error(`trainByteLevelBpe: special tokens must be non-empty strings, got ${JSON.stringify(t)}`);
    if (seen.has(t)) throw new Error(`trainByteLevelBpe: special token ${JSON.stringify(t)} is given twice`);
    seen.add(t);
  }
  const min = specialTokens.length + 256;
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < min || o.vocabSize > MAX_VOCAB) {
    throw new Error(
      `trainByteLevelBpe: vocabSize must be an integer from ${min} (${specialTokens.length} special tokens + 256 bytes) to ${MAX_VOCAB}, got ${o.vocabSize}`,
    );
  }
  const minFrequency = o.minFrequency ?? 0;
  if (!(minFrequency >= 0 && Number.isFinite(minFrequency)))
    throw new Error(`trainByteLevelBpe: minFrequency must be ≥ 0, got ${minFrequency}`);
  const pattern = o.pattern ?? CL100K_PATTERN;
  const hfPattern = o.hfPattern ?? (pattern === CL100K_PATTERN ? CL100K_HF_PATTERN : pattern.source);
  const eosToken = o.eosToken ?? '<|endoftext|>';
  const bosToken = o.bosToken === undefined ? eosToken : o.bosToken;
  const padToken = o.padToken === undefined ? '<|pad|>' : o.padToken;
  for (const [name, t] of [
    ['eosToken', eosToken],
    ['bosToken', bosToken],
    ['padToken', padToken],
  ] as const) {
    if (t !== null && !seen.has(t)) {
      throw new Error(
        `trainByteLevelBpe: ${name} ${JSON.stringify(t)} is not among the special tokens ${JSON.stringify(specialTokens)}`,
      );
    }
  }
  return {
    vocabSize: o.vocabSize,
    specialTokens,
    pattern,
    hfPattern,
    minFrequency,
    eosToken,
    bosToken,
    padToken,
    chatTemplate: o.chatTemplate === undefined ? TULU_CHAT_TEMPLATE : o.chatTemplate,
    onProgress: o.onProgress ?? (() => {}),
  };
}

/** Trains on `texts` (a synchronous iterable only; no files). Same result as `trainByteLevelBpe`. */
export function trainByteLevelBpeSync(
  options: Omit<TrainBpeOptions, 'texts' | 'files'> & { texts: Iterable<string> },
): TrainedBpe {
  const o = resolveOptions(options);
  const counter = new BpeWordCounter(o.pattern, o.specialTokens);
  for (const t of options.texts) {
    counter.add(t);
    if (counter.documents % 1000 === 0) o.onProgress({ phase: 'count', done: counter.documents, total: 0 });
  }
  return trainFromWordCounts(counter.counts, counter.documents, o);
}

/** Trains a byte-level BPE tokenizer on `texts` and/or `files`; see the file comment for the algorithm. */
export async function trainByteLevelBpe(options: TrainBpeOptions): Promise<TrainedBpe> {
  const o = resolveOptions(options);
  if (options.texts === undefined && (options.files === undefined || options.files.length === 0)) {
    throw new Error('trainByteLevelBpe: give texts or files to train on');
  }
  const counter = new BpeWordCounter(o.pattern, o.specialTokens);
  const add = (t: string) => {
    counter.add(t);
    if (counter.documents % 1000 === 0) o.onProgress({ phase: 'count', done: counter.documents, total: 0 });
  };
  if (options.texts !== undefined) {
    for await (const t of options.texts as AsyncIterable<string>) {
      if (typeof t !== 'string') throw new Error(`trainByteLevelBpe: texts must yield strings, got ${typeof t}`);
      add(t);
    }
  }
  let invalid = 0;
  let first: InvalidUtf8Document | null = null;
  const onInvalidUtf8 = (w: InvalidUtf8Document) => {
    invalid++;
    first ??= w;
  };
  for (const f of options.files ?? []) {
    for await (const t of readTrainingDocuments(f, { strict: options.strict, onInvalidUtf8 })) add(t);
  }
  const trained = trainFromWordCounts(counter.counts, counter.documents, o);
  trained.stats.invalidUtf8Documents = invalid;
  trained.stats.firstInvalidUtf8 = first;
  return trained;
}

/** Where a training document holds invalid UTF-8 (decoded as U+FFFD unless reading is strict). */
export interface InvalidUtf8Document {
  file: string;
  /** 1-based line of a JSONL file; 1 for a plain-text file. */
  line: number;
  /** Byte offset of the first invalid sequence in the line, and in the (decompressed) file. */
  lineByte: number;
  fileByte: number;
}

export interface TrainingDocumentsOptions {
  /** Refuse invalid UTF-8 (an error naming file, line and byte) instead of decoding it as U+FFFD. */
  strict?: boolean;
  /** Called for each document decoded with invalid UTF-8 when not strict. */
  onInvalidUtf8?: (where: InvalidUtf8Document) => void;
}

function invalidUtf8Error(w: InvalidUtf8Document): Error {
  return new Error(
    `${w.file}:${w.line}: invalid UTF-8 at byte ${w.lineByte} of the line (byte ${w.fileByte} of the file); ` +
      'expected UTF-8 text (without strict reading it is decoded as U+FFFD and counted)',
  );
}

/**
 * The documents of a training file: the `text` field of each line of a JSONL(.gz) file (a line without a string
 * `text` is an error naming file:line), or the whole content of any other file. Lines are read as bytes by the
 * reader `olmo data tokenize` uses, so a byte order mark at the start is skipped and invalid UTF-8 is refused
 * (`strict`) or reported through `onInvalidUtf8`, never replaced unnoticed.
 */
export async function* readTrainingDocuments(
  file: string,
  options: TrainingDocumentsOptions = {},
): AsyncGenerator<string> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  const base = file.endsWith('.gz') ? file.slice(0, -3) : file;
  const invalid = (w: InvalidUtf8Document): void => {
    if (options.strict) throw invalidUtf8Error(w);
    options.onInvalidUtf8?.(w);
  };
  if (!/\.(jsonl|json|ndjson)$/.test(base)) {
    yield readPlainDocument(file, invalid);
    return;
  }
  for await (const chunk of readByteLineChunks(file)) {
    const bad = new Map(chunk.invalidUtf8.map((v) => [v.index, v]));
    for (let i = 0; i < chunk.lineNos.length; i++) {
      const line = chunk.lineNos[i];
      const b = bad.get(i);
      if (b !== undefined) invalid({ file, line, lineByte: b.lineByte, fileByte: b.fileByte });
      let doc: unknown;
      try {
        doc = JSON.parse(chunkLine(chunk, i));
      } catch (e) {
        throw new Error(`${file}:${line}: invalid JSON: ${(e as Error).message}`, { cause: e });
      }
      const text = (doc as { text?: unknown } | null)?.text;
      if (typeof text !== 'string') throw new Error(`${file}:${line}: expected an object with a string "text" field`);
      yield text;
    }
  }
}

/** A whole plain-text file (`.gz` decompressed) as one document, without a leading byte order mark. */
async function readPlainDocument(file: string, invalid: (w: InvalidUtf8Document) => void): Promise<string> {
  const raw = fs.createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  if (input !== raw) raw.on('error', (e) => input.destroy(e));
  const parts: Buffer[] = [];
  for await (const chunk of input) parts.push(chunk as Buffer);
  const all = Buffer.concat(parts);
  const from = all.length >= 3 && all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf ? 3 : 0;
  const bytes = all.subarray(from);
  const at = firstInvalidUtf8(bytes);
  if (at >= 0) {
    const line = 1 + bytes.subarray(0, at).reduce((n, c) => n + (c === 10 ? 1 : 0), 0);
    const lineByte = at - (bytes.lastIndexOf(10, at) + 1);
    invalid({ file, line, lineByte, fileByte: from + at });
  }
  return bytes.toString('utf8');
}

/** Byte → id of its symbol (after the special tokens), with the 256 symbols sorted by code point as HF does. */
function byteSymbolIds(first: number): { idOfByte: Int32Array; symbols: string[] } {
  const order = Array.from({ length: 256 }, (_, b) => b).sort(
    (x, y) => BYTE_TO_UNICODE[x].charCodeAt(0) - BYTE_TO_UNICODE[y].charCodeAt(0),
  );
  const idOfByte = new Int32Array(256);
  order.forEach((b, i) => (idOfByte[b] = first + i));
  return { idOfByte, symbols: order.map((b) => BYTE_TO_UNICODE[b]) };
}

function trainFromWordCounts(wordCounts: Map<string, number>, documents: number, o: ResolvedOptions): TrainedBpe {
  const vocab: string[] = [...o.specialTokens];
  const { idOfByte, symbols } = byteSymbolIds(vocab.length);
  vocab.push(...symbols);
  const idOf = new Map<string, number>(vocab.map((t, i) => [t, i]));

  // Words as symbol-id arrays (shrunk in place by merges).
  const n = wordCounts.size;
  const syms: Int32Array[] = new Array(n);
  const lens = new Int32Array(n);
  const freq = new Float64Array(n);
  const encoder = new TextEncoder();
  let w = 0;
  let bytes = 0;
  let pieces = 0;
  for (const [word, count] of wordCounts) {
    const b = encoder.encode(word);
    const s = new Int32Array(b.length);
    for (let i = 0; i < b.length; i++) s[i] = idOfByte[b[i]];
    syms[w] = s;
    lens[w] = b.length;
    freq[w] = count;
    bytes += b.length * count;
    pieces += count;
    w++;
  }

  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  const note = (key: number, word: number) => {
    const list = where.get(key);
    if (list === undefined) where.set(key, [word]);
    else if (list[list.length - 1] !== word) list.push(word);
  };
  for (let i = 0; i < n; i++) {
    const s = syms[i];
    for (let j = 0; j + 1 < lens[i]; j++) {
      const key = s[j] * KEY + s[j + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[i]);
      note(key, i);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, Math.floor(key / KEY), key % KEY);

  const merges: [string, string][] = [];
  const mergedPairs = new Set<number>();
  const seen = new Int32Array(n).fill(-1);
  const wanted = o.vocabSize - vocab.length;
  const minCount = Math.max(1, o.minFrequency);
  let lastMergeCount = 0;
  let step = 0;
  while (vocab.length < o.vocabSize && heap.size > 0) {
    const [count, a, b] = heap.top();
    const key = a * KEY + b;
    const actual = pairCount.get(key) ?? 0;
    if (actual !== count) {
      // Stale entry: counts only fall between pushes (a rise pushes a fresh entry), so re-queue a lower count.
      heap.pop();
      if (actual > 0 && actual < count) heap.push(actual, a, b);
      continue;
    }
    if (count < minCount) break;
    heap.pop();

    const token = vocab[a] + vocab[b];
    let r = idOf.get(token);
    if (r === undefined) {
      r = vocab.length;
      vocab.push(token);
      idOf.set(token, r);
    }
    // A pair merged before can only re-form when a later merge re-creates one of its tokens; encoding applies the
    // first merge of it anyway, so it is applied to the words but not listed twice.
    if (!mergedPairs.has(key)) {
      mergedPairs.add(key);
      merges.push([vocab[a], vocab[b]]);
    }
    lastMergeCount = count;

    const list = where.get(key) ?? [];
    where.delete(key);
    pairCount.delete(key);
    const risen = new Set<number>();
    const add = (k: number, delta: number) => {
      if (k === key) return; // the merged pair's own count was dropped above
      const c = (pairCount.get(k) ?? 0) + delta;
      if (c > 0) pairCount.set(k, c);
      else pairCount.delete(k);
    };
    for (const wi of list) {
      if (seen[wi] === step) continue;
      seen[wi] = step;
      const s = syms[wi];
      const len = lens[wi];
      const f = freq[wi];
      // Left to right, non-overlapping; the output is written in place (out ≤ j), so s[out-1] is the final left
      // neighbour (possibly the previous replacement) and s[j+2] the untouched right one. Only the pairs around
      // each occurrence change, as in HF's Word::merge.
      let out = 0;
      for (let j = 0; j < len;) {
        if (j + 1 < len && s[j] === a && s[j + 1] === b) {
          if (out > 0) {
            const x = s[out - 1];
            add(x * KEY + a, -f);
            const k = x * KEY + r;
            add(k, f);
            risen.add(k);
            note(k, wi);
          }
          if (j + 2 < len) {
            const y = s[j + 2];
            add(b * KEY + y, -f);
            const k = r * KEY + y;
            add(k, f);
            risen.add(k);
            note(k, wi);
          }
          s[out++] = r;
          j += 2;
        } else s[out++] = s[j++];
      }
      lens[wi] = out;
    }
    for (const k of risen) {
      const c = pairCount.get(k);
      if (c !== undefined) heap.push(c, Math.floor(k / KEY), k % KEY);
    }
    step++;
    if (step % 256 === 0) o.onProgress({ phase: 'merge', done: merges.length, total: wanted });
  }
  let tokens = 0;
  for (let i = 0; i < n; i++) tokens += lens[i] * freq[i];
  o.onProgress({ phase: 'done', done: merges.length, total: wanted });

  const stats: TrainBpeStats = {
    documents,
    bytes,
    words: pieces,
    distinctWords: n,
    merges: merges.length,
    vocabSize: vocab.length,
    tokens,
    lastMergeCount,
    invalidUtf8Documents: 0,
    firstInvalidUtf8: null,
  };
  return {
    tokenizerJson: buildTokenizerJson(vocab, merges, o),
    tokenizerConfig: buildTokenizerConfig(o),
    vocab,
    merges,
    stats,
  };
}

function buildTokenizerJson(vocab: string[], merges: [string, string][], o: ResolvedOptions): Record<string, unknown> {
  const vocabObj: Record<string, number> = {};
  vocab.forEach((t, i) => (vocabObj[t] = i));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: o.specialTokens.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: o.hfPattern }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: vocabObj,
      merges: merges.map(([x, y]) => `${x} ${y}`),
    },
  };
}

function buildTokenizerConfig(o: ResolvedOptions): Record<string, unknown> {
  return {
    add_bos_token: false,
    add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(
      o.specialTokens.map((content, id) => [
        String(id),
        { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      ]),
    ),
    bos_token: o.bosToken,
    eos_token: o.eosToken,
    pad_token: o.padToken,
    unk_token: null,
    chat_template: o.chatTemplate,
    clean_up_tokenization_spaces: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

/**
 * tokenizer.json text: two-space indentation as HF's `save(pretty=True)`, with `model.vocab` in id order (a plain
 * JSON.stringify would put numeric-looking tokens such as "12" first, as JS orders integer keys).
 */
export function tokenizerJsonString(json: Record<string, unknown>): string {
  const model = json.model as Record<string, unknown> | undefined;
  const vocab = model?.vocab as Record<string, number> | undefined;
  if (model === undefined || vocab === undefined) return JSON.stringify(json, null, 2) + '\n';
  const placeholder = '\u0000vocab\u0000';
  const text = JSON.stringify({ ...json, model: { ...model, vocab: placeholder } }, null, 2);
  const entries = Object.entries(vocab).sort((x, y) => x[1] - y[1]);
  const body =
    entries.length === 0
      ? '{}'
      : `{\n${entries.map(([t, id]) => `      ${JSON.stringify(t)}: ${id}`).join(',\n')}\n    }`;
  const at = text.indexOf(JSON.stringify(placeholder));
  if (at < 0) throw new Error('tokenizerJsonString: internal error (vocab placeholder not found)');
  return text.slice(0, at) + body + text.slice(at + JSON.stringify(placeholder).length) + '\n';
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (created if missing), each atomically. */
export function saveTrainedTokenizer(
  trained: Pick<TrainedBpe, 'tokenizerJson' | 'tokenizerConfig'>,
  dir: string,
): void {
  fs.mkdirSync(dir, { recursive: true });
  const write = (name: string, text: string) => {
    const body = Buffer.from(text, 'utf8');
    writeFileAtomically(path.join(dir, name), (fd) => {
      let done = 0;
      while (done < body.length) done += fs.writeSync(fd, body, done);
    });
  };
  write('tokenizer.json', tokenizerJsonString(trained.tokenizerJson));
  write('tokenizer_config.json', JSON.stringify(trained.tokenizerConfig, null, 2) + '\n');
}
