// Every op's backward agrees with finite differences, on every available backend.
import { describe, it } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { tensor } from '../../src/tensor/index.ts';
import { randInts, randn } from '../helpers.ts';
import { gradcheck } from './gradcheck.ts';

const backends: T.BackendName[] = T.nativeAvailable() ? ['js', 'native'] : ['js'];

const r = (shape: number[], seed: number, scale = 1) =>
  tensor(
    randn(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
  );
const ids = (shape: number[], hi: number, seed: number) =>
  tensor(
    randInts(
      shape.reduce((a, b) => a * b, 1),
      0,
      hi,
      seed,
    ),
    shape,
    'i32',
  );
const positive = (shape: number[], seed: number) => {
  const t = r(shape, seed);
  const d = t.f32();
  for (let i = 0; i < d.length; i++) d[i] = 0.5 + Math.abs(d[i]);
  return t;
};

for (const backend of backends) {
  describe(`op gradients (${backend})`, () => {
    const on = (fn: () => void) => () => {
      T.setBackend(backend);
      fn();
    };

    it(
      'add, sub, mul, div with broadcasting',
      on(() => {
        for (const [sa, sb] of [
          [
            [3, 4],
            [3, 4],
          ],
          [[2, 3, 4], [4]],
          [
            [2, 3, 4],
            [3, 1],
          ],
          [[5], []],
          [
            [1, 4],
            [3, 1],
          ],
        ] as number[][][]) {
          gradcheck(`add ${sa} ${sb}`, T.add, [r(sa, 1), r(sb, 2)]);
          gradcheck(`sub ${sa} ${sb}`, T.sub, [r(sa, 3), r(sb, 4)]);
          gradcheck(`mul ${sa} ${sb}`, T.mul, [r(sa, 5), r(sb, 6)]);
          gradcheck(`div ${sa} ${sb}`, T.div, [r(sa, 7), positive(sb, 8)]);
        }
        gradcheck('maximum', T.maximum, [r([4, 5], 9), r([5], 10)]);
        gradcheck('scalar ops', (x) => T.div(T.mul(T.sub(T.add(x, 2), 1), 3), 4), [r([6], 11)]);
      }),
    );

    it(
      'unary functions',
      on(() => {
        // Values kept away from the kinks of abs/relu/clamp (0, −0.5, 0.7), where finite differences straddle them.
        const x = r([3, 7], 12);
        const xd = x.f32();
        for (let i = 0; i < xd.length; i++) {
          for (const kink of [0, -0.5, 0.7])
            if (Math.abs(xd[i] - kink) < 0.05) xd[i] = kink + 0.05 * Math.sign(xd[i] - kink || 1);
        }
        for (const f of [T.neg, T.exp, T.sigmoid, T.silu, T.square, T.tanh, T.abs, T.relu]) gradcheck(f.name, f, [x]);
        for (const f of [T.log, T.sqrt, T.rsqrt]) gradcheck(f.name, f, [positive([3, 7], 13)]);
        gradcheck('pow', (t) => T.pow(t, 3), [x]);
        gradcheck('clamp', (t) => T.clamp(t, -0.5, 0.7), [x]);
        gradcheck('scale', (t) => T.scale(t, -2.5), [x]);
      }),
    );

    it(
      'matmul: plain, batched, transposed, shared operands',
      on(() => {
        gradcheck('matmul 2d', (a, b) => T.matmul(a, b), [r([3, 5], 14), r([5, 4], 15)]);
        gradcheck('matmul batched', (a, b) => T.matmul(a, b), [r([2, 3, 5], 16), r([2, 5, 4], 17)]);
        gradcheck('matmul shared B', (a, b) => T.matmul(a, b), [r([2, 3, 5], 18), r([5, 4], 19)]);
        gradcheck('matmul shared A', (a, b) => T.matmul(a, b), [r([3, 5], 20), r([2, 5, 4], 21)]);
        gradcheck('linear', T.linear, [r([2, 3, 5], 22), r([4, 5], 23)]);
        gradcheck('matmul transB batched', (a, b) => T.matmul(a, b, { transposeB: true }), [
          r([2, 3, 5], 24),
          r([2, 4, 5], 25),
        ]);
      }),
    );

    it(
      'reductions',
      on(() => {
        const x = r([3, 4, 5], 26);
        gradcheck('sum all', (t) => T.sum(t), [x]);
        gradcheck('sum axis', (t) => T.sum(t, 1), [x]);
        gradcheck('sum keepdims', (t) => T.sum(t, -1, true), [x]);
        gradcheck('mean', (t) => T.mean(t, 0), [x]);
        gradcheck('max', (t) => T.max(t, 2).values, [x]);
      }),
    );

    it(
      'shape ops',
      on(() => {
        const x = r([2, 3, 4], 27);
        gradcheck('reshape', (t) => T.mul(T.reshape(t, [4, -1]), T.reshape(t, [4, 6])), [x]);
        gradcheck('transpose', (t) => T.transpose(t, 0, 2), [x]);
        gradcheck('permute', (t) => T.permute(t, [1, 2, 0]), [x]);
        gradcheck('slice', (t) => T.slice(t, 2, 1, 3), [x]);
        gradcheck('concat', (a, b) => T.concat([a, b, a], 1), [x, r([2, 1, 4], 28)]);
        gradcheck('broadcastTo', (t) => T.broadcastTo(t, [2, 3, 4]), [r([3, 1], 29)]);
      }),
    );

    it(
      'indexing: embedding, scatter, gather along axis, top-k',
      on(() => {
        const w = r([7, 4], 30);
        gradcheck('embedding', (t, i) => T.embedding(t, i), [w, ids([2, 5], 7, 31)], { skip: [1] });
        gradcheck('scatterAddRows', (t, i) => T.scatterAddRows(t, i, 4), [r([6, 3], 32), ids([6], 4, 33)], {
          skip: [1],
        });
        gradcheck('takeAlongLastAxis', (t, i) => T.takeAlongLastAxis(t, i), [r([3, 6], 34), ids([3, 2], 6, 35)], {
          skip: [1],
        });
        gradcheck('topk', (t) => T.topk(t, 3).values, [r([4, 9], 36)]);
      }),
    );

    it(
      'norms, rope, swiglu, softmax',
      on(() => {
        const x = r([2, 3, 8], 37);
        gradcheck('rmsNorm weighted', (t, w) => T.rmsNorm(t, w, 1e-6), [x, r([8], 38)]);
        gradcheck('rmsNorm plain', (t) => T.rmsNorm(t, null, 1e-6), [x]);
        gradcheck('residualRmsNorm', (res, t, w) => T.residualRmsNorm(res, t, w, 1e-6), [
          r([2, 3, 8], 44),
          x,
          r([8], 38),
        ]);
        gradcheck('layerNorm', (t) => T.layerNorm(t, 1e-5), [x]);
        gradcheck('rope', (t) => T.rope(t, 3, 10000), [r([2, 3, 2, 8], 39)]);
        gradcheck('swiglu', T.swiglu, [r([3, 5], 40), r([3, 5], 41)]);
        gradcheck('softmax', T.softmax, [r([3, 7], 42)]);
        gradcheck('logSoftmax', T.logSoftmax, [r([3, 7], 43)]);
      }),
    );

    it(
      'attention: causal, grouped KV heads, per-sequence lengths',
      on(() => {
        gradcheck('attention MHA', (q, k, v) => T.attention(q, k, v), [
          r([2, 5, 2, 4], 44),
          r([2, 5, 2, 4], 45),
          r([2, 5, 2, 4], 46),
        ]);
        gradcheck('attention GQA', (q, k, v) => T.attention(q, k, v), [
          r([1, 4, 4, 3], 47),
          r([1, 4, 2, 3], 48),
          r([1, 4, 2, 3], 49),
        ]);
        const kvLens = Int32Array.from([6, 4]);
        gradcheck('attention decode', (q, k, v) => T.attention(q, k, v, { kvLens }), [
          r([2, 2, 2, 4], 50),
          r([2, 6, 1, 4], 51),
          r([2, 6, 1, 4], 52),
        ]);
      }),
    );

    it(
      'cross-entropy with ignore-index and z-loss',
      on(() => {
        const targets = tensor([1, -100, 4, 0, 2, 5], [2, 3], 'i32');
        gradcheck('ce mean', (l) => T.crossEntropy(l, targets).loss, [r([2, 3, 6], 53)]);
        gradcheck('ce sum', (l) => T.crossEntropy(l, targets, { reduction: 'sum' }).loss, [r([2, 3, 6], 54)]);
        gradcheck('ce z-loss', (l) => T.crossEntropy(l, targets, { zLoss: 0.1 }).zLoss!, [r([2, 3, 6], 55)]);
        gradcheck(
          'ce rows + lse',
          (l) => {
            const { loss, lse } = T.crossEntropyRows(l, targets);
            return T.add(loss, T.scale(lse, 0.3));
          },
          [r([2, 3, 6], 56)],
        );
      }),
    );
  });
}
