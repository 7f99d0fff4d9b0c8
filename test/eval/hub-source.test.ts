// Datasets from a fake hub on 127.0.0.1 through HubDatasetSource: only the requested split's files are downloaded,
// into the standard cache, and read back through HfCacheSource; a second run makes no request; script datasets
// fall back to refs/convert/parquet; HF_HUB_OFFLINE=1 makes no request and says so; `olmo eval`'s chain ends with it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dataSource } from '../../src/cli/eval.ts';
import { HubDatasetSource, pickSplitFiles } from '../../src/eval/data/hub-source.ts';
import { ChainSource, DatasetNotFoundError, HfCacheSource } from '../../src/eval/data/source.ts';
import { makeTask } from '../../src/eval/registry.ts';
import type { Row } from '../../src/eval/types.ts';
import { FakeHub, commit } from '../io/hub-fake.ts';
import { arcRow, csqaRow, writeRowsFile } from './fixtures.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'olmo-hub-source-'));
function bytes(rows: Row[], kind: 'parquet' | 'jsonl'): Buffer {
  const f = join(tmp(), `x.${kind}`);
  writeRowsFile(f, rows, kind);
  return readFileSync(f);
}

const ARC = commit('ai2_arc');
const CSQA = commit('csqa');
const PIQA = commit('piqa');
const PIQA_PARQUET = commit('piqa-parquet');
const arcEasyTest = [arcRow(0), arcRow(1), arcRow(2)];
const arcChallengeTest = [arcRow(10), arcRow(11)];
const csqaValidation = [csqaRow(0), csqaRow(1)];
const piqaRows = [{ goal: 'open a jar', sol1: 'twist the lid', sol2: 'hit it', label: 0 }];
const hub = new FakeHub([
  {
    type: 'dataset',
    id: 'allenai/ai2_arc',
    refs: { main: ARC },
    commits: {
      [ARC]: {
        'README.md': { content: '# ai2_arc\n' },
        'ARC-Easy/train-00000-of-00001.parquet': { content: bytes([arcRow(5)], 'parquet'), lfs: true },
        'ARC-Easy/test-00000-of-00001.parquet': { content: bytes(arcEasyTest, 'parquet'), lfs: true },
        'ARC-Challenge/test-00000-of-00001.parquet': { content: bytes(arcChallengeTest, 'parquet'), lfs: true },
      },
    },
  },
  {
    // a single-config dataset as JSONL in data/ (and a parquet of another split, which must not be fetched)
    type: 'dataset',
    id: 'tau/commonsense_qa',
    refs: { main: CSQA },
    commits: {
      [CSQA]: {
        'data/validation.jsonl': { content: bytes(csqaValidation, 'jsonl') },
        'data/train-00000-of-00001.parquet': { content: bytes([csqaRow(9)], 'parquet'), lfs: true },
      },
    },
  },
  {
    // a script dataset: no data files on main, the hub's Parquet conversion on refs/convert/parquet
    type: 'dataset',
    id: 'ybisk/piqa',
    refs: { main: PIQA, 'refs/convert/parquet': PIQA_PARQUET },
    commits: {
      [PIQA]: { 'piqa.py': { content: 'import datasets\n' }, 'README.md': { content: '# piqa\n' } },
      [PIQA_PARQUET]: { 'default/validation/0000.parquet': { content: bytes(piqaRows, 'parquet'), lfs: true } },
    },
  },
]);
let endpoint = '';
before(async () => {
  endpoint = await hub.start();
});
after(() => hub.close());

const hubSource = (cacheDir: string, extra: ConstructorParameters<typeof HubDatasetSource>[0] = {}) =>
  new HubDatasetSource({ endpoint, cacheDir, env: {}, backoffMs: 1, ...extra });

