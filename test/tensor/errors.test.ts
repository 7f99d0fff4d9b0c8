// Bad arguments to ops name the op and the operands' shapes; a missing native addon falls back to the
// TypeScript backend with one clear message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { tensor } from '../../src/tensor/index.ts';
import { olmo } from '../cli/cli-helpers.ts';

const f = (shape: number[]) => T.zeros(shape);

describe('op errors', () => {
  it('name the op and both shapes', () => {
    assert.throws(
      () => T.matmul(f([2, 3]), f([4, 5])),
      /matmul: cannot multiply \[2, 3\] by \[4, 5\]: inner dimensions 3 and 4 differ/,
    );
    assert.throws(() => T.matmul(f([2, 2, 3]), f([3, 3, 4])), /matmul: .*batch dimensions \[2\] and \[3\] differ/);
    assert.throws(() => T.add(f([2, 3]), f([4, 3])), /add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast together/);
    assert.throws(
      () => T.mul(f([2]), tensor([1, 2], [2], 'i32')),
      /mul: expected f32 operands, got f32\[2\] and i32\[2\]/,
    );
    assert.throws(
      () => T.swiglu(f([2, 3]), f([3, 2])),
      /swiglu: gate \[2, 3\] and up \[3, 2\] must have the same shape/,
    );
    assert.throws(
      () => T.rmsNorm(f([2, 4]), f([3]), 1e-6),
      /rmsNorm: weight \[3\] does not match the last axis of \[2, 4\]/,
    );
    assert.throws(
      () => T.residualRmsNorm(f([2, 3]), f([2, 4]), f([4]), 1e-6),
      /residualRmsNorm: residual f32\[2, 3\] does not match x f32\[2, 4\]/,
    );
    assert.throws(
      () => T.residualRmsNorm(f([2, 4]), f([2, 4]), f([3]), 1e-6),
      /residualRmsNorm: weight \[3\] does not match the last axis of \[2, 4\]/,
    );
    assert.throws(
      () => T.attention(f([1, 2, 4, 8]), f([1, 2, 3, 8]), f([1, 2, 3, 8])),
      /attention: .*query heads 4 are not a multiple of KV heads 3/,
    );
    const rows = (slot: number, kvLen: number) => ({
      slots: Int32Array.of(slot),
      starts: Int32Array.of(0, 2),
      kvLens: Int32Array.of(kvLen),
    });
    const cache = f([3, 5, 2, 8]);
    assert.doesNotThrow(() => T.packedAttention(f([1, 2, 4, 8]), cache, cache, rows(2, 5)));
    assert.throws(
      () => T.packedAttention(f([1, 2, 4, 8]), cache, cache, rows(3, 5)),
      /packedAttention: .*slots\[0\] = 3 is not a row of the cache/,
    );
    assert.throws(
      () => T.packedAttention(f([1, 2, 4, 8]), cache, cache, rows(0, 1)),
      /packedAttention: .*kvLens\[0\] = 1 is outside \[2, 5\]/,
    );
    assert.throws(
      () => T.packedAttention(f([1, 3, 4, 8]), cache, cache, rows(0, 4)),
      /packedAttention: .*starts must run from 0 to 3, got 0\.\.2/,
    );
    assert.throws(
      () => T.crossEntropy(f([2, 5]), tensor([1, 2, 3], [3], 'i32')),
      /crossEntropy: targets must be i32 \[2\] for logits \[2, 5\], got i32\[3\]/,
    );
    assert.throws(() => T.reshape(f([2, 3]), [4, 2]), /reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4, 2\]/);
    assert.throws(() => T.slice(f([2, 3]), 1, 2, 5), /slice: range \[2, 5\) is out of bounds for axis 1 of \[2, 3\]/);
    assert.throws(
      () => T.concat([f([2, 3]), f([3, 3])], 1),
      /concat: shapes f32\[2, 3\], f32\[3, 3\] do not match outside axis 1/,
    );
    assert.throws(() => T.embedding(f([4, 2]), tensor([0, 7], [2], 'i32')), /gatherRows.*7/);
    assert.throws(() => T.sum(f([2, 3]), 2), /sum: axis 2 is out of range for a tensor of rank 2/);
  });

  it('a tensor released by its scope cannot be used', () => {
    const leaked = T.tidy(() => {
      const a = T.add(f([2]), 1);
      return { keep: T.add(a, 1), inner: a };
    });
    assert.equal(leaked.keep.toArray().length, 2);
    const escaped: T.Tensor[] = [];
    T.tidy(() => {
      escaped.push(T.add(f([2]), 1));
    });
    assert.throws(() => escaped[0].toArray(), /has no data \(released by its scope/);
  });
});

describe('backend selection', () => {
  it('falls back to the TypeScript backend, once and clearly, when the addon is missing', () => {
    const r = olmo(['info', '--json'], { env: { OLMO_NATIVE_ADDON: '/nonexistent/olmo_native.node' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).backend, 'js');
    const warnings = r.stderr.split('\n').filter((l) => l.includes('pure-TypeScript backend'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0], /native addon not built \(\/nonexistent\/olmo_native\.node is missing/);
    const forced = olmo(['info'], {
      env: { OLMO_NATIVE_ADDON: '/nonexistent/olmo_native.node', OLMO_BACKEND: 'native' },
    });
    assert.notEqual(forced.code, 0);
    assert.match(forced.stderr, /OLMO_BACKEND=native but native addon not built/);
  });
});
