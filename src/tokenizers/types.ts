// The tokenizer contract shared by the built-in dolma2 tokenizer and tokenizers loaded from tokenizer.json.

export interface EncodeOptions {
  /**
   * Add the special tokens the tokenizer's post-processor / tokenizer_config ask for (BOS/EOS), as
   * Hugging Face `encode(text, add_special_tokens=True)` does. Default true. For dolma2 (OLMo 2) and the
   * GPT-NeoX tokenizers (OLMo 1, OLMoE) this adds nothing: pretraining documents get their EOS appended by
   * the data pipeline, not by `encode`.
   */
  addSpecialTokens?: boolean;
  /**
   * Recognise special-token text such as `<|endoftext|>` in the input and map it to its id (default true,
   * which is what Hugging Face tokenizers and therefore OLMo's data pipeline do). With false, special-token
   * text is tokenised as ordinary text (HF `split_special_tokens=True`). Non-special added tokens (the
   * whitespace runs of the NeoX tokenizers) are always matched.
   */
  allowSpecial?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (EOS, pad, `<|im_start|>`, …) from the output. Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * Incremental detokeniser for token-by-token generation. `push` returns the text that became complete
 * with this token (possibly ''), never a partial UTF-8 character; `flush` returns whatever is left
 * (an incomplete trailing byte sequence decodes to U+FFFD there).
 */
export interface DecodeStream {
  push(id: number): string;
  flush(): string;
}

export interface Tokenizer {
  /** Where the tokenizer came from: 'dolma2' or the tokenizer.json path. */
  readonly name: string;
  /** Number of ids the tokenizer can produce: max id + 1, added tokens included (HF `len(tokenizer)`). */
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly unkTokenId: number | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly unkToken: string | null;
  /** Ids of every special token (added tokens marked special). */
  readonly specialTokenIds: ReadonlySet<number>;
  /** The Jinja chat template from tokenizer_config.json, or null when the checkpoint has none. */
  readonly chatTemplate: string | null;

  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  decodeStream(options?: DecodeOptions): DecodeStream;
}
