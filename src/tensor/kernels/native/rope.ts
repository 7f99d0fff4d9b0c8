// Native RoPE: a thin forward to the addon's `rope` (native/rope.cc validates every argument).
import type { NativeAddon } from '../../native-addon.ts';
import type { F32, I32, RopeKernels } from '../types.ts';

type RopeFn = (
  x: F32,
  out: F32,
  positions: I32,
  batch: number,
  seq: number,
  heads: number,
  dim: number,
  invFreq: F32,
  inverse: boolean,
) => void;

export function nativeRope(addon: NativeAddon): RopeKernels {
  const rope = addon.rope as unknown as RopeFn;
  return {
    rope(x, out, positions, batch, seq, heads, dim, invFreq, inverse) {
      rope(x, out, positions, batch, seq, heads, dim, invFreq, inverse);
    },
  };
}
