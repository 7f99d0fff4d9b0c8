// Loading datasets from a local folder in the Hugging Face layout (Parquet, JSONL, JSON) and from the hub cache
// layout; clear errors for missing files and malformed rows.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataFileError } from '../../src/eval/data/readers.ts';
import { DatasetNotFoundError, HfCacheSource, LocalHfFolderSource, ChainSource } from '../../src/eval/data/source.ts';
import { RowError } from '../../src/eval/data/fields.ts';
import { makeTask } from '../../src/eval/registry.ts';
import { arcRow, boolqRow, writeRowsFile, writeSplit } from './fixtures.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'olmo-eval-data-'));

test('Parquet with nested struct columns and INT64 round-trips to plain rows', async () => {
  const root = tmp();
  const rows = [arcRow(0), arcRow(1)];
  writeSplit(root, 'allenai/ai2_arc', 'ARC-Easy', 'test', rows, 'parquet');
  writeSplit(root, 'aps/super_glue', 'boolq', 'validation', [boolqRow(3), boolqRow(4)], 'parquet');
  const src = new LocalHfFolderSource(root);
  const got = await src.load({ path: 'allenai/ai2_arc', name: 'ARC-Easy', split: 'test' });
  assert.deepEqual(got.rows, rows);
  assert.match(got.files[0], /ARC-Easy\/test-00000-of-00001\.parquet$/);
  const bq = await src.load({ path: 'aps/super_glue', name: 'boolq', split: 'validation' });
  assert.deepEqual(bq.rows, [boolqRow(3), boolqRow(4)]);
  assert.equal(typeof bq.rows[0].idx, 'number');
});

test('sharded files are read in name order; JSONL and JSON; data/ folder for single-config datasets', async () => {
  const root = tmp();
  const dir = join(root, 'tau/commonsense_qa/data');
  writeRowsFile(join(dir, 'validation-00001-of-00002.jsonl'), [{ n: 2 }], 'jsonl');
  writeRowsFile(join(dir, 'validation-00000-of-00002.jsonl'), [{ n: 0 }, { n: 1 }], 'jsonl');
  writeRowsFile(join(dir, 'train.json'), [{ n: 9 }], 'json');
  const src = new LocalHfFolderSource(root);
  assert.deepEqual((await src.load({ path: 'tau/commonsense_qa', split: 'validation' })).rows, [
    { n: 0 },
    { n: 1 },
    { n: 2 },
  ]);
  assert.deepEqual((await src.load({ path: 'tau/commonsense_qa', split: 'train' })).rows, [{ n: 9 }]);
  // refs/convert/parquet layout: <config>/<split>/0000.parquet
  writeRowsFile(join(root, 'allenai/openbookqa/main/test/0000.parquet'), [{ id: 'x', v: 'y' }], 'parquet');
  assert.deepEqual((await src.load({ path: 'allenai/openbookqa', name: 'main', split: 'test' })).rows, [
    { id: 'x', v: 'y' },
  ]);
});

test('hub cache layout (datasets--owner--name/snapshots/<commit>) without network', async () => {
  const cache = tmp();
  const repo = join(cache, 'datasets--allenai--ai2_arc');
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), 'abc123\n');
  writeRowsFile(join(repo, 'snapshots/abc123/ARC-Challenge/test-00000-of-00001.parquet'), [arcRow(5)], 'parquet');
  const src = new ChainSource([new LocalHfFolderSource(tmp()), new HfCacheSource(cache)]);
  assert.deepEqual((await src.load({ path: 'allenai/ai2_arc', name: 'ARC-Challenge', split: 'test' })).rows, [
    arcRow(5),
  ]);
});

test('a missing dataset folder or split file names the dataset, split and paths searched', async () => {
  const root = tmp();
  const src = new LocalHfFolderSource(root);
  await assert.rejects(
    src.load({ path: 'allenai/hellaswag', split: 'validation' }),
    (e: unknown) =>
      e instanceof DatasetNotFoundError &&
      e.message.includes('allenai/hellaswag split validation') &&
      e.message.includes(join(root, 'allenai/hellaswag')) &&
      /huggingface-cli download/.test(e.message),
  );
  writeSplit(root, 'allenai/ai2_arc', 'ARC-Easy', 'train', [arcRow(0)], 'jsonl');
  await assert.rejects(
    src.load({ path: 'allenai/ai2_arc', name: 'ARC-Easy', split: 'test' }),
    (e: unknown) =>
      e instanceof DatasetNotFoundError &&
      e.message.includes('(config ARC-Easy) split test') &&
      e.message.includes('ARC-Easy/test{-*,}.{parquet,jsonl,json}'),
  );
});

