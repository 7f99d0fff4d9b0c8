// Fixed-length instances from token files, deterministic order, mixtures at target proportions, stages, resume.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  apportion,
  DataLoader,
  FslDataset,
  parseDataConfig,
  permutation,
  StageInstances,
  tokenize,
  validationBatches,
  type DataConfig,
} from '../../src/data/index.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-data-ds-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A bare uint32 token file whose token at position i is base + i. */
function rawFile(name: string, count: number, base: number): string {
  const b = Buffer.alloc(count * 4);
  for (let i = 0; i < count; i++) b.writeUInt32LE(base + i, i * 4);
  const f = join(root, name);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, b);
  return f;
}

test('instances are consecutive windows per file; remainders are dropped; windows never span files', () => {
  const a = rawFile('fsl/a.npy', 25, 1000); // 3 windows of 8, 1 token dropped
  const b = rawFile('fsl/b.npy', 16, 5000); // 2 windows
  const c = rawFile('fsl/c.npy', 7, 9000); // none
  const ds = new FslDataset([a, c, b], 8, { dtype: 'uint32' });
  assert.equal(ds.numInstances, 5);
  const expect = (base: number, start: number) => Array.from({ length: 8 }, (_, i) => base + start + i);
  assert.deepEqual([...ds.instance(0)], expect(1000, 0));
  assert.deepEqual([...ds.instance(2)], expect(1000, 16));
  assert.deepEqual([...ds.instance(3)], expect(5000, 0));
  assert.deepEqual([...ds.instance(4)], expect(5000, 8));
  const out = new Uint32Array(20);
  ds.instance(4, out, 10);
  assert.deepEqual([...out.subarray(10, 18)], expect(5000, 8));
  assert.throws(() => ds.instance(5), /outside \[0, 5\)/);
  ds.close();
  // Without a dtype, the metadata JSON must be there.
  assert.throws(() => new FslDataset([a], 8), /no a\.json next to it/);
});

test('reads tokenize output through its metadata', async () => {
  const input = join(root, 'tk.jsonl');
  writeFileSync(
    input,
    Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `${i}`, text: `Sentence ${i} is here.` })).join('\n'),
  );
  const r = await tokenize({ inputs: [input], outDir: join(root, 'tk'), workers: 0 });
  const ds = new FslDataset([join(root, 'tk')], 16);
  assert.equal(ds.numInstances, Math.floor(r.tokens / 16));
  const bytes = readFileSync(r.files[0]);
  const second = Array.from({ length: 16 }, (_, i) => bytes.readUInt32LE((16 + i) * 4));
  assert.deepEqual([...ds.instance(1)], second);
  ds.close();
});

test('permutations are deterministic, complete and seed-dependent', () => {
  const p = permutation(100_000, 6198);
  assert.deepEqual(p, permutation(100_000, 6198));
  assert.notDeepEqual(p, permutation(100_000, 6199));
  const seen = new Uint8Array(100_000);
  for (const x of p) seen[x]++;
  assert.ok(seen.every((c) => c === 1));
  assert.deepEqual([...p.subarray(0, 5)], [...permutation(100_000, 6198).subarray(0, 5)]);
  assert.deepEqual(apportion(10, [0.5, 0.3, 0.2]), [5, 3, 2]);
  assert.deepEqual(apportion(7, [1, 1, 1]), [3, 2, 2]);
});

const L = 4;
const srcA = rawFile('mix/a/part-0.npy', 4 * 1000, 0); // 1000 instances
const srcB = rawFile('mix/b/part-0.npy', 4 * 300, 100_000); // 300
const srcC = rawFile('mix/c/part-0.npy', 4 * 50, 200_000); // 50

function mixConfig(): DataConfig {
  return parseDataConfig({
    sequenceLength: L,
    stages: [
      {
        name: 'pretrain',
        seed: 6198,
        tokens: 800 * L,
        mix: [
          { name: 'a', paths: [srcA], proportion: 0.5 },
          { name: 'b', paths: [srcB], proportion: 0.3 },
          { name: 'c', paths: [srcC], proportion: 0.2 },
        ],
      },
      {
        name: 'anneal',
        seed: 42,
        tokens: 120 * L,
        mix: [
          { name: 'b', paths: [srcB], proportion: 1 },
          { name: 'c', paths: [srcC], proportion: 1 },
        ],
      },
    ],
  });
}

const sourceOf = (token: number) => (token >= 200_000 ? 'c' : token >= 100_000 ? 'b' : 'a');