test('a missing split is downloaded (that split only) into the standard cache and read through it', async () => {
  const cache = tmp();
  const lines: string[] = [];
  const chain = new ChainSource([new HfCacheSource(cache), hubSource(cache, { log: (l) => lines.push(l) })]);
  const start = hub.requests.length;
  const got = await chain.load({ path: 'allenai/ai2_arc', name: 'ARC-Easy', split: 'test' });
  assert.deepEqual(got.rows, arcEasyTest);
  assert.deepEqual(got.files, [
    join(cache, 'datasets--allenai--ai2_arc', 'snapshots', ARC, 'ARC-Easy', 'test-00000-of-00001.parquet'),
  ]);
  assert.equal(readFileSync(join(cache, 'datasets--allenai--ai2_arc', 'refs', 'main'), 'utf8'), ARC);
  const made = hub.requests.slice(start).map((r) => r.path);
  assert.equal(made.filter((p) => p.startsWith('/api/')).length, 1);
  assert.deepEqual(
    made.filter((p) => p.includes('/resolve/')),
    [`/datasets/allenai/ai2_arc/resolve/${ARC}/ARC-Easy/test-00000-of-00001.parquet`],
  );
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^downloading allenai\/ai2_arc \(config ARC-Easy\) split test from http:\/\/127\.0\.0\.1:\d+ \(allenai\/ai2_arc@main: ARC-Easy\/test-00000-of-00001\.parquet\)/,
  );

  // another config of the same repository: the file list is not asked for again
  const n = hub.count('/api/');
  assert.deepEqual(
    (await chain.load({ path: 'allenai/ai2_arc', name: 'ARC-Challenge', split: 'test' })).rows,
    arcChallengeTest,
  );
  assert.equal(hub.count('/api/'), n);

  // a new run (fresh sources, same cache) makes no request at all, online or offline
  const before = hub.requests.length;
  const again = new ChainSource([new HfCacheSource(cache), hubSource(cache)]);
  assert.deepEqual((await again.load({ path: 'allenai/ai2_arc', name: 'ARC-Easy', split: 'test' })).rows, arcEasyTest);
  assert.deepEqual(
    (
      await hubSource(cache, { env: { HF_HUB_OFFLINE: '1' } }).load({
        path: 'allenai/ai2_arc',
        name: 'ARC-Challenge',
        split: 'test',
      })
    ).rows,
    arcChallengeTest,
  );
  assert.equal(hub.requests.length, before);

  // a task reads its docs through the hub source like any other
  const { docs, total } = await makeTask('arc_easy', 'rc', 'olmes').loadEvalDocs(
    new ChainSource([new HfCacheSource(tmp()), hubSource(tmp())]),
  );
  assert.equal(total, 3);
  assert.deepEqual(
    docs.map((d) => d.native_id),
    ['Synth_0', 'Synth_1', 'Synth_2'],
  );
});

test('a single-config JSONL dataset: data/<split>.jsonl, other splits untouched', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  const got = await hubSource(cache).load({ path: 'tau/commonsense_qa', split: 'validation' });
  assert.deepEqual(got.rows, csqaValidation);
  assert.match(got.files[0], /datasets--tau--commonsense_qa\/snapshots\/[0-9a-f]{40}\/data\/validation\.jsonl$/);
  assert.ok(hub.requests.slice(start).every((r) => !r.path.includes('train')));
});

test('a script dataset falls back to the Parquet conversion (refs/convert/parquet), cached under its own ref', async () => {
  const cache = tmp();
  const got = await hubSource(cache).load({ path: 'ybisk/piqa', split: 'validation' });
  assert.deepEqual(got.rows, piqaRows);
  assert.equal(
    readFileSync(join(cache, 'datasets--ybisk--piqa', 'refs', 'refs', 'convert', 'parquet'), 'utf8'),
    PIQA_PARQUET,
  );
  assert.ok(got.files[0].endsWith(join('snapshots', PIQA_PARQUET, 'default', 'validation', '0000.parquet')));
  const n = hub.requests.length;
  assert.deepEqual((await hubSource(cache).load({ path: 'ybisk/piqa', split: 'validation' })).rows, piqaRows);
  assert.equal(hub.requests.length, n, 'found in the cache without a request');
  // a split neither revision has: the error lists what was looked for on both
  await assert.rejects(
    hubSource(cache).load({ path: 'ybisk/piqa', split: 'test' }),
    (e: Error) =>
      e instanceof DatasetNotFoundError &&
      e.message.startsWith(
        'dataset ybisk/piqa split test: the hub repository ybisk/piqa has no data file for it: main (commit',
      ) &&
      e.message.includes('refs/convert/parquet (commit') &&
      e.message.includes('default/test/*.{parquet,jsonl,json}'),
  );
});

