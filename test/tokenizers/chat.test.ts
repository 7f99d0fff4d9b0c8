// Chat templates: the Tülu / OLMo 2 template against the exact strings of open-instruct's `CHAT_TEMPLATES["tulu"]`
// with the OLMo 2-Instruct tokenizer's BOS prefix (https://github.com/allenai/open-instruct,
// https://huggingface.co/allenai/OLMo-2-1124-7B-Instruct), Jinja rendering, and the
// assistant-token mask used for SFT loss masking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get_encoding } from 'tiktoken';
import {
  TULU_CHAT_TEMPLATE,
  applyChatTemplate,
  dolma2Tokenizer,
  encodeChat,
  renderChatTemplate,
  type ChatMessage,
} from '../../src/tokenizers/index.ts';
import { rng } from '../helpers.ts';
import { randomText } from './util.ts';

const tok = dolma2Tokenizer();

const SYS = 'You are OLMo, a helpful assistant.';
const U1 = 'What is 2 + 2?';
const A1 = 'The answer is 4.';
const U2 = 'And 3 × 3? 🤔';
const A2 = 'It is 9.';

test('Tülu template: system/user/assistant multi-turn with generation prompt equals the Tülu 3 chat format written out by hand', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: SYS },
    { role: 'user', content: U1 },
    { role: 'assistant', content: A1 },
    { role: 'user', content: U2 },
  ];
  const expected = `<|endoftext|><|system|>\n${SYS}\n<|user|>\n${U1}\n<|assistant|>\n${A1}<|endoftext|>\n<|user|>\n${U2}\n<|assistant|>\n`;
  assert.equal(applyChatTemplate(tok, messages, { addGenerationPrompt: true }), expected);
  assert.equal(tok.chatTemplate, TULU_CHAT_TEMPLATE);
  // Without the generation prompt the trailing `<|assistant|>\n` is absent.
  assert.equal(applyChatTemplate(tok, messages), expected.slice(0, -'<|assistant|>\n'.length));
});

test('Tülu template: a final assistant turn ends with EOS and no newline; earlier ones with EOS + newline', () => {
  const messages: ChatMessage[] = [
    { role: 'user', content: U1 },
    { role: 'assistant', content: A1 },
    { role: 'user', content: U2 },
    { role: 'assistant', content: A2 },
  ];
  assert.equal(
    applyChatTemplate(tok, messages),
    `<|endoftext|><|user|>\n${U1}\n<|assistant|>\n${A1}<|endoftext|>\n<|user|>\n${U2}\n<|assistant|>\n${A2}<|endoftext|>`,
  );
  assert.equal(applyChatTemplate(tok, []), '<|endoftext|>');
});

/**
 * The Tülu template's rules (open-instruct `CHAT_TEMPLATES["tulu"]`) written out directly, to check the Jinja
 * template on random conversations.
 */
function tuluReference(messages: ChatMessage[], addGenerationPrompt: boolean): string {
  let s = '<|endoftext|>';
  messages.forEach((m, i) => {
    const last = i === messages.length - 1;
    if (m.role === 'system') s += `<|system|>\n${m.content}\n`;
    else if (m.role === 'user') s += `<|user|>\n${m.content}\n`;
    else if (m.role === 'assistant') s += `<|assistant|>\n${m.content}<|endoftext|>${last ? '' : '\n'}`;
    if (last && addGenerationPrompt) s += '<|assistant|>\n';
  });
  return s;
}

test('Tülu template agrees with a hand-written renderer of its rules on random conversations', () => {
  const r = rng(5);
  const roles = ['system', 'user', 'assistant'];
  for (let k = 0; k < 100; k++) {
    const n = Math.floor(r() * 6);
    const messages = Array.from({ length: n }, (_, i) => ({
      role: roles[Math.floor(r() * 3)],
      content: randomText(k * 10 + i, Math.floor(r() * 20)),
    }));
    const gen = r() < 0.5;
    assert.equal(
      applyChatTemplate(tok, messages, { addGenerationPrompt: gen }),
      tuluReference(messages, gen),
      `case ${k}`,
    );
  }
});

