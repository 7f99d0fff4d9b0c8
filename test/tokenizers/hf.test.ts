// loadTokenizer on a small self-made GPT-NeoX-style tokenizer.json (byte-level BPE, NFC, whitespace-run added
// tokens, special tokens), plus the error messages for missing and malformed files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { applyChatTemplate, loadTokenizer, PrefixDecodeStream, dolma2Tokenizer } from '../../src/tokenizers/index.ts';
import { tinyTokenizerJson } from './tiny-tokenizer.ts';
import { randomText } from './util.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-tok-'));
after(() => rmSync(root, { recursive: true, force: true }));

const byteId = (ch: string): number => 2 + Buffer.from(ch, 'utf8')[0];

function checkpoint(name: string, files: Record<string, unknown>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const CHAT =
  "{% for m in messages %}{{ '[' + m['role'] + ']' + m['content'] + eos_token }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '[assistant]' }}{% endif %}";

const neox = checkpoint('neox', {
  'tokenizer.json': tinyTokenizerJson(),
  'tokenizer_config.json': {
    bos_token: null,
    eos_token: { __type: 'AddedToken', content: '<|endoftext|>', lstrip: false, rstrip: false, normalized: false },
    pad_token: '<|padding|>',
    unk_token: null,
    add_bos_token: false,
    clean_up_tokenization_spaces: false,
    chat_template: CHAT,
    tokenizer_class: 'GPTNeoXTokenizer',
  },
});
const tok = loadTokenizer(neox);

test('loadTokenizer reads a byte-level BPE tokenizer.json and its tokenizer_config.json', () => {
  assert.equal(tok.vocabSize, 268);
  assert.equal(tok.eosTokenId, 0);
  assert.equal(tok.eosToken, '<|endoftext|>');
  assert.equal(tok.padTokenId, 1);
  assert.equal(tok.bosTokenId, null);
  assert.equal(tok.bosToken, null);
  assert.deepEqual(
    [...tok.specialTokenIds].sort((a, b) => a - b),
    [0, 1],
  );
  assert.equal(tok.chatTemplate, CHAT);
  assert.equal(tok.tokenToId('Ġwor'), 264);
  assert.equal(tok.idToToken(261), 'hello');
});

test('merges apply in rank order and bytes without merges fall back to byte tokens', () => {
  assert.deepEqual(tok.encode('hello world'), [261, 264, byteId('l'), byteId('d')]);
  assert.deepEqual(tok.encode('hell'), [260]);
  assert.deepEqual(tok.encode('oh'), [byteId('o'), byteId('h')]);
  assert.equal(tok.decode([261, 264, byteId('l'), byteId('d')]), 'hello world');
});

test('NFC normalisation happens before BPE', () => {
  const ids = tok.encode('e\u0301');
  assert.deepEqual(ids, [2 + 0xc3, 2 + 0xa9]);
  assert.equal(tok.decode(ids), '\u00e9');
});

test('whitespace-run added tokens are matched before BPE, longest first (NeoX ids 50254–50276 behaviour)', () => {
  assert.deepEqual(tok.encode('a    b'), [byteId('a'), 266, byteId(' '), byteId('b')]);
  assert.deepEqual(tok.encode('a  b'), [byteId('a'), 265, byteId('b')]);
  assert.equal(tok.decode(tok.encode('a    b')), 'a    b');
  // Non-special added tokens stay matched even with allowSpecial: false.
  assert.deepEqual(tok.encode('x|||EMAIL_ADDRESS|||', { allowSpecial: false }), [byteId('x'), 267]);
});

test('special tokens: matched in text by default, plain text with allowSpecial: false, skipped on decode', () => {
  assert.deepEqual(tok.encode('hello<|endoftext|>'), [261, 0]);
  const plain = tok.encode('hello<|endoftext|>', { allowSpecial: false });
  assert.ok(!plain.includes(0) && plain.length > 3, `${plain}`);
  assert.equal(tok.decode(plain), 'hello<|endoftext|>');
  assert.equal(tok.decode([261, 0, 1]), 'hello<|endoftext|><|padding|>');
  assert.equal(tok.decode([261, 0, 1], { skipSpecialTokens: true }), 'hello');
  assert.equal(tok.decode([]), '');
  assert.throws(() => tok.decode([268]), /tokenizer\.json: token id 268 is not in the vocabulary \(size 268\)/);
  // No BOS is configured, so addSpecialTokens adds nothing.
  assert.deepEqual(tok.encode('hello', { addSpecialTokens: true }), [261]);
});

test('round trip of random Unicode through the tiny tokenizer (NFC-normalised)', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const s = randomText(seed, 50);
    assert.equal(tok.decode(tok.encode(s)), s.normalize('NFC'), `seed ${seed}`);
  }
});

test('decode streams: byte-level and generic prefix streaming agree with decode()', () => {
  const s = 'hello wörld 🤖 日本 e\u0301<|endoftext|>';
  const ids = tok.encode(s);
  const byteStream = tok.decodeStream();
  const pieces = ids.map((id) => byteStream.push(id));
  assert.ok(pieces.every((p) => !p.includes('\uFFFD')));
  assert.equal(pieces.join('') + byteStream.flush(), tok.decode(ids));
  const skipping = tok.decodeStream({ skipSpecialTokens: true });
  assert.equal(
    ids.map((id) => skipping.push(id)).join('') + skipping.flush(),
    tok.decode(ids, { skipSpecialTokens: true }),
  );
  // The generic algorithm (used for non-byte-level decoders), driven by decode() of both tokenizers.
  for (const t of [tok, dolma2Tokenizer()]) {
    const ids2 = t.encode(randomText(77, 120));
    const generic = new PrefixDecodeStream((x) => t.decode(x));
    const out = ids2.map((id) => generic.push(id));
    assert.ok(
      out.every((p) => !p.includes('\uFFFD')),
      'no partial characters',
    );
    assert.equal(out.join('') + generic.flush(), t.decode(ids2));
  }
});

