// The built-in dolma2 tokenizer (OLMo 2): special tokens, agreement with tiktoken's cl100k_base, round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get_encoding } from 'tiktoken';
import {
  DOLMA2_EOS_ID,
  DOLMA2_PAD_ID,
  DOLMA2_SPECIAL_TOKENS,
  DOLMA2_VOCAB_SIZE,
  dolma2Tokenizer,
  toWellFormed,
} from '../../src/tokenizers/index.ts';
import { rng } from '../helpers.ts';
import { randomCodePoints, randomText } from './util.ts';

const tok = dolma2Tokenizer();
// The reference: OpenAI's tiktoken (Rust compiled to WASM), a different implementation from ours.
const cl100k = get_encoding('cl100k_base');
const tiktokenIds = (s: string): number[] => Array.from(cl100k.encode(s, [], []));

const SAMPLES = [
  'Hello, world! The quick brown fox jumps over the lazy dog.',
  "I'm sure they'll say it's fine; WE'VE DONE IT, you'D think.",
  'def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
  'for (let i = 0; i < 10; i++) {\n\tconsole.log(`i=${i}`);\n}\r\n',
  '3.14159265358979 1,000,000 2024-01-31 0xDEADBEEF 1e-10 -42 ٣٤٥ ²³',
  '          leading spaces   and   runs        \t\t\t tabs',
  '\n\n\nthree newlines\n \n  \n\r\n\r\n',
  'Mixed: English, Français, Deutsch (Größe), Ελληνικά, Русский, العربية, हिन्दी, 日本語, 中文, 한국어.',
  'Emoji 😀👍🏽👨‍👩‍👧🇩🇪 and combining: é (e\u0301), ñ, ṩ, Å',
  '<html><body class="x">&nbsp;&lt;tag&gt;</body></html>',
  '    ',
  '',
  'x',
  '=================================================================',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'NEL\u0085sep, nbsp\u00a0\u00a0x, ideographic\u3000space, BOM\ufeffx, LS\u2028PS\u2029',
  "'ſx don'ſt 'S 'LL",
];

test('dolma2 special tokens, ids and vocabulary size are those of allenai/OLMo-2-1124-7B (vocab 100278, eos 100257, pad 100277)', () => {
  assert.equal(DOLMA2_VOCAB_SIZE, 100278);
  assert.equal(tok.vocabSize, 100278);
  assert.equal(tok.eosTokenId, 100257);
  assert.equal(tok.eosToken, '<|endoftext|>');
  assert.equal(tok.padTokenId, 100277);
  assert.equal(tok.padToken, '<|pad|>');
  assert.equal(DOLMA2_EOS_ID, 100257);
  assert.equal(DOLMA2_PAD_ID, 100277);
  const expected: Record<number, string> = {
    100256: '<|extra_id_0|>',
    100257: '<|endoftext|>',
    100258: '<|fim_prefix|>',
    100259: '<|fim_middle|>',
    100260: '<|fim_suffix|>',
    100261: '|||PHONE_NUMBER|||',
    100262: '|||EMAIL_ADDRESS|||',
    100263: '|||IP_ADDRESS|||',
    100264: '<|im_start|>',
    100265: '<|im_end|>',
    100276: '<|endofprompt|>',
    100277: '<|pad|>',
  };
  for (let i = 1; i <= 10; i++) expected[100265 + i] = `<|extra_id_${i}|>`;
  assert.equal(DOLMA2_SPECIAL_TOKENS.length, 22);
  for (let id = 100256; id < 100278; id++) {
    assert.equal(tok.idToToken(id), expected[id], `id ${id}`);
    assert.equal(tok.tokenToId(expected[id]), id);
    assert.ok(tok.specialTokenIds.has(id));
    assert.deepEqual(tok.encode(expected[id]), [id]);
  }
  assert.equal(tok.specialTokenIds.size, 22);
  // The ids shared with tiktoken's cl100k specials coincide.
  for (const t of ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|endofprompt|>']) {
    assert.deepEqual(tok.encode(t), Array.from(cl100k.encode(t, 'all')), t);
  }
});

test('dolma2 ids equal tiktoken cl100k_base on sample strings', () => {
  for (const s of SAMPLES) assert.deepEqual(tok.encode(s), tiktokenIds(s), JSON.stringify(s));
});

test('dolma2 ids equal tiktoken cl100k_base on 400 random mixed-script strings', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const s = randomText(seed, 1 + (seed % 60));
    assert.deepEqual(tok.encode(s), tiktokenIds(s), `seed ${seed}: ${JSON.stringify(s)}`);
  }
});

test('every cl100k_base entry merges back into itself, so HF-style merging equals tiktoken', () => {
  assert.equal(tok.model.size, 100256);
  assert.equal(tok.model.firstUnreachableToken(), -1);
});

test('encode adds no BOS/EOS (OLMo 2 has no BOS; documents get EOS from the data pipeline)', () => {
  assert.deepEqual(tok.encode('Hello', { addSpecialTokens: true }), [9906]);
  assert.deepEqual(tok.encode('Hello', { addSpecialTokens: false }), [9906]);
});

