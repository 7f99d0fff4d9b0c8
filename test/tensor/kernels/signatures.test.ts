// Each kernel's signature is written once (kernels/types.ts); the js reference, the addon's C++ argument
// parsing and the native backend must all follow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../../src/tensor/kernels/js/index.ts';
import { createNativeKernels } from '../../../src/tensor/kernels/native.ts';
import { kernelSignatures, type KernelName } from '../../../src/tensor/kernels/types.ts';
import type { NativeAddon } from '../../../src/tensor/native-addon.ts';
import { nativeAddonOrNull, nativeSkipReason } from '../../helpers.ts';

const KINDS = /^(f32\??|i32\??|u16|i8|size|int|num|bool|unaryOp|binaryOp|[A-Z]\w*)$/;
const entries = Object.entries(kernelSignatures) as [KernelName, string][];

function argsOf(sig: string): string[][] {
  return sig
    .split(' -> ')[0]
    .split(' ')
    .map((t) => t.split(':'));
}

test('every signature is well formed: name:kind pairs with known kinds and distinct names', () => {
  for (const [name, sig] of entries) {
    const args = argsOf(sig);
    for (const a of args) assert.ok(a.length === 2 && a[0] !== '' && KINDS.test(a[1]), `${name}: bad '${a.join(':')}'`);
    assert.equal(new Set(args.map((a) => a[0])).size, args.length, `${name}: repeated argument name`);
  }
});

test('the js reference takes exactly the arguments of each signature', () => {
  for (const [name, sig] of entries) assert.equal(jsKernels[name].length, argsOf(sig).length, name);
});

test('the addon declares every kernel with our signature', { skip: nativeSkipReason() }, () => {
  const declared = nativeAddonOrNull()!.kernelSignatures();
  for (const [name, sig] of entries) assert.equal(declared[name], sig, name);
  const k = createNativeKernels(nativeAddonOrNull()!);
  for (const [name] of entries) assert.equal(typeof k[name], 'function', name);
});

test('an addon whose signatures differ is refused at load, naming the kernel', { skip: nativeSkipReason() }, () => {
  const real = nativeAddonOrNull()!;
  const sigs = { ...real.kernelSignatures(), gemm: 'a:f32 b:f32' };
  const fake = { ...real, kernelSignatures: () => sigs } as NativeAddon;
  assert.throws(() => createNativeKernels(fake), /rebuild it.*declares 'gemm' as "a:f32 b:f32"/);
  const { rope: _rope, ...lacking } = real;
  assert.throws(() => createNativeKernels(lacking as NativeAddon), /lacks 'rope'/);
});
