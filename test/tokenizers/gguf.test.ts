// The tokenizer a GGUF file carries (src/tokenizers/gguf.ts): written by the GGUF writer's vocabulary code from
// a tokenizer.json, read back from the file, it encodes exactly as the tokenizer.json does (the quickstart's own
// trained BPE and the tiny NeoX-style one) and as the built-in dolma2 tokenizer does; the chat template and special
// ids come along; other tokenizer models and pre-tokenizers are refused by name.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGguf, type GgufValue } from '../../src/io/gguf/reader.ts';
import { writeGguf } from '../../src/io/gguf/writer.ts';
import { ggufVocab } from '../../src/models/gguf-vocab.ts';
import { ggufTokenizer } from '../../src/tokenizers/gguf.ts';
import {
  TULU_CHAT_TEMPLATE,
  dolma2Tokenizer,
  loadTokenizer,
  saveTrainedTokenizer,
  trainByteLevelBpeSync,
  type Tokenizer,
} from '../../src/tokenizers/index.ts';
import { dolma2TokenizerJson } from './dolma2-json.ts';
import { tinyTokenizerJson } from './tiny-tokenizer.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-gguf-tok-'));
after(() => rmSync(root, { recursive: true, force: true }));

const TEXTS = [
  'Hello world! The quick brown fox jumps over the lazy dog.',
  "I'm sure they'll say it's 12345678 or 3.14159, isn't it?",
  '  leading spaces\n\n\ttabs and\r\nnewlines   ',
  'héllo wörld — naïve café, 你好世界, こんにちは 🤗🦀',
  'def f(x):\n    return x ** 2  # squares\n',
  '<|endoftext|>text between<|pad|> specials<|im_start|>user\nhi<|im_end|>',
];

/** tokenizer.json (+ config) in DIR → GGUF tokenizer keys (the writer's code) → a file → our tokenizer. */
function throughGguf(dir: string, rows: number): Tokenizer {
  const path = join(dir, 'tokenizer.gguf');
  writeGguf(path, ggufVocab(dir, rows).entries, []);
  return ggufTokenizer(readGguf(path).metadata, path)!;
}

function assertSameEncoding(ours: Tokenizer, want: Tokenizer, label: string): void {
  for (const text of TEXTS) {
    const ids = want.encode(text);
    assert.deepEqual(ours.encode(text), ids, `${label}: ${JSON.stringify(text)}`);
    assert.deepEqual(ours.encode(text, { allowSpecial: false }), want.encode(text, { allowSpecial: false }), label);
    assert.equal(ours.decode(ids), want.decode(ids), label);
  }
  assert.equal(ours.eosTokenId, want.eosTokenId, `${label} eos`);
  assert.equal(ours.bosTokenId, want.bosTokenId, `${label} bos`);
  assert.equal(ours.padTokenId, want.padTokenId, `${label} pad`);
  assert.equal(ours.chatTemplate, want.chatTemplate, `${label} chat template`);
}

describe('GGUF tokenizer', () => {
  it('the quickstart\'s trained BPE (cl100k split, "dbrx") encodes as its tokenizer.json', () => {
    const dir = join(root, 'trained');
    const trained = trainByteLevelBpeSync({ texts: [...TEXTS, ...TEXTS.map((t) => t.toUpperCase())], vocabSize: 400 });
    saveTrainedTokenizer(trained, dir);
    const want = loadTokenizer(dir);
    const ours = throughGguf(dir, 400);
    assert.equal(ours.chatTemplate, TULU_CHAT_TEMPLATE);
    assertSameEncoding(ours, want, 'trained');
    assert.deepEqual([...ours.specialTokenIds].sort(), [...want.specialTokenIds].sort());
  });

  it('a NeoX-style tokenizer (NFC + GPT-2 regex, "olmo") encodes as its tokenizer.json; padded ids are not tokens', () => {
    const dir = join(root, 'neox');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>' }));
    const want = loadTokenizer(dir);
    const ours = throughGguf(dir, 320); // the embedding has 320 rows: ids 268..319 are llama.cpp's [PAD…] fillers
    assertSameEncoding(ours, want, 'neox');
    assert.equal(ours.vocabSize, want.vocabSize);
    assert.equal(ours.idToToken(300), undefined);
  });

  it('dolma2 (OLMo 2) encodes as the built-in dolma2 tokenizer', () => {
    const dir = join(root, 'dolma2');
    mkdirSync(dir);
    // dolma2TokenizerJson spells cl100k's split as allenai_dolma2.json does: behavior Removed + invert
    const json = dolma2TokenizerJson();
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const config = { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|pad|>' };
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: TULU_CHAT_TEMPLATE }));
    const ours = throughGguf(dir, 100352);
    const builtin = dolma2Tokenizer();
    for (const text of TEXTS) assert.deepEqual(ours.encode(text), builtin.encode(text), JSON.stringify(text));
    assert.equal(ours.vocabSize, builtin.vocabSize);
    assert.equal(ours.eosTokenId, builtin.eosTokenId);
    assert.equal(ours.padTokenId, builtin.padTokenId);
    assert.deepEqual([...ours.specialTokenIds].sort(), [...builtin.specialTokenIds].sort());
    assert.equal(ours.chatTemplate, builtin.chatTemplate);
  });

  describe('refusals', () => {
    const meta = (entries: [string, GgufValue][]) => new Map<string, GgufValue>(entries);
    const bpe: [string, GgufValue][] = [
      ['tokenizer.ggml.model', 'gpt2'],
      ['tokenizer.ggml.tokens', ['a', 'b', 'ab']],
      ['tokenizer.ggml.merges', ['a b']],
    ];

    it('no tokenizer.ggml.model, or "none": no tokenizer', () => {
      assert.equal(ggufTokenizer(meta([]), 'x.gguf'), null);
      assert.equal(ggufTokenizer(meta([['tokenizer.ggml.model', 'none']]), 'x.gguf'), null);
    });

    it('a SentencePiece ("llama") tokenizer is refused by name', () => {
      assert.throws(
        () => ggufTokenizer(meta([['tokenizer.ggml.model', 'llama']]), 'x.gguf'),
        /x\.gguf: tokenizer\.ggml\.model "llama" is not supported; olmo-ts reads byte-level BPE \("gpt2"\)/,
      );
    });

    it('an unknown pre-tokenizer is refused, listing the known ones', () => {
      assert.throws(
        () => ggufTokenizer(meta([...bpe, ['tokenizer.ggml.pre', 'qwen2']]), 'x.gguf'),
        /x\.gguf: tokenizer\.ggml\.pre "qwen2" is not supported \(supported: gpt2, olmo, dbrx, llama3\)/,
      );
    });

    it('missing merges, token types of the wrong length and out-of-range ids are named', () => {
      assert.throws(
        () => ggufTokenizer(meta(bpe.slice(0, 2)), 'x.gguf'),
        /x\.gguf: tokenizer\.ggml\.merges must be an array of strings, got nothing \(the key is missing\)/,
      );
      assert.throws(
        () => ggufTokenizer(meta([...bpe, ['tokenizer.ggml.token_type', [1, 1]]]), 'x.gguf'),
        /tokenizer\.ggml\.token_type must have one entry per token \(3\), got 2/,
      );
      assert.throws(
        () => ggufTokenizer(meta([...bpe, ['tokenizer.ggml.eos_token_id', 7]]), 'x.gguf'),
        /tokenizer\.ggml\.eos_token_id must be a token id in 0\.\.2, got 7/,
      );
    });
  });
});