test('special-token text is recognised by default and tokenised as plain text with allowSpecial: false', () => {
  const text = 'a<|endoftext|>b<|im_start|>user\n<|pad|><|extra_id_10|><|extra_id_1|>';
  const ids = tok.encode(text);
  assert.deepEqual(ids, [64, 100257, 65, 100264, 882, 198, 100277, 100275, 100266]);
  const plain = tok.encode(text, { allowSpecial: false });
  assert.ok(
    plain.every((id) => id < 100256),
    `no special ids: ${plain}`,
  );
  assert.deepEqual(plain, tiktokenIds(text));
  assert.equal(tok.decode(plain), text);
  assert.equal(tok.decode(ids), text);
  // Specials that are not cl100k specials too.
  assert.deepEqual(tok.encode('x|||EMAIL_ADDRESS|||y'), [87, 100262, 88]);
});

test('decode round-trips random Unicode (emoji, CJK, combining marks, astral planes)', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const s = seed % 2 ? randomText(seed, 80) : randomCodePoints(seed, 80);
    const ids = tok.encode(s);
    assert.equal(tok.decode(ids), s, `seed ${seed}`);
    for (const id of ids) assert.ok(Number.isInteger(id) && id >= 0 && id < 100256);
  }
});

test('lone surrogates are encoded as U+FFFD (what UTF-8 encoding does); paired ones are kept', () => {
  const s = 'a\uD800b\uDC00c\uD83D\uDE00d\uDE00\uD83D';
  const ids = tok.encode(s);
  assert.deepEqual(ids, tok.encode('a\uFFFDb\uFFFDc😀d\uFFFD\uFFFD'));
  assert.equal(tok.decode(ids), 'a\uFFFDb\uFFFDc😀d\uFFFD\uFFFD');
  assert.deepEqual(ids, Array.from(cl100k.encode('a\uFFFDb\uFFFDc😀d\uFFFD\uFFFD')));
});

test('decode skips special tokens on request and rejects ids outside the vocabulary', () => {
  const ids = tok.encode('<|endoftext|>Hi<|im_end|><|pad|>');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'Hi');
  assert.equal(tok.decode([]), '');
  assert.throws(() => tok.decode([100278]), /token id 100278 is not in the vocabulary \(valid ids are 0\.\.100277\)/);
  assert.throws(() => tok.decode([100351]), /100351/);
  assert.throws(() => tok.decode([-1]), /-1/);
  assert.throws(() => tok.decode([1.5]), /1\.5/);
});

test('tokenToId / idToToken use tokenizer.json byte-level strings', () => {
  assert.equal(tok.idToToken(9906), 'Hello');
  assert.equal(tok.idToToken(1917), 'Ġworld');
  assert.equal(tok.idToToken(198), 'Ċ');
  assert.equal(tok.tokenToId('Ġworld'), 1917);
  assert.equal(tok.tokenToId('not-a-token-xyz'), undefined);
  assert.equal(tok.idToToken(100300), undefined);
});

test('decode stream emits only complete characters and concatenates to decode()', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const s = randomText(seed + 1000, 60) + '<|endoftext|>';
    const ids = tok.encode(s);
    const stream = tok.decodeStream();
    let out = '';
    for (const id of ids) {
      const piece = stream.push(id);
      assert.ok(!piece.includes('\uFFFD'), `seed ${seed}: partial character emitted`);
      // Every emitted piece is well-formed on its own (no split surrogate pairs).
      assert.equal(piece, toWellFormed(piece), `seed ${seed}`);
      out += piece;
    }
    out += stream.flush();
    assert.equal(out, tok.decode(ids), `seed ${seed}`);
  }
  // A 4-byte emoji split over several byte tokens appears only when complete.
  const ids = tok.encode('🤖');
  assert.ok(ids.length > 1, 'emoji is several tokens');
  const stream = tok.decodeStream();
  const pieces = ids.map((id) => stream.push(id));
  assert.deepEqual(pieces.slice(0, -1), new Array(ids.length - 1).fill(''));
  assert.equal(pieces[pieces.length - 1], '🤖');
  // Skipping special tokens while streaming.
  const s2 = tok.decodeStream({ skipSpecialTokens: true });
  assert.equal(
    tok
      .encode('<|endoftext|>ok<|pad|>')
      .map((id) => s2.push(id))
      .join('') + s2.flush(),
    'ok',
  );
  // An incomplete character at the end comes out of flush as U+FFFD.
  const s3 = tok.decodeStream();
  assert.equal(s3.push(ids[0]), '');
  assert.equal(s3.flush(), '\uFFFD');
});

test('long pieces: mergeLong equals the linear merge and tiktoken', () => {
  const r = rng(9);
  const alphabets = ['ab', 'aaaa= ', 'the quick brown fox=', '日本語😀'];
  for (let k = 0; k < 600; k++) {
    const alph = [...alphabets[k % alphabets.length]];
    let s = '';
    const len = 1 + Math.floor(r() * 150);
    for (let i = 0; i < len; i++) s += alph[Math.floor(r() * alph.length)];
    const bin = Buffer.from(s, 'utf8').toString('latin1');
    assert.deepEqual(tok.model.mergeLong(bin), tok.model.mergeLinear(bin), JSON.stringify(s));
  }
  for (const s of [
    'a'.repeat(3000),
    'x'.repeat(1000) + 'yz'.repeat(700),
    ' '.repeat(2000) + 'x',
    '7'.repeat(999),
    '='.repeat(1500),
  ]) {
    assert.deepEqual(tok.encode(s), tiktokenIds(s), `${s.slice(0, 10)}… (${s.length})`);
  }
});
