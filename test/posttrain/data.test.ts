// Post-training data: open-instruct rows parsed with file:line errors, assistant-only labels checked token by token
// on a rendered conversation, over-long conversations dropped (or truncated by open-instruct's rule) and reported,
// and the per-sequence log-prob helper against a brute-force log-softmax.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataRowError,
  IGNORE_INDEX,
  encodeConversations,
  encodeForTraining,
  loadRows,
  padBatch,
  parsePreferenceRow,
  parseSftRow,
  readJsonl,
  sequenceLogProbs,
} from '../../src/posttrain/common/index.ts';
import { loadModel } from '../../src/models/index.ts';
import { loadTokenizer } from '../../src/tokenizers/index.ts';
import { noGrad, tensor } from '../../src/tensor/index.ts';
import { writeTinyChatTokenizer, writeTinyModel } from './posttrain-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-posttrain-data-'));
after(() => rmSync(root, { recursive: true, force: true }));
const tokenizer = loadTokenizer(writeTinyChatTokenizer(join(root, 'tok')));

describe('assistant-only labels', () => {
  it('train exactly the assistant content and its EOS, token by token', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Yo' },
      { role: 'user', content: 'Bye' },
      { role: 'assistant', content: 'Ok' },
    ];
    const r = encodeForTraining(tokenizer, messages, { maxLength: 1000 });
    assert.ok(r.ok);
    const { ids, labels } = r.example;
    // Each token with its text and whether it is trained; the tiny tokenizer is byte-level, so one token per byte
    // (the special <|endoftext|> is one token).
    const rows = ids.map((id, i) => [tokenizer.decode([id]), labels[i] !== IGNORE_INDEX] as const);
    const rendered = rows.map(([t]) => t).join('');
    assert.equal(
      rendered,
      '<|endoftext|><|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\nYo<|endoftext|>\n<|user|>\nBye\n<|assistant|>\nOk<|endoftext|>',
    );
    const trained = rows.filter(([, t]) => t).map(([s]) => s);
    assert.deepEqual(trained, ['Y', 'o', '<|endoftext|>', 'O', 'k', '<|endoftext|>']);
    // Labels are the ids themselves where trained.
    labels.forEach((l, i) => assert.ok(l === IGNORE_INDEX || l === ids[i], `label ${i}`));
    // The BOS, the <|assistant|>\n prompt and the newline after the first assistant EOS are masked.
    const eos1 = rows.findIndex(([s], i) => s === '<|endoftext|>' && i > 0);
    assert.equal(rows[eos1 + 1][0], '\n');
    assert.equal(rows[eos1 + 1][1], false, 'the \\n after a non-final assistant EOS is not trained');
    const yo = rows.findIndex(([s]) => s === 'Y');
    assert.equal(
      rows
        .slice(yo - 14, yo)
        .map(([s]) => s)
        .join(''),
      '<|assistant|>\n',
    );
    assert.ok(
      rows.slice(0, yo).every(([, t]) => !t),
      'nothing before the first assistant content is trained',
    );
  });

  it('shifts labels into next-token targets and pads to the right', () => {
    const a = { ids: [5, 6, 7, 8], labels: [IGNORE_INDEX, IGNORE_INDEX, 7, 8] };
    const b = { ids: [9, 10], labels: [IGNORE_INDEX, 10] };
    const p = padBatch([a, b], 1);
    assert.equal(p.length, 4);
    assert.deepEqual([...p.ids], [5, 6, 7, 8, 9, 10, 1, 1]);
    assert.deepEqual([...p.targets], [-100, 7, 8, -100, 10, -100, -100, -100]);
    assert.deepEqual(p.counts, [2, 1]);
  });

  it('drops (default) or truncates over-long conversations, and reports each with file:line', () => {
    const file = join(root, 'long.jsonl');
    const long = {
      messages: [
        { role: 'user', content: 'x'.repeat(10) },
        { role: 'assistant', content: 'y'.repeat(80) },
      ],
    };
    const short = {
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ],
    };
    const promptOnlyFits = {
      messages: [
        { role: 'user', content: 'x'.repeat(60) },
        { role: 'assistant', content: 'y' },
      ],
    };
    writeFileSync(file, [short, long, promptOnlyFits].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const rows = loadRows(file, parseSftRow).rows;
    const dropped = encodeConversations(rows, (r) => r.messages, tokenizer, { maxLength: 64 }, file);
    assert.equal(dropped.examples.length, 1);
    assert.equal(dropped.report.droppedTooLong, 2);
    assert.match(dropped.report.examples[0], new RegExp(`long\\.jsonl:2: dropped, \\d+ tokens > max length 64`));
    assert.match(dropped.report.examples[1], /long\.jsonl:3: dropped/);
    const truncated = encodeConversations(
      rows,
      (r) => r.messages,
      tokenizer,
      { maxLength: 64, overlong: 'truncate' },
      file,
    );
    // Line 2 keeps some assistant tokens after the cut; line 3 loses them all and is dropped (open-instruct's rule).
    assert.equal(truncated.examples.length, 2);
    assert.equal(truncated.report.truncated, 1);
    assert.equal(truncated.report.droppedNoLabels, 1);
    assert.ok(truncated.examples.every((e) => e.example.ids.length <= 64));
    assert.match(truncated.report.examples.join('\n'), /long\.jsonl:2: truncated from \d+ to 64 tokens/);
    assert.match(truncated.report.examples.join('\n'), /long\.jsonl:3: dropped, no assistant token/);
  });
});

