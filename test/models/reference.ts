// Reading the transformers reference tensors of test/fixtures.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/safetensors.ts';
import { toFloat32, toInt32 } from '../../src/io/dtypes.ts';
import { tensor, type Tensor } from '../../src/tensor/index.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function readReference(family: string, file = 'reference.safetensors') {
  const { tensors } = loadSafetensors(join(FIXTURES, family, file));
  const f32 = (name: string) => {
    const t = tensors.get(name);
    assert.ok(t, `${file} has no ${name}`);
    return { shape: t.shape, data: toFloat32(t.dtype, t.data as never) };
  };
  const ids = (name: string) => {
    const t = tensors.get(name)!;
    return tensor(toInt32(t.dtype, t.data as never), t.shape, 'i32');
  };
  return { tensors, f32, ids };
}

/** Next-token targets: ids shifted left, the last position ignored (lm_loss's definition). */
export function shiftedTargets(ids: Tensor): Tensor {
  const [b, t] = ids.shape;
  const src = ids.i32();
  const out = new Int32Array(b * t).fill(-100);
  for (let i = 0; i < b; i++) for (let j = 0; j < t - 1; j++) out[i * t + j] = src[i * t + j + 1];
  return tensor(out, [b, t], 'i32');
}

/**
 * The reference value of parameter `name` stored under `prefix` + name, resolving transformers v5's fused
 * expert tensors (experts.gate_up_proj [E, 2I, H] = gate rows then up rows; experts.down_proj [E, H, I]) for
 * the per-expert names the checkpoint files use.
 */
export function referenceParam(ref: ReturnType<typeof readReference>, prefix: string, name: string): Float32Array {
  if (ref.tensors.has(prefix + name)) return ref.f32(prefix + name).data;
  const m = /^(model\.layers\.\d+\.mlp\.experts)\.(\d+)\.(gate_proj|up_proj|down_proj)\.weight$/.exec(name);
  assert.ok(m, `reference has no ${prefix}${name}`);
  const fused = ref.f32(`${prefix}${m[1]}.${m[3] === 'down_proj' ? 'down_proj' : 'gate_up_proj'}`);
  const [, rows, cols] = fused.shape;
  const e = Number(m[2]);
  const block = fused.data.subarray(e * rows * cols, (e + 1) * rows * cols);
  if (m[3] === 'down_proj') return block;
  return m[3] === 'gate_proj' ? block.subarray(0, (rows * cols) / 2) : block.subarray((rows * cols) / 2);
}