test('<|user|>, <|assistant|>, <|system|> are plain text in dolma2 (BPE like tiktoken), <|endoftext|> is EOS', () => {
  const cl100k = get_encoding('cl100k_base');
  for (const t of ['<|user|>', '<|assistant|>', '<|system|>']) {
    const ids = tok.encode(t);
    assert.ok(ids.length > 1 && ids.every((id) => id < 100256), `${t}: ${ids}`);
    assert.deepEqual(ids, Array.from(cl100k.encode(t)));
  }
  const text = applyChatTemplate(tok, [{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
  const ids = tok.encode(text);
  assert.equal(ids[0], 100257);
  assert.equal(ids.filter((id) => id >= 100256).length, 1);
});

test('encodeChat marks exactly the assistant content and its EOS, token by token', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: SYS },
    { role: 'user', content: U1 },
    { role: 'assistant', content: A1 },
    { role: 'user', content: U2 },
    { role: 'assistant', content: A2 },
  ];
  const { text, ids, assistantMask } = encodeChat(tok, messages);
  assert.equal(text, applyChatTemplate(tok, messages));
  assert.deepEqual(ids, tok.encode(text));
  // Independent expectation: the rendered text cut at turn boundaries, each piece tokenised on its own.
  const pieces: [string, number][] = [
    [`<|endoftext|><|system|>\n${SYS}\n<|user|>\n${U1}\n<|assistant|>\n`, 0],
    [`${A1}<|endoftext|>`, 1],
    [`\n<|user|>\n${U2}\n<|assistant|>\n`, 0],
    [`${A2}<|endoftext|>`, 1],
  ];
  assert.equal(pieces.map(([s]) => s).join(''), text);
  const expectedIds: number[] = [];
  const expectedMask: number[] = [];
  for (const [s, m] of pieces) {
    for (const id of tok.encode(s)) {
      expectedIds.push(id);
      expectedMask.push(m);
    }
  }
  assert.deepEqual(ids, expectedIds, 'turn boundaries are token boundaries here');
  assert.equal(assistantMask.length, ids.length);
  for (let t = 0; t < ids.length; t++) {
    assert.equal(assistantMask[t], expectedMask[t], `token ${t} (${JSON.stringify(tok.decode([ids[t]]))})`);
  }
  const trained = ids.filter((_, t) => assistantMask[t] === 1);
  assert.equal(tok.decode(trained), `${A1}<|endoftext|>${A2}<|endoftext|>`);
  assert.equal(trained.filter((id) => id === 100257).length, 2);
});

test('encodeChat: a conversation ending in a user turn trains on nothing after the last assistant EOS', () => {
  const messages: ChatMessage[] = [
    { role: 'user', content: U1 },
    { role: 'assistant', content: A1 },
    { role: 'user', content: U2 },
  ];
  const { ids, assistantMask } = encodeChat(tok, messages);
  const trained = ids.filter((_, t) => assistantMask[t] === 1);
  assert.equal(tok.decode(trained), `${A1}<|endoftext|>`);
  const lastOne = assistantMask.lastIndexOf(1);
  assert.equal(ids[lastOne], 100257);
  assert.ok(assistantMask.slice(lastOne + 1).every((m) => m === 0));
  // Only user turns: nothing is trained on.
  assert.ok(encodeChat(tok, [{ role: 'user', content: 'hi' }]).assistantMask.every((m) => m === 0));
});

test('renderChatTemplate exposes Jinja features; bad templates and messages give clear errors', () => {
  assert.equal(
    renderChatTemplate('{% for m in messages %}{{ loop.index }}:{{ m.content | trim }};{% endfor %}{{ eos_token }}', {
      messages: [
        { role: 'user', content: ' a ' },
        { role: 'user', content: 'b' },
      ],
      eos_token: '</s>',
    }),
    '1:a;2:b;</s>',
  );
  assert.throws(() => renderChatTemplate('{% for m in messages %}', { messages: [] }), /chat template does not parse/);
  assert.throws(
    () => renderChatTemplate("{{ raise_exception('roles must alternate') }}", {}),
    /chat template failed to render: .*roles must alternate/,
  );
  assert.throws(
    () => applyChatTemplate(tok, [{ content: 'x' } as unknown as ChatMessage]),
    /chat message 0: expected an object with a string "role"/,
  );
  assert.equal(
    applyChatTemplate(tok, [{ role: 'user', content: 'x' }], {
      template: '{{ bos_token }}|{{ pad_token }}|{{ messages|length }}',
    }),
    '<|endoftext|>|<|pad|>|1',
  );
});
