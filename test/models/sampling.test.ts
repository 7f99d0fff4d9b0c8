// Next-token choice: greedy, temperature sampling in vocabulary order, and top-k / top-p drawn exactly as a
// full sort of the vocabulary would draw them (the fast path sorts only the kept candidates).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Generator } from '../../src/tensor/index.ts';
import { argmax, sampleToken, type SamplingParams } from '../../src/models/index.ts';

/** The straightforward top-k / top-p sampler: sort every id by (logit desc, id asc), cut, renormalise, draw. */
function sortedReference(logits: Float32Array, p: Required<SamplingParams>, gen: Generator): number {
  let order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (p.topK > 0) order = order.slice(0, p.topK);
  let probs = order.map((i) => Math.exp((logits[i] - logits[order[0]]) / p.temperature));
  const total = probs.reduce((s, x) => s + x, 0);
  let cumulative = 0;
  const keep = probs.findIndex((x) => (cumulative += x / total) >= p.topP);
  if (keep >= 0) [order, probs] = [order.slice(0, keep + 1), probs.slice(0, keep + 1)];
  let u = gen.uniform() * probs.reduce((s, x) => s + x, 0);
  for (let j = 0; j < order.length; j++) if ((u -= probs[j]) < 0) return order[j];
  return order[order.length - 1];
}

function randomLogits(gen: Generator, n: number, ties: boolean): Float32Array {
  // Rounded logits give ties, which the order must break by id.
  return Float32Array.from({ length: n }, () => (ties ? Math.round(gen.uniform() * 8) / 2 : gen.uniform() * 6));
}

function frequencies(draw: () => number, n: number, draws: number): number[] {
  const counts = new Array(n).fill(0);
  for (let i = 0; i < draws; i++) counts[draw()]++;
  return counts.map((c) => c / draws);
}

describe('sampleToken', () => {
  it('temperature 0 is the argmax, the first id on ties', () => {
    const logits = Float32Array.from([1, 3, 0, 3]);
    assert.equal(argmax(logits), 1);
    assert.equal(sampleToken(logits, { temperature: 0, topK: 1 }, new Generator(1)), 1);
  });

  it('temperature sampling draws softmax(logits / T) and never an id of zero probability', () => {
    const logits = Float32Array.from([0, 1, 2, -Infinity]);
    const gen = new Generator(7);
    const freq = frequencies(() => sampleToken(logits, { temperature: 2 }, gen), 4, 40000);
    const weights = [0, 0.5, 1].map(Math.exp);
    const total = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, i) => assert.ok(Math.abs(freq[i] - w / total) < 0.01, `id ${i}: ${freq[i]} vs ${w / total}`));
    assert.equal(freq[3], 0);
  });

  it('top-k keeps the k best ids and top-p the smallest nucleus reaching p', () => {
    const gen = new Generator(3);
    const logits = Float32Array.from([Math.log(0.1), Math.log(0.5), Math.log(0.2), Math.log(0.2)]);
    const topK = frequencies(() => sampleToken(logits, { temperature: 1, topK: 2 }, gen), 4, 20000);
    assert.equal(topK[0] + topK[3], 0, 'ids outside the top 2 (ties: the lower id is kept)');
    assert.ok(Math.abs(topK[1] - 0.5 / 0.7) < 0.015, `top-k id 1: ${topK[1]}`);
    const topP = frequencies(() => sampleToken(logits, { temperature: 1, topP: 0.7 }, gen), 4, 20000);
    assert.equal(topP[0] + topP[3], 0, 'the nucleus of p 0.7 is ids 1 and 2');
    assert.ok(Math.abs(topP[2] - 0.2 / 0.7) < 0.015, `top-p id 2: ${topP[2]}`);
  });

  it('top-k / top-p draw the same ids as the full-sort sampler, draw for draw', () => {
    const settings: Required<SamplingParams>[] = [
      { temperature: 1, topK: 5, topP: 1 },
      { temperature: 0.7, topK: 0, topP: 0.9 },
      { temperature: 1.3, topK: 40, topP: 0.5 },
      { temperature: 0.5, topK: 1, topP: 1 },
    ];
    const data = new Generator(11);
    for (const s of settings) {
      for (const ties of [false, true]) {
        const [fast, slow] = [new Generator(5), new Generator(5)];
        for (let i = 0; i < 200; i++) {
          const logits = randomLogits(data, 97, ties);
          assert.equal(
            sampleToken(logits, s, fast),
            sortedReference(logits, s, slow),
            `${JSON.stringify(s)} ties ${ties} draw ${i}`,
          );
        }
      }
    }
  });

  it('the same seed draws the same tokens', () => {
    const logits = randomLogits(new Generator(2), 50, false);
    const draws = (seed: number) => {
      const gen = new Generator(seed);
      return Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 1 }, gen));
    };
    assert.deepEqual(draws(4), draws(4));
    assert.notDeepEqual(draws(4), draws(5));
  });
});