test('chat_template from tokenizer_config.json is rendered with eos_token and add_generation_prompt', () => {
  const messages = [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ];
  assert.equal(applyChatTemplate(tok, messages), '[user]hi<|endoftext|>[assistant]hello<|endoftext|>');
  assert.equal(
    applyChatTemplate(tok, messages.slice(0, 1), { addGenerationPrompt: true }),
    '[user]hi<|endoftext|>[assistant]',
  );
});

test('without a chat_template the Tülu template is used, with no BOS for a NeoX tokenizer', () => {
  const dir = checkpoint('neox-no-template', {
    'tokenizer.json': tinyTokenizerJson(),
    'config.json': { eos_token_id: 0, pad_token_id: 1 },
  });
  const t = loadTokenizer(dir);
  // No tokenizer_config.json: eos/pad come from config.json.
  assert.equal(t.eosTokenId, 0);
  assert.equal(t.eosToken, '<|endoftext|>');
  assert.equal(t.padTokenId, 1);
  assert.equal(t.chatTemplate, null);
  assert.equal(
    applyChatTemplate(t, [{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }),
    '<|user|>\nhi\n<|assistant|>\n',
  );
});

test('chat_template.jinja next to the tokenizer overrides tokenizer_config.json', () => {
  const dir = checkpoint('jinja-file', {
    'tokenizer.json': tinyTokenizerJson(),
    'tokenizer_config.json': { eos_token: '<|endoftext|>', chat_template: CHAT },
    'chat_template.jinja': '{{ messages[0].content | upper }}',
  });
  assert.equal(applyChatTemplate(loadTokenizer(dir), [{ role: 'user', content: 'abc' }]), 'ABC');
});

test('add_bos_token in tokenizer_config.json prepends BOS once (only with addSpecialTokens)', () => {
  const dir = checkpoint('with-bos', {
    'tokenizer.json': tinyTokenizerJson(),
    'tokenizer_config.json': { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', add_bos_token: true },
  });
  const t = loadTokenizer(dir);
  assert.deepEqual(t.encode('hello'), [0, 261]);
  assert.deepEqual(t.encode('hello', { addSpecialTokens: false }), [261]);
  // A post-processor that already adds BOS is not doubled.
  const json = tinyTokenizerJson();
  json.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [0], tokens: ['<|endoftext|>'] } },
  };
  const dir2 = checkpoint('with-bos-post', {
    'tokenizer.json': json,
    'tokenizer_config.json': { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', add_bos_token: true },
  });
  assert.deepEqual(loadTokenizer(dir2).encode('hello'), [0, 261]);
});

test('errors name the folder or file and say what is wrong', () => {
  assert.throws(() => loadTokenizer(join(root, 'nope')), /nope is not a folder/);
  const slow = checkpoint('slow-only', { 'vocab.json': {}, 'merges.txt': '#version: 0.2\n' });
  assert.throws(
    () => loadTokenizer(slow),
    (e: Error) =>
      e.message.includes(join(slow, 'tokenizer.json')) &&
      e.message.includes('not found') &&
      e.message.includes('found merges.txt, vocab.json'),
  );
  const badJson = checkpoint('bad-json', { 'tokenizer.json': '{"model": ' });
  assert.throws(() => loadTokenizer(badJson), new RegExp(`${escape(join(badJson, 'tokenizer.json'))}: invalid JSON`));
  const noModel = checkpoint('no-model', { 'tokenizer.json': { version: '1.0', added_tokens: [] } });
  assert.throws(() => loadTokenizer(noModel), /tokenizer\.json: no "model" object/);
  const badType = checkpoint('bad-type', {
    'tokenizer.json': { ...tinyTokenizerJson(), model: { type: 'Mystery', vocab: {} } },
  });
  assert.throws(() => loadTokenizer(badType), /bad-type\/tokenizer\.json: model\.type "Mystery" is not supported/);
  const badPre = checkpoint('bad-pre', {
    'tokenizer.json': { ...tinyTokenizerJson(), pre_tokenizer: { type: 'Bogus' } },
  });
  assert.throws(() => loadTokenizer(badPre), /bad-pre\/tokenizer\.json: cannot build the tokenizer: .*Bogus/);
  const badConfig = checkpoint('bad-config', {
    'tokenizer.json': tinyTokenizerJson(),
    'tokenizer_config.json': '{oops',
  });
  assert.throws(
    () => loadTokenizer(badConfig),
    new RegExp(`${escape(join(badConfig, 'tokenizer_config.json'))}: invalid JSON`),
  );
  const unknownEos = checkpoint('unknown-eos', {
    'tokenizer.json': tinyTokenizerJson(),
    'tokenizer_config.json': { eos_token: '</s>' },
  });
  assert.throws(() => loadTokenizer(unknownEos), /tokenizer_config\.json eos_token "<\/s>" is not in the vocabulary/);
  const badAdded = checkpoint('bad-added', {
    'tokenizer.json': { ...tinyTokenizerJson(), added_tokens: [{ id: 'x' }] },
  });
  assert.throws(() => loadTokenizer(badAdded), /added_tokens\[0\] needs an integer "id"/);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
