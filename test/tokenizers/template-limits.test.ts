// Chat templates are untrusted code from a checkpoint: every render is bounded (range length, loop iterations,
// string sizes, time) and fails fast with "chat template exceeds …" naming the limit and the template's source;
// escapes into JavaScript do nothing; ordinary templates render exactly as the unbounded library does.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import {
  TULU_CHAT_TEMPLATE,
  TemplateLimitError,
  applyChatTemplate,
  dolma2Tokenizer,
  loadTokenizer,
  renderChatTemplate,
  type TemplateLimits,
} from '../../src/tokenizers/index.ts';
import { tinyTokenizerJson } from './tiny-tokenizer.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-tpl-'));
after(() => rmSync(root, { recursive: true, force: true }));

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'What is 2 + 2?' },
  { role: 'assistant', content: 'Four.' },
  { role: 'user', content: 'And 3 × 3? 🤔' },
];

/** Asserts that rendering fails on `limit` within `ms`, with the house message naming the limit and source. */
function assertLimit(
  template: string,
  limit: keyof TemplateLimits,
  limits: Partial<TemplateLimits> = {},
  ms = 2000,
): void {
  const t0 = performance.now();
  assert.throws(
    () => renderChatTemplate(template, { messages }, { source: 'probe.json', limits }),
    (e: unknown) => {
      assert.ok(e instanceof TemplateLimitError, `expected a TemplateLimitError, got ${String(e)}`);
      assert.equal(e.limit, limit);
      assert.match(e.message, new RegExp(`^chat template exceeds .*\\(limit ${limit} = \\d+\\) in probe\\.json$`));
      return true;
    },
  );
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < ms, `${limit} took ${elapsed.toFixed(0)} ms to trigger (expected < ${ms})`);
}

test('huge range() is refused before anything is allocated (used to crash V8 or stall at gigabytes)', () => {
  assertLimit('{{ range(300000000)|length }}', 'maxItems');
  assertLimit('{% for i in range(10**9) %}x{% endfor %}', 'maxItems');
  assertLimit('{{ range(0, 10**12, 2)|length }}', 'maxItems');
  // At the cap itself range() still works, negative steps included.
  assert.equal(renderChatTemplate('{{ range(100000)|length }}', {}), '100000');
  assert.equal(renderChatTemplate('{{ range(5, 0, -2)|list }}', {}), '[5, 3, 1]');
});

test('nested loops are charged their total iterations, and stop at the cap', () => {
  // Each loop is below maxItems, the product is far above any cap: this never finished before.
  assertLimit('{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}', 'maxLoopIterations', {
    maxLoopIterations: 8000,
  });
  // Iterating the same list again (no new range) is charged too.
  assertLimit(
    '{% set r = range(100) %}{% for i in r %}{% for j in r %}{{ j }}{% endfor %}{% endfor %}',
    'maxLoopIterations',
    {
      maxLoopIterations: 1000,
    },
  );
  // A loop that fits runs to the end.
  assert.equal(
    renderChatTemplate(
      '{% for i in range(30) %}{% for j in range(30) %}.{% endfor %}{% endfor %}',
      {},
      { limits: { maxLoopIterations: 930 } },
    ).length,
    900,
  );
});

test('strings and lists that double each iteration stop at the size caps', () => {
  const strings =
    "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}";
  assertLimit(strings, 'maxOutputChars');
  const lists =
    '{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}';
  assertLimit(lists, 'maxItems');
  // Wide indent/tojson arguments build one oversized string.
  assertLimit("{{ 'x'|indent(300000000, true) }}", 'maxOutputChars');
  // Many distinct mid-sized strings: each is under the output cap, together they are over the work cap.
  const churn = '{% for i in range(100000) %}{% set s = messages[1].content ~ i %}{% endfor %}';
  assertLimit(churn, 'maxWorkChars', { maxWorkChars: 20_000 });
});

test('a render that runs too long stops at the deadline', () => {
  // Exponential recursion through a macro: small loops, no large values, only time.
  const fib = '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}';
  assertLimit(fib, 'timeoutMs', { timeoutMs: 50 }, 1000);
});