test('sources are mixed at their proportions, subsampled or repeated, in a deterministic shuffled order', () => {
  const st = new StageInstances(mixConfig().stages[0], L, { dtype: 'uint32' });
  assert.equal(st.length, 800);
  assert.deepEqual(
    st.sources.map((s) => [s.name, s.available, s.selected]),
    [
      ['a', 1000, 400],
      ['b', 300, 240],
      ['c', 50, 160],
    ],
  );
  const order = st.order(0);
  // Counts per source are exact; c (50 instances for 160 slots) repeats every instance 3 or 4 times.
  const counts = new Map<number, number>();
  for (const i of order) counts.set(i, (counts.get(i) ?? 0) + 1);
  const cCounts = [...counts].filter(([i]) => st.sourceOf(i) === 'c').map(([, n]) => n);
  assert.equal(cCounts.length, 50);
  assert.ok(cCounts.every((n) => n === 3 || n === 4));
  assert.ok([...counts].filter(([i]) => st.sourceOf(i) !== 'c').every(([, n]) => n === 1));
  // Shuffled: the first quarter already has each source near its share.
  const head = [...order.subarray(0, 200)].map((i) => st.sourceOf(i));
  for (const [name, p] of [
    ['a', 0.5],
    ['b', 0.3],
    ['c', 0.2],
  ] as const) {
    const share = head.filter((s) => s === name).length / head.length;
    assert.ok(Math.abs(share - p) < 0.1, `${name}: ${share} vs ${p}`);
  }
  // Deterministic; another seed gives another order; later epochs reshuffle the same selection.
  assert.deepEqual(new StageInstances(mixConfig().stages[0], L, { dtype: 'uint32' }).order(0), order);
  const other = { ...mixConfig().stages[0], seed: 1 };
  assert.notDeepEqual(new StageInstances(other, L, { dtype: 'uint32' }).order(0), order);
  assert.notDeepEqual(st.order(1), order);
  assert.deepEqual(
    [...st.order(1)].sort((x, y) => x - y),
    [...order].sort((x, y) => x - y),
  );
  // Tokens read match the source the index claims.
  const ds = st.dataset;
  for (const i of order.subarray(0, 50)) assert.equal(sourceOf(ds.instance(i)[0]), st.sourceOf(i));
  st.close();
});

test('without a budget a stage uses the largest mix that repeats no source', () => {
  const stage = { ...mixConfig().stages[0], tokens: undefined };
  const st = new StageInstances(stage, L, { dtype: 'uint32' });
  // c limits: 50 / 0.2 = 250 instances.
  assert.equal(st.length, 250);
  assert.deepEqual(
    st.sources.map((s) => s.selected),
    [125, 75, 50],
  );
  st.close();
});

test('resuming from a saved position yields exactly the batches of an uninterrupted run, across stages', () => {
  const cfg = mixConfig();
  const full = new DataLoader(cfg, { batchSize: 16, dtype: 'uint32' });
  assert.equal(full.stageBatches(0), 50);
  assert.equal(full.stageBatches(1), 7); // 120 trimmed to 112
  const batches: { tokens: number[]; stage: string }[] = [];
  const states: string[] = [];
  for (let i = 0; i < 57; i++) {
    states.push(JSON.stringify(full.state()));
    const b = full.nextBatch();
    batches.push({ tokens: [...b.tokens], stage: b.stageName });
  }
  assert.ok(full.done);
  assert.throws(() => full.nextBatch(), /data exhausted/);
  assert.equal(batches[49].stage, 'pretrain');
  assert.equal(batches[50].stage, 'anneal');
  assert.ok(batches[50].tokens.every((t) => t >= 100_000));
  full.close();
  for (const at of [0, 13, 49, 50, 55]) {
    const resumed = new DataLoader(mixConfig(), { batchSize: 16, dtype: 'uint32', position: JSON.parse(states[at]) });
    for (let i = at; i < 57; i++) {
      const b = resumed.nextBatch();
      assert.deepEqual([...b.tokens], batches[i].tokens, `resume at ${at}, batch ${i}`);
    }
    resumed.close();
  }
  // A saved position does not resume on different data.
  const changed = mixConfig();
  changed.stages[0].seed = 7;
  assert.throws(
    () => new DataLoader(changed, { batchSize: 16, dtype: 'uint32', position: JSON.parse(states[5]) }),
    /data of stage "pretrain" differs/,
  );
});

test('bad data configs are rejected with field paths', () => {
  const bad = {
    sequenceLength: 1,
    stages: [
      {
        name: 's',
        seed: -1,
        mix: [
          { name: 'a', paths: [], proportion: 0 },
          { name: 'a', paths: ['x'], proportion: 1 },
        ],
      },
    ],
    extra: true,
  };
  assert.throws(
    () => parseDataConfig(bad),
    (e: Error) =>
      e.message.includes('data.sequenceLength:') &&
      e.message.includes('data.stages.0.seed:') &&
      e.message.includes('data.stages.0.mix.0.paths:') &&
      e.message.includes('data.stages.0.mix.0.proportion:') &&
      e.message.includes("Unrecognized key(s) in object: 'extra'"),
  );
  assert.throws(
    () =>
      parseDataConfig({
        sequenceLength: 8,
        stages: [
          {
            name: 's',
            seed: 1,
            mix: [
              { name: 'a', paths: ['x'], proportion: 1 },
              { name: 'a', paths: ['y'], proportion: 1 },
            ],
          },
        ],
      }),
    /data\.stages\.0\.mix\.1\.name: duplicate source name "a"/,
  );
  // Relative paths resolve against the config's folder; stage extras (e.g. the trainer's LR schedule) are kept.
  const ok = parseDataConfig(
    {
      sequenceLength: 8,
      stages: [{ name: 's', seed: 1, lr: { peak: 1e-3 }, mix: [{ name: 'a', paths: ['t/a'], proportion: 1 }] }],
    },
    '/cfg',
  );
  assert.deepEqual(ok.stages[0].mix[0].paths, ['/cfg/t/a']);
  assert.deepEqual((ok.stages[0] as Record<string, unknown>).lr, { peak: 1e-3 });
});

test('validation batches read files in order', () => {
  const batches = [...validationBatches([srcC], L, 16, { dtype: 'uint32' })];
  assert.deepEqual(
    batches.map((b) => b.batchSize),
    [16, 16, 16, 2],
  );
  assert.equal(batches[1].tokens[0], 200_000 + 16 * L);
});