test('HF_HUB_OFFLINE=1: no request, and the chain error says offline mode is on', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  const chain = new ChainSource([new HfCacheSource(cache), hubSource(cache, { env: { HF_HUB_OFFLINE: '1' } })]);
  await assert.rejects(chain.load({ path: 'allenai/ai2_arc', name: 'ARC-Easy', split: 'test' }), (e: Error) => {
    assert.ok(e instanceof DatasetNotFoundError);
    assert.match(e.message, /not in the hub cache/); // the cache source's reason comes first
    assert.match(
      e.message,
      /dataset allenai\/ai2_arc \(config ARC-Easy\) split test: not downloaded from the Hugging Face hub because offline mode is on \(HF_HUB_OFFLINE=1\)/,
    );
    return true;
  });
  assert.equal(hub.requests.length, start);
  assert.match(
    hubSource(cache, { env: { HF_HUB_OFFLINE: '1' } }).describe(),
    /not used: offline mode is on, HF_HUB_OFFLINE/,
  );
});

test('hub errors become DatasetNotFoundError naming the dataset; bare local names never reach the hub', async () => {
  const cache = tmp();
  await assert.rejects(
    hubSource(cache).load({ path: 'nobody/nothing', split: 'test' }),
    (e: Error) =>
      e instanceof DatasetNotFoundError &&
      e.message.startsWith(
        'dataset nobody/nothing split test: repository or file not found: dataset nobody/nothing at revision main',
      ),
  );
  hub.addFault('/api/datasets/allenai/ai2_arc', { status: 500 }, { status: 500 });
  await assert.rejects(
    hubSource(cache, { retries: 1 }).load({ path: 'allenai/ai2_arc', name: 'ARC-Easy', split: 'test' }),
    (e: Error) => e instanceof DatasetNotFoundError && /failed after 2 attempts: .*answered 500/.test(e.message),
  );
  const n = hub.requests.length;
  await assert.rejects(
    hubSource(cache).load({ path: 'synth_world', split: 'test' }),
    /"synth_world" is not a hub dataset id/,
  );
  assert.equal(hub.requests.length, n);
});

test('pickSplitFiles picks what findSplitFiles would pick on disk', () => {
  const f = (...paths: string[]) => paths.map((path) => ({ path }));
  const pick = (files: { path: string }[], name: string | undefined, split: string) =>
    pickSplitFiles(files, name, split).files.map((x) => x.path);
  assert.deepEqual(
    pick(
      f(
        'README.md',
        'main/test-00000-of-00002.parquet',
        'main/test-00001-of-00002.parquet',
        'main/test.jsonl',
        'main/train-0.parquet',
      ),
      'main',
      'test',
    ),
    ['main/test-00000-of-00002.parquet', 'main/test-00001-of-00002.parquet'],
  );
  assert.deepEqual(pick(f('validation.jsonl', 'train.jsonl'), undefined, 'validation'), ['validation.jsonl']);
  assert.deepEqual(pick(f('data/validation-00000-of-00001-8f3.parquet', 'validation.jsonl'), undefined, 'validation'), [
    'data/validation-00000-of-00001-8f3.parquet',
  ]);
  assert.deepEqual(
    pick(f('abstract_algebra/test-00000-of-00001.parquet', 'anatomy/test-00000-of-00001.parquet'), 'anatomy', 'test'),
    ['anatomy/test-00000-of-00001.parquet'],
  );
  assert.deepEqual(pick(f('piqa.py'), undefined, 'validation'), []);
});

test('olmo eval reads datasets from --data-dir, then the cache, then the hub', () => {
  const saved = process.env.HF_HUB_OFFLINE;
  const savedDatasets = process.env.HF_DATASETS_OFFLINE;
  try {
    // The test runner sets both offline variables; this checks what an online user gets (no request is made).
    delete process.env.HF_HUB_OFFLINE;
    delete process.env.HF_DATASETS_OFFLINE;
    assert.match(
      dataSource(undefined).describe(),
      /^Hugging Face cache .*, then Hugging Face hub \S+ \(downloads into /,
    );
    process.env.HF_HUB_OFFLINE = '1';
    assert.match(
      dataSource(tmp()).describe(),
      /^local folder .*, then Hugging Face cache .*, then Hugging Face hub \(not used: offline mode is on, HF_HUB_OFFLINE\)$/,
    );
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
    else process.env.HF_HUB_OFFLINE = saved;
    if (savedDatasets === undefined) delete process.env.HF_DATASETS_OFFLINE;
    else process.env.HF_DATASETS_OFFLINE = savedDatasets;
  }
});
