// Native attention: thin forwards to the addon's `attention` / `attentionBackward` (native/attention.cc
// validates every argument, kvLens included).
import type { NativeAddon } from '../../native-addon.ts';
import type { AttentionKernels } from '../types.ts';

type AttentionFn = AttentionKernels['attention'];
type AttentionBackwardFn = AttentionKernels['attentionBackward'];

export function nativeAttention(addon: NativeAddon): AttentionKernels {
  const attention = addon.attention as unknown as AttentionFn;
  const attentionBackward = addon.attentionBackward as unknown as AttentionBackwardFn;
  return {
    attention(q, k, v, out, lse, kvLens, batch, tq, tk, hq, hkv, d, scale) {
      attention(q, k, v, out, lse, kvLens, batch, tq, tk, hq, hkv, d, scale);
    },
    attentionBackward(q, k, v, out, lse, gOut, gq, gk, gv, kvLens, batch, tq, tk, hq, hkv, d, scale) {
      attentionBackward(q, k, v, out, lse, gOut, gq, gk, gv, kvLens, batch, tq, tk, hq, hkv, d, scale);
    },
  };
}
