// Decontamination with self-made data: planted overlaps are found, overlaps at or below the threshold are not, only
// user turns count, per-field averaging (DROP), the dataset-level 2% rule, the filtered copy drops exactly the
// flagged documents, task ids load eval splits, the CLI writes its report, and bad input names file and line.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decontaminate, decontaminationTokens, type EvalText } from '../../../src/eval/decontaminate/index.ts';
import { LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { decontaminateCommand } from '../../../src/cli/decontaminate.ts';
import { writeGenerativeData, gsm8kRow } from '../generative/fixtures.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `olmo-decon-${p}-`));
const words = (prefix: string, k: number) => Array.from({ length: k }, (_, i) => `${prefix}${i}`);
/** A 20-token question. */
const Q = words('alpha', 20).join(' ');
const first = (k: number) => Q.split(' ').slice(0, k).join(' ');

function writeJsonl(path: string, docs: unknown[]): string {
  writeFileSync(path, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  return path;
}

test('tokens are normalised: case, punctuation and Unicode forms do not matter', () => {
  assert.deepEqual(decontaminationTokens('Tom HAS, 3 apples! (ﬁne) café'), [
    'tom',
    'has',
    '3',
    'apples',
    'fine',
    'café',
  ]);
});

test('planted overlaps are flagged; at or below the 50% threshold they are not; only user turns count', async () => {
  const dir = tmp('a');
  const evalTexts: EvalText[] = [
    { set: 'toy', id: 'q0', fields: [Q] },
    ...words('other', 49).map((w, i) => ({ set: 'toy', id: `o${i}`, fields: [`${w} unrelated words here`] })),
  ];
  const docs = [
    { text: `Some preamble. ${Q.toUpperCase().replace(/ /g, ', ')} and then more.` }, // 1: full copy, different case and punctuation → 1.0
    { text: `noise ${first(9)} noise` }, // 2: 9/20 = 0.45
    { text: `noise ${first(10)} noise` }, // 3: 10/20 = 0.5, not > 0.5
    { text: `noise ${first(11)} noise` }, // 4: 11/20 = 0.55 → flagged
    {
      messages: [
        { role: 'user', content: 'solve this' },
        { role: 'assistant', content: Q },
      ],
    }, // 5: assistant only
    {
      messages: [
        { role: 'user', content: first(10) },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: Q.split(' ').slice(10).join(' ') },
      ],
    }, // 6: two turns of 0.5 each
    {
      messages: [
        { role: 'system', content: 'be nice' },
        { role: 'user', content: `${first(10)} zzz ${Q.split(' ').slice(10).join(' ')}` },
      ],
    }, // 7: one turn covering all
    { text: 'completely different text with no overlap at all' }, // 8
  ];
  const train = writeJsonl(join(dir, 'train.jsonl'), docs);
  const out = join(dir, 'filtered.jsonl');
  const r = await decontaminate({ trainFiles: [train], evalTexts, out });
  assert.deepEqual(
    r.flaggedDocuments.map((d) => d.line),
    [1, 4, 7],
  );
  assert.equal(r.flaggedItems.length, 1);
  const it = r.flaggedItems[0];
  assert.equal(it.id, 'q0');
  assert.equal(it.score, 1);
  assert.deepEqual(it.best, { file: train, line: 1, unit: 0, score: 1 });
  assert.deepEqual(
    it.matches.map((m) => [m.line, m.unit, m.score]),
    [
      [1, 0, 1],
      [4, 0, 0.55],
      [7, 0, 1],
    ],
  );
  assert.deepEqual(r.evalSets, [{ set: 'toy', instances: 50, flagged: 1, fraction: 0.02 }]);
  // 1/50 = 2% is not more than 2%: the file is not contaminated as a dataset
  assert.equal(r.trainFiles[0].perEvalSet.toy.contaminated, false);
  assert.equal(r.trainFiles[0].documents, 8);
  assert.equal(r.trainFiles[0].units, 1 + 1 + 1 + 1 + 1 + 2 + 1 + 1);
  // the filtered copy holds exactly the unflagged lines, byte for byte, in order
  const src = readFileSync(train, 'utf8')
    .split('\n')
    .filter((l) => l);
  assert.equal(readFileSync(out, 'utf8'), [2, 3, 5, 6, 8].map((l) => src[l - 1] + '\n').join(''));
  assert.deepEqual(r.filtered, { path: out, kept: 5, dropped: 3 });
  assert.deepEqual(readdirSync(dir).sort(), ['filtered.jsonl', 'train.jsonl']); // no temporary file left
});

test('multi-field items average per field (DROP passage + question); the 2% rule marks a contaminated file', async () => {
  const passage = words('pass', 20).join(' ');
  const question = words('ques', 10).join(' ');
  const items: EvalText[] = [
    { set: 'drop', id: 'd0', fields: [passage, question] },
    { set: 'drop', id: 'd1', fields: ['x y z', 'short'] },
  ];
  const dir = tmp('b');
  const a = writeJsonl(join(dir, 'a.jsonl'), [{ text: question }]); // (0 + 1) / 2 = 0.5 → not flagged
  const b = writeJsonl(join(dir, 'b.jsonl'), [{ text: `${question} . ${passage.split(' ').slice(0, 12).join(' ')}` }]); // (12/20 + 1) / 2 = 0.8
  const r = await decontaminate({ trainFiles: [a, b], evalTexts: items });
  assert.deepEqual(
    r.flaggedItems.map((f) => [f.id, f.score, f.best.file]),
    [['d0', 0.8, b]],
  );
  assert.deepEqual(
    r.trainFiles.map((f) => [f.flaggedDocuments, f.perEvalSet.drop.fraction, f.contaminated]),
    [
      [0, 0, false],
      [1, 0.5, true],
    ],
  );
  // n is configurable: with 4-grams the short overlap counts too
  const r4 = await decontaminate({ trainFiles: [a], evalTexts: items, n: 4, threshold: 0.4 });
  assert.deepEqual(
    r4.flaggedItems.map((f) => f.id),
    ['d0'],
  );
});

test('task ids load the full eval split with the task fields; the CLI writes the report and the filtered copy', async () => {
  const data = tmp('data');
  writeGenerativeData(data, 30);
  const dir = tmp('c');
  const train = writeJsonl(join(dir, 'sft.jsonl'), [
    {
      messages: [
        { role: 'user', content: `Please solve: ${gsm8kRow(7).question}` },
        { role: 'assistant', content: '19' },
      ],
    },
    { messages: [{ role: 'user', content: 'Tom has many apples. How many apples?' }] },
    { text: 'Passage: Team 3 scored 13 points in the first half. How many points did team 3 score?' },
  ]);
  const r = await decontaminate({
    trainFiles: [train],
    tasks: ['gsm8k::olmes', 'drop::olmes'],
    source: new LocalHfFolderSource(data),
  });
  // DROP doc q-3: the passage (9 tokens) is fully covered but its 7-token question has no 8-gram at all, so the
  // item scores (1 + 0) / 2 = 0.5, which is not above the threshold (as in open-instruct)
  assert.deepEqual(
    r.evalSets.map((s) => [s.set, s.instances, s.flagged]),
    [
      ['gsm8k', 30, 1],
      ['drop', 30, 0],
    ],
  );
  assert.deepEqual(
    r.flaggedItems.map((f) => [f.set, f.id, f.best.line]),
    [['gsm8k', 7, 1]],
  );
  assert.ok(r.trainFiles[0].perEvalSet.gsm8k.contaminated); // 1/30 > 2%

  const out = join(dir, 'clean.jsonl');
  const rep = join(dir, 'report.json');
  const log: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => (log.push(s), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await decontaminateCommand.run([
      '--train',
      train,
      '--tasks',
      'gsm8k::olmes,drop::olmes',
      '--data-dir',
      data,
      '--out',
      out,
      '--report',
      rep,
    ]);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(code, 0);
  assert.ok(log.join('').includes('gsm8k: 1/30 items overlap training prompts (3.33%)'), log.join(''));
  assert.deepEqual(
    readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l).messages?.[0].content ?? JSON.parse(l).text.slice(0, 14)),
    ['Tom has many apples. How many apples?', 'Passage: Team '],
  );
  const saved = JSON.parse(readFileSync(rep, 'utf8'));
  assert.equal(saved.n, 8);
  assert.equal(saved.threshold, 0.5);
  assert.deepEqual(saved.flaggedDocuments, [{ file: train, line: 1, items: [{ set: 'gsm8k', id: 7, score: 1 }] }]);
  await assert.rejects(decontaminateCommand.run(['--train', train]), /--tasks IDS is required/);
  await assert.rejects(
    decontaminateCommand.run(['--train', train, '--tasks', 'gsm8k::olmes', '--threshold', '2']),
    /--threshold must be a number/,
  );
});

test('bad training data names the file and line; nothing is left half-written', async () => {
  const dir = tmp('d');
  const evalTexts: EvalText[] = [{ set: 'toy', id: 0, fields: [Q] }];
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, `${JSON.stringify({ text: 'fine' })}\n{not json\n`);
  const out = join(dir, 'out.jsonl');
  await assert.rejects(
    decontaminate({ trainFiles: [bad], evalTexts, out }),
    new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: malformed JSON`),
  );
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir), ['bad.jsonl']);
  writeFileSync(bad, `${JSON.stringify({ prompt: 'x' })}\n`);
  await assert.rejects(
    decontaminate({ trainFiles: [bad], evalTexts }),
    /bad\.jsonl:1: expected a "text" string or an open-instruct "messages" list, found fields prompt/,
  );
  await assert.rejects(
    decontaminate({ trainFiles: [join(dir, 'missing.jsonl')], evalTexts }),
    /training file .*missing\.jsonl does not exist/,
  );
});
