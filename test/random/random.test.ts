// Pins every stream of the project's generators to the numbers they gave before they moved into src/random:
// synthetic corpora, data orders, initialisation, sampling and fixtures all depend on them, so a change here
// would silently change every report made with the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Generator, hash32, mulberry32, permutation, Rng } from '../../src/random/index.ts';
import * as dataRandom from '../../src/data/random.ts';
import { Generator as TensorGenerator } from '../../src/tensor/index.ts';
import { blocksworldProblem } from '../../src/pddl/blocksworld.ts';

test('sfc32 streams (data layer) give the pinned numbers', () => {
  const r = Rng.from(1234, 'world');
  assert.deepEqual(
    Array.from({ length: 6 }, () => r.nextU32()),
    [2451001047, 2009410841, 3743662425, 2175240351, 3497238246, 126065636],
  );
  assert.deepEqual([r.next(), r.next()], [0.5450228488527461, 0.5770678695838556]);
  assert.deepEqual(
    Array.from({ length: 6 }, () => r.int(1000)),
    [655, 201, 186, 556, 959, 754],
  );
  const big = Rng.from(2 ** 40 + 5);
  assert.deepEqual([big.nextU32(), big.nextU32()], [2784371610, 2892897154]);
  assert.deepEqual(Array.from(permutation(12, 7)), [8, 7, 6, 10, 1, 0, 5, 4, 9, 3, 2, 11]);
  assert.deepEqual([hash32(''), hash32('olmo'), hash32('olmo', 1)], [2872998923, 362734119, 1267300044]);
});

test('xoshiro128** (tensor layer) gives the pinned numbers and state', () => {
  const g = new Generator(42);
  assert.deepEqual(
    Array.from({ length: 6 }, () => g.nextU32()),
    [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290],
  );
  assert.deepEqual([g.normal(), g.uniform(), g.int(100)], [2.117721376234048, 0.1833730151847529, 96]);
  assert.deepEqual(Array.from(g.state), [2064811854, 2273329588, 3560610724, 3824239806]);
  assert.deepEqual(Array.from(new Generator(0).state), [2462723854, 1020716019, 454327756, 1275600319]);
  assert.deepEqual(Array.from(new Generator(2 ** 33 + 7).state), [588686121, 1937383562, 4286812467, 2372217166]);
  const restored = new Generator(g.state);
  assert.equal(restored.nextU32(), g.nextU32());
});

test('mulberry32 (fixtures) gives the pinned numbers; blocksworld problems are unchanged', () => {
  const m = mulberry32(1);
  assert.deepEqual([m(), m(), m()], [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  assert.equal(mulberry32(0xffffffff)(), 0.8964226141106337);
  const digest = createHash('sha256').update(blocksworldProblem(8, 3)).digest('hex');
  assert.equal(digest, '103855a8651a509dbdd5f82db02fe9f41a432b9befc286583b33c4cc9d4c1c8d');
  assert.match(blocksworldProblem(5, 2), /\(:goal \(and \(on b3 b2\) \(on b5 b3\) \(on b1 b4\)\)\)/);
});

test('the data and tensor layers use the same classes as src/random (one implementation each)', () => {
  assert.equal(dataRandom.Rng, Rng);
  assert.equal(dataRandom.permutation, permutation);
  assert.equal(TensorGenerator, Generator);
});

test('bad seeds and bounds are refused with the value', () => {
  assert.throws(() => Rng.from(-1), /seed must be a non-negative safe integer, got -1/);
  assert.throws(() => Rng.from(1.5), /got 1\.5/);
  assert.throws(() => Rng.from(1).int(0), /Rng\.int: bad bound 0/);
  assert.throws(() => permutation(-3, 1), /permutation: bad length -3/);
});