test('the error names the tokenizer the template came from', () => {
  const dir = join(root, 'evil');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      eos_token: '<|endoftext|>',
      chat_template: '{{ range(300000000)|length }}',
    }),
  );
  const tok = loadTokenizer(dir);
  assert.throws(
    () => applyChatTemplate(tok, messages),
    (e: unknown) =>
      e instanceof TemplateLimitError &&
      e.message.includes(`chat template of tokenizer ${tok.name}`) &&
      e.message.includes(dir),
  );
  assert.throws(
    () =>
      applyChatTemplate(tok, messages, {
        template: '{{ range(10**9) }}',
        source: 'sft.yaml chatTemplate',
      }),
    / in sft\.yaml chatTemplate$/,
  );
});

test('escape attempts (__class__, __globals__, constructor, __proto__) reach nothing', () => {
  const probes = [
    '{{ messages.__class__ }}',
    "{{ ''.__class__.__mro__ }}",
    '{{ range.__globals__ }}',
    '{{ namespace.__globals__ }}',
    '{{ messages.constructor }}',
    "{{ ''.constructor }}",
    '{{ messages[0].__proto__ }}',
    '{{ messages[0].content.constructor }}',
    '{{ raise_exception.__code__ }}',
    "{{ messages.__class__.__init__.__globals__['os'] }}",
  ];
  for (const p of probes) assert.equal(renderChatTemplate(p, { messages }), '', p);
  // Calling through them fails with the library's "not a function", never reaches Function or process.
  for (const p of [
    "{{ ''.constructor.constructor('return process')() }}",
    "{{ range.__globals__.__builtins__.eval('1') }}",
  ]) {
    assert.throws(() => renderChatTemplate(p, { messages }), /chat template failed to render: /, p);
  }
  assert.equal(typeof (globalThis as Record<string, unknown>).pwned, 'undefined');
});

test('ordinary templates render byte-identically to the unbounded library', () => {
  const chatml =
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const fixture =
    "{% for m in messages %}{{ '[' + m['role'] + ']' + m['content'] + eos_token }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '[assistant]' }}{% endif %}";
  // Namespaces, loop variables, filters, tojson, slices, reversed iteration, selectattr, macros, tests.
  const features =
    '{% set ns = namespace(last=-1) %}{% for m in messages[::-1] %}{% if m.role == "user" and ns.last < 0 %}' +
    '{% set ns.last = messages|length - loop.index %}{% endif %}{% endfor %}last user: {{ ns.last }}\n' +
    '{% macro turn(m, i) %}{{ i }}/{{ m.role|upper }}: {{ m.content|trim|tojson }}{% endmacro %}' +
    '{% for m in messages if m.role != "system" %}{{ turn(m, loop.index0) }}{{ "," if not loop.last }}{% endfor %}\n' +
    '{{ messages|selectattr("role", "equalto", "user")|map(attribute="content")|join(" | ") }}\n' +
    '{{ messages|length is even }} {{ none is none }} {{ True and not False }} {{ range(3)|list }} {{ tools|tojson(indent=2) }}';
  const vars = {
    messages,
    bos_token: '<s>',
    eos_token: '</s>',
    add_generation_prompt: true,
    tools: [{ name: 'f', parameters: { a: 1 } }],
  };
  for (const template of [TULU_CHAT_TEMPLATE, chatml, fixture, features]) {
    const expected = new Template(template).render(vars);
    assert.equal(renderChatTemplate(template, vars), expected);
    assert.ok(expected.length > 20);
  }
  // The built-in template through the tokenizer, as training and chat use it.
  const tok = dolma2Tokenizer();
  assert.equal(
    applyChatTemplate(tok, messages, { addGenerationPrompt: true }),
    new Template(TULU_CHAT_TEMPLATE).render({
      messages,
      bos_token: tok.bosToken,
      eos_token: tok.eosToken,
      pad_token: tok.padToken,
      add_generation_prompt: true,
    }),
  );
  // strftime_now is the library's own.
  assert.equal(renderChatTemplate("{{ strftime_now('%Y') }}", {}), String(new Date().getFullYear()));
});

test('every chat-template render in src goes through the bounded renderer', () => {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) files.push(path);
    }
  };
  walk('src');
  const importers = files.filter((f) => readFileSync(f, 'utf8').includes("from '@huggingface/jinja'")).sort();
  assert.deepEqual(importers, [join('src', 'tokenizers', 'chat.ts'), join('src', 'tokenizers', 'template-sandbox.ts')]);
  assert.doesNotMatch(readFileSync(join('src', 'tokenizers', 'chat.ts'), 'utf8'), /\.render\(/);
});