test('a malformed JSONL line names the file and line', async () => {
  const root = tmp();
  const file = join(root, 'allenai/winogrande/winogrande_xl/validation.jsonl');
  mkdirSync(join(root, 'allenai/winogrande/winogrande_xl'), { recursive: true });
  writeFileSync(file, '{"sentence": "a _ b", "option1": "x", "option2": "y", "answer": "1"}\n{"sentence": oops}\n');
  await assert.rejects(
    new LocalHfFolderSource(root).load({ path: 'allenai/winogrande', name: 'winogrande_xl', split: 'validation' }),
    (e: unknown) => e instanceof DataFileError && e.message.startsWith(`${file}:2: malformed JSON line`),
  );
});

test('malformed rows name dataset, split, row and field with the expected and actual value', async () => {
  const root = tmp();
  const bad = { ...arcRow(1), answerKey: 'Z' };
  writeSplit(root, 'allenai/ai2_arc', 'ARC-Easy', 'test', [arcRow(0), bad], 'jsonl');
  const task = makeTask('arc_easy', 'rc', 'olmes');
  await assert.rejects(
    task.loadEvalDocs(new LocalHfFolderSource(root)),
    (e: unknown) =>
      e instanceof RowError &&
      e.message === 'allenai/ai2_arc (config ARC-Easy) split test row 1: field "answerKey" must be A–E or 1–5, got "Z"',
  );
  const mc = makeTask('winogrande', 'rc', 'olmes');
  assert.throws(
    () => mc.def.processDoc({ sentence: 'no blank', option1: 'a', option2: 'b', answer: '1' }, 4, 'wg row 4'),
    /wg row 4: field "sentence" has no "_" blank/,
  );
  assert.throws(
    () => mc.def.processDoc({ sentence: 'a _', option1: 'a', option2: 'b', answer: '3' }, 4, 'wg row 4'),
    /answer - 1 2 is out of range for 2 choices/,
  );
  const pq = makeTask('piqa', 'mc', 'olmes');
  assert.throws(
    () => pq.def.processDoc({ goal: 'g', sol1: 'a', label: 0 }, 0, 'piqa row 0'),
    /piqa row 0: field "sol2" must be a string, got nothing \(field missing\)/,
  );
  const mm = makeTask('mmlu_anatomy', 'rc', 'olmes');
  assert.throws(
    () => mm.def.processDoc({ question: 'q', choices: 'abcd', answer: 1 }, 0, 'mmlu row 0'),
    /field "choices" must be a list of strings, got the string "abcd"/,
  );
});

test('PIQA validation of 1,838 rows → the 1,000 docs of random.Random(1234).sample, in sample order', async () => {
  const { readFileSync } = await import('node:fs');
  const { piqaRow } = await import('./fixtures.ts');
  const fx = JSON.parse(readFileSync(new URL('../fixtures/python-random/sample.json', import.meta.url), 'utf8')) as {
    cases: { n: number; seed: number; sample: number[] }[];
  };
  const expected = fx.cases.find((c) => c.n === 1838 && c.seed === 1234)!.sample;
  const root = tmp();
  writeSplit(
    root,
    'ybisk/piqa',
    undefined,
    'validation',
    Array.from({ length: 1838 }, (_, i) => piqaRow(i)),
    'jsonl',
  );
  const { docs, total } = await makeTask('piqa', 'rc', 'olmes').loadEvalDocs(new LocalHfFolderSource(root));
  assert.equal(total, 1838);
  assert.deepEqual(
    docs.map((d) => d.index),
    expected,
  );
  assert.equal(docs[0].query, `Goal: How to open jar ${expected[0]}?\nAnswer:`);
  const full = await makeTask('piqa', 'rc', 'olmes:full').loadEvalDocs(new LocalHfFolderSource(root));
  assert.equal(full.docs.length, 1838);
});
