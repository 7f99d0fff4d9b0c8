import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PyRandom, bitLength } from '../../src/pycompat/pyrandom.ts';
import { selectInstances } from '../../src/eval/selection.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/python-random/sample.json', import.meta.url), 'utf8')) as {
  cases: { seed: number; n: number; k: number; sample: number[] }[];
  random_floats_seed_1234: number[];
  shuffle_seed_1234_range_20: number[];
};

test('random.Random(seed).sample(range(n), k) matches CPython for every fixture case (both branches)', () => {
  assert.ok(fixture.cases.length >= 9);
  for (const c of fixture.cases) {
    const pop = Array.from({ length: c.n }, (_, i) => i);
    assert.deepEqual(new PyRandom(c.seed).sample(pop, c.k), c.sample, `seed ${c.seed} n ${c.n} k ${c.k}`);
  }
});

test('random() floats and shuffle match CPython for seed 1234', () => {
  const r = new PyRandom(1234);
  assert.deepEqual(
    fixture.random_floats_seed_1234.map(() => r.random()),
    fixture.random_floats_seed_1234,
  );
  const x = Array.from({ length: 20 }, (_, i) => i);
  assert.deepEqual(new PyRandom(1234).shuffle(x), fixture.shuffle_seed_1234_range_20);
});

test('multi-word seeds, negative seeds and getrandbits above 32 bits (values from CPython 3.11)', () => {
  const r = new PyRandom(2n ** 70n + 5n);
  assert.equal(r.getrandbits(80), 574088314725654704696491n);
  assert.equal(r.random(), 0.6256962744028001);
  assert.equal(new PyRandom(-7).random(), 0.32383276483316237);
});

test('sample errors and small cases', () => {
  assert.throws(() => new PyRandom(1).sample([1, 2], 3), /larger than population/);
  assert.deepEqual(new PyRandom(1).sample([], 0), []);
  assert.equal(bitLength(0), 0);
  assert.equal(bitLength(1), 1);
  assert.equal(bitLength(2 ** 40), 41);
});

test('OLMES selection: over the limit → Random(1234).sample in sample order; at or under → all, in order', () => {
  const c = fixture.cases.find((x) => x.n === 1838)!; // PIQA validation size
  const docs = Array.from({ length: 1838 }, (_, i) => ({ i }));
  assert.deepEqual(
    selectInstances(docs, 1000).map((d) => d.i),
    c.sample,
  );
  const small = Array.from({ length: 1000 }, (_, i) => i);
  assert.deepEqual(selectInstances(small, 1000), small);
  assert.deepEqual(selectInstances(small, null), small);
  assert.equal(selectInstances(small, 0.25).length, 250);
});
