// A small self-made GPT-NeoX-style tokenizer.json (byte-level BPE, 268 ids), shared by tests that need a
// tokenizer for the tiny fixture models.
import { BYTE_TO_UNICODE } from '../../src/tokenizers/text.ts';

/** Byte b has id 2 + b; merges build "hello" and "Ġwor"; the NeoX-like added tokens follow. */
const B = BYTE_TO_UNICODE;
export function tinyTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = { '<|endoftext|>': 0, '<|padding|>': 1 };
  for (let b = 0; b < 256; b++) vocab[B[b]] = 2 + b;
  const merges = ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or'];
  let next = 258;
  for (const m of merges) vocab[m.replace(' ', '')] = next++; // 258 he, 259 ll, 260 hell, 261 hello, 262 Ġw, 263 or, 264 Ġwor
  const added = (id: number, content: string, special: boolean, normalized: boolean) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized,
    special,
  });
  vocab['  '] = 265;
  vocab['   '] = 266;
  vocab['|||EMAIL_ADDRESS|||'] = 267;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      added(0, '<|endoftext|>', true, false),
      added(1, '<|padding|>', true, false),
      added(265, '  ', false, true),
      added(266, '   ', false, true),
      added(267, '|||EMAIL_ADDRESS|||', false, false),
    ],
    normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
