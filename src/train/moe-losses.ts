// OLMoE's auxiliary training losses as megablocks defines them (Databricks megablocks, megablocks/layers/moe.py:
// the trainer of the released OLMoE, https://github.com/allenai/OLMoE):
//   load balancing  LB = α · (1/L) Σ_ℓ N_E Σ_e f_ℓe · P_ℓe,  f_ℓe = count_ℓe / (T·k) (no gradient), P_ℓe = mean_t p_ℓte
//   router z-loss   RZ = β · mean over layers and tokens of (logsumexp_e r_ℓte)²
import { add, crossEntropyRows, mean, mul, scale, softmax, square, sum, tensor, type Tensor } from '../tensor/index.ts';
import type { MoEOutput } from '../nn/index.ts';

export function moeLosses(
  moe: MoEOutput[],
  numExperts: number,
  topK: number,
  lbWeight: number,
  rzWeight: number,
): { lb: Tensor; rz: Tensor } {
  if (moe.length === 0) throw new Error('moeLosses: the model returned no router outputs');
  let lb: Tensor | null = null;
  let rz: Tensor | null = null;
  for (const layer of moe) {
    const [tokens] = layer.routerLogits.shape;
    const meanProb = mean(softmax(layer.routerLogits), 0);
    const f = Float32Array.from(layer.expertLoad, (count) => count / (tokens * topK));
    const layerLb = scale(sum(mul(meanProb, tensor(f, [numExperts]))), numExperts);
    // Each token's log-sum-exp over experts, from the fused cross-entropy kernel (every target ignored).
    const { lse } = crossEntropyRows(layer.routerLogits, tensor(new Int32Array(tokens).fill(-100), [tokens], 'i32'));
    const layerRz = mean(square(lse));
    lb = lb ? add(lb, layerLb) : layerLb;
    rz = rz ? add(rz, layerRz) : layerRz;
  }
  return { lb: scale(lb!, lbWeight / moe.length), rz: scale(rz!, rzWeight / moe.length) };
}