describe('data rows', () => {
  it('reports every bad SFT row with its file and line', () => {
    const file = join(root, 'bad-sft.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({
          messages: [
            { role: 'user', content: 'a' },
            { role: 'assistant', content: 'b' },
          ],
        }),
        '{"messages": [',
        JSON.stringify({ text: 'no messages' }),
        '',
        JSON.stringify({ messages: [{ role: 'robot', content: 'a' }] }),
        JSON.stringify({ messages: [{ role: 'user', content: 'only a user turn' }] }),
        JSON.stringify({
          messages: [
            { role: 'user', content: 3 },
            { role: 'assistant', content: 'b' },
          ],
        }),
      ].join('\n'),
    );
    const r = readJsonl(file, parseSftRow);
    assert.equal(r.rows.length, 1);
    assert.deepEqual(
      r.problems.map((p) => p.line),
      [2, 3, 5, 6, 7],
    );
    assert.throws(
      () => loadRows(file, parseSftRow),
      (e: Error) => {
        assert.ok(e instanceof DataRowError);
        assert.match(e.message, /5 bad data rows/);
        assert.match(e.message, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not valid JSON`));
        assert.match(e.message, /bad-sft\.jsonl:3: no "messages" field/);
        assert.match(
          e.message,
          /bad-sft\.jsonl:5: messages\[0\]\.role: expected "system", "user" or "assistant", got "robot"/,
        );
        assert.match(e.message, /bad-sft\.jsonl:6: messages: no assistant turn/);
        assert.match(e.message, /bad-sft\.jsonl:7: messages\[0\]\.content: expected a string, got 3/);
        return true;
      },
    );
    const warnings: string[] = [];
    assert.equal(loadRows(file, parseSftRow, 'skip', (l) => warnings.push(l)).rows.length, 1);
    assert.match(warnings.join('\n'), /skipping 5 bad rows/);
  });

  it('reads both preference formats and reports bad pairs by line', () => {
    const user = { role: 'user', content: 'q' };
    const file = join(root, 'prefs.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({
          chosen: [user, { role: 'assistant', content: 'good' }],
          rejected: [user, { role: 'assistant', content: 'bad' }],
        }),
        JSON.stringify({ prompt: 'q', chosen: 'good', rejected: 'bad' }),
        JSON.stringify({ chosen: 'good', rejected: 'bad' }),
        JSON.stringify({ chosen: [user, { role: 'assistant', content: 'good' }], rejected: [user] }),
        JSON.stringify({ prompt: 'q', chosen: 'good' }),
      ].join('\n'),
    );
    const r = readJsonl(file, parsePreferenceRow);
    assert.equal(r.rows.length, 2);
    assert.deepEqual(r.rows[0].value.chosen, r.rows[1].value.chosen);
    assert.deepEqual(r.rows[1].value.rejected, [user, { role: 'assistant', content: 'bad' }]);
    assert.deepEqual(
      r.problems.map((p) => `${p.line}: ${p.message}`),
      [
        '3: chosen: a reply string needs a "prompt" field',
        '4: rejected: the last message must be the assistant reply, got role "user"',
        '5: no "rejected" field (preference rows have "chosen" and "rejected" message lists, or a "prompt" with "chosen"/"rejected" strings)',
      ],
    );
  });
});

describe('sequence log-probs', () => {
  it('sum (and mean) the log-probs of the label tokens, as a brute-force log-softmax does', () => {
    const model = loadModel(writeTinyModel(join(root, 'model')));
    const examples = [
      { ids: [0, 40, 41, 42, 43, 0], labels: [-100, -100, -100, 42, 43, 0] },
      { ids: [0, 50, 51], labels: [-100, -100, 51] },
    ];
    const { logps, counts } = noGrad(() => sequenceLogProbs(model, examples));
    const avg = noGrad(() => sequenceLogProbs(model, examples, { average: true }));
    assert.deepEqual(counts, [3, 1]);
    examples.forEach((e, b) => {
      const logits = noGrad(() => model.forward(tensor(Int32Array.from(e.ids), [1, e.ids.length], 'i32')).logits.f32());
      const V = model.config.vocabSize;
      let expected = 0;
      for (let t = 0; t + 1 < e.ids.length; t++) {
        if (e.labels[t + 1] === -100) continue;
        const row = Array.from(logits.subarray(t * V, (t + 1) * V));
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
        expected += row[e.labels[t + 1]] - lse;
      }
      assert.ok(Math.abs(logps.f32()[b] - expected) < 1e-4, `sequence ${b}: ${logps.f32()[b]} vs ${expected}`);
      assert.ok(Math.abs(avg.logps.f32()[b] - expected / counts[b]) < 1e-4);
    });
  });
});
