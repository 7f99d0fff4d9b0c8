// The numerics of RLVR as Tülu 3 trains (Lambert et al., https://arxiv.org/abs/2411.15124), each in one small function
// a reader can check against the open-instruct scripts (https://github.com/allenai/open-instruct):
//
//   GRPO (Tülu 3.1, grpo_vllm_thread_ray_gtrl.py @745bf58):  A = (r − mean_group) / (std_group + 1e-8), one
//       advantage per sequence spread over its tokens; loss = masked_mean(max(−A·ρ, −A·clip(ρ, 1 ± ε)) + β·kl3).
//   PPO (Tülu 3, ppo_vllm_thread_ray_gtrl.py): per-token reward −β·kl1 with the score added at the last real
//       token; GAE(γ, λ) over the response; advantages whitened over valid tokens; the same clipped surrogate;
//       value loss 0.5·max((V − R)², (clip(V, V_old ± c) − R)²).
//
// Layout: every per-token quantity is a flat [N·L] array (or [N, L] tensor) over N sequences of L positions, with
// a 0/1 mask marking response tokens. Positions are those of the *predicting* token (position t holds the
// log-prob of token t + 1), so a sequence's response occupies a contiguous run of masked positions.
import {
  add,
  addScalar,
  clamp,
  exp,
  maximum,
  mul,
  neg,
  scale,
  square,
  sub,
  sum,
  tensor,
  type Tensor,
} from '../../tensor/index.ts';

export type KlEstimator = 'kl1' | 'kl2' | 'kl3';

/** Δ = logπ − logπ_ref is clamped to ±40 before the estimators, as open-instruct does. */
export const KL_DELTA_CLAMP = 40;

/**
 * Per-token KL(π‖π_ref) estimators of Schulman's "Approximating KL divergence", on Δ = logπ − logπ_ref
 * (clamped to ±40): kl1 = Δ (T3 PPO), kl2 = Δ²/2, kl3 = (e^{−Δ} − 1) + Δ (T3.1 GRPO; non-negative).
 */
export function klEstimate(kind: KlEstimator, logp: number, refLogp: number): number {
  const d = Math.max(-KL_DELTA_CLAMP, Math.min(KL_DELTA_CLAMP, logp - refLogp));
  switch (kind) {
    case 'kl1':
      return d;
    case 'kl2':
      return (d * d) / 2;
    case 'kl3':
      return Math.expm1(-d) + d;
  }
}

/** The same estimators on tensors (differentiable in logp; refLogp is a constant). */
export function klEstimateTensor(kind: KlEstimator, logp: Tensor, refLogp: Tensor): Tensor {
  const d = clamp(sub(logp, refLogp), -KL_DELTA_CLAMP, KL_DELTA_CLAMP);
  switch (kind) {
    case 'kl1':
      return d;
    case 'kl2':
      return scale(square(d), 0.5);
    case 'kl3':
      return add(addScalar(exp(neg(d)), -1), d);
  }
}

/**
 * GRPO's group-normalised advantages: rewards come in consecutive groups of `groupSize` (the samples of one
 * prompt); each becomes (r − mean) / (std + eps) with the group's sample standard deviation (torch's default,
 * unbiased, as open-instruct's `.std()`); a group of one has std 0 taken as 0.
 */
export function grpoAdvantages(rewards: readonly number[], groupSize: number, eps = 1e-8): number[] {
  if (!Number.isInteger(groupSize) || groupSize < 1)
    throw new Error(`grpoAdvantages: groupSize must be a positive integer, got ${groupSize}`);
  if (rewards.length % groupSize !== 0) {
    throw new Error(`grpoAdvantages: ${rewards.length} rewards do not split into groups of ${groupSize}`);
  }
  const out = new Array<number>(rewards.length);
  for (let g = 0; g < rewards.length; g += groupSize) {
    const group = rewards.slice(g, g + groupSize);
    const mean = group.reduce((a, b) => a + b, 0) / groupSize;
    const variance = groupSize > 1 ? group.reduce((a, b) => a + (b - mean) ** 2, 0) / (groupSize - 1) : 0;
    const std = Math.sqrt(variance);
    for (let i = 0; i < groupSize; i++) out[g + i] = (group[i] - mean) / (std + eps);
  }
  return out;
}

/**
 * Generalised advantage estimation over each sequence's masked positions (rows of length L in the flat
 * arrays): δ_t = r_t + γ·V_{t+1} − V_t with V = 0 after the last response token, A_t = δ_t + γλ·A_{t+1}.
 * Returns advantages and returns (A + V); unmasked positions get 0.
 */
export function gae(
  rewards: Float32Array | readonly number[],
  values: Float32Array | readonly number[],
  mask: Float32Array | readonly number[],
  rows: number,
  gamma: number,
  lambda: number,
): { advantages: Float32Array; returns: Float32Array } {
  const n = mask.length;
  if (rows < 1 || n % rows !== 0 || rewards.length !== n || values.length !== n) {
    throw new Error(
      `gae: rewards (${rewards.length}), values (${values.length}) and mask (${n}) must be ${rows} equal rows`,
    );
  }
  const L = n / rows;
  const advantages = new Float32Array(n);
  const returns = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    let nextValue = 0;
    let nextAdv = 0;
    for (let t = L - 1; t >= 0; t--) {
      const i = r * L + t;
      if (!mask[i]) continue;
      const delta = rewards[i] + gamma * nextValue - values[i];
      const a = delta + gamma * lambda * nextAdv;
      advantages[i] = a;
      returns[i] = a + values[i];
      nextValue = values[i];
      nextAdv = a;
    }
  }
  return { advantages, returns };
}

/**
 * Whitens values over the masked positions: (x − mean) / sqrt(var + 1e-8) with the unbiased variance
 * (open-instruct `masked_whiten`, `shift_mean=True`). Unmasked positions become 0.
 */
export function maskedWhiten(x: Float32Array, mask: Float32Array | readonly number[]): Float32Array {
  let count = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    if (!mask[i]) continue;
    count++;
    s += x[i];
  }
  const out = new Float32Array(x.length);
  if (count === 0) return out;
  const mean = s / count;
  let v = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]) v += (x[i] - mean) ** 2;
  // open-instruct's masked_var applies Bessel's correction (mask_sum / (mask_sum − 1)).
  const variance = count > 1 ? (v / count) * (count / (count - 1)) : 0;
  const inv = 1 / Math.sqrt(variance + 1e-8);
  for (let i = 0; i < x.length; i++) if (mask[i]) out[i] = (x[i] - mean) * inv;
  return out;
}

/** Per-token reward for PPO: −β·kl_t on every response token, the sequence score added at its last one. */
export function ppoTokenRewards(
  kl: Float32Array,
  mask: Float32Array,
  rows: number,
  scores: readonly number[],
  beta: number,
): Float32Array {
  const L = mask.length / rows;
  const out = new Float32Array(mask.length);
  for (let r = 0; r < rows; r++) {
    let last = -1;
    for (let t = 0; t < L; t++) {
      const i = r * L + t;
      if (!mask[i]) continue;
      out[i] = -beta * kl[i];
      last = i;
    }
    if (last >= 0) out[last] += scores[r];
  }
  return out;
}

/** The clipped surrogate for one token (numbers): max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)), ρ = exp(logp − oldLogp). */
export function clippedSurrogate(logp: number, oldLogp: number, advantage: number, clip: number): number {
  const ratio = Math.exp(logp - oldLogp);
  const clipped = Math.min(1 + clip, Math.max(1 - clip, ratio));
  return Math.max(-advantage * ratio, -advantage * clipped);
}

/** The clipped surrogate per token, on tensors; differentiable in logp. */
export function clippedSurrogateTensor(
  logp: Tensor,
  oldLogp: Tensor,
  advantages: Tensor,
  clip: number,
): { loss: Tensor; ratio: Tensor } {
  const ratio = exp(sub(logp, oldLogp));
  const negA = neg(advantages);
  const loss = maximum(mul(negA, ratio), mul(negA, clamp(ratio, 1 - clip, 1 + clip)));
  return { loss, ratio };
}

/** PPO's clipped value loss per token: 0.5·max((V − R)², (clip(V, V_old − c, V_old + c) − R)²). */
export function clippedValueLoss(value: number, oldValue: number, ret: number, clip: number): number {
  const clipped = Math.min(oldValue + clip, Math.max(oldValue - clip, value));
  return 0.5 * Math.max((value - ret) ** 2, (clipped - ret) ** 2);
}

/** The clipped value loss per token, on tensors; differentiable in values. */
export function clippedValueLossTensor(values: Tensor, oldValues: Tensor, returns: Tensor, clip: number): Tensor {
  // clip(V, V_old ± c) = V_old + clamp(V − V_old, −c, c)
  const clipped = add(oldValues, clamp(sub(values, oldValues), -clip, clip));
  return scale(maximum(square(sub(values, returns)), square(sub(clipped, returns))), 0.5);
}

export type LossAggregation = 'token' | 'sequence';

/**
 * Weights that turn a masked sum into a mean over [rows × L] positions: 'token' divides by the number of masked
 * tokens (open-instruct's masked_mean over the minibatch); 'sequence' averages each sequence's token mean, then
 * the sequences (the GRPO paper's 1/G Σ_i 1/|o_i| Σ_t). Unmasked positions weigh 0.
 */
export function lossWeights(
  mask: Float32Array | readonly number[],
  rows: number,
  aggregation: LossAggregation = 'token',
): Float32Array {
  const L = mask.length / rows;
  const weights = new Float32Array(mask.length);
  if (aggregation === 'token') {
    let count = 0;
    for (let i = 0; i < mask.length; i++) count += mask[i] ? 1 : 0;
    for (let i = 0; i < mask.length; i++) weights[i] = mask[i] ? 1 / Math.max(count, 1) : 0;
    return weights;
  }
  const counts = Array.from({ length: rows }, (_, r) => {
    let c = 0;
    for (let t = 0; t < L; t++) c += mask[r * L + t] ? 1 : 0;
    return c;
  });
  const seqs = counts.filter((c) => c > 0).length;
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < L; t++) if (mask[r * L + t]) weights[r * L + t] = 1 / counts[r] / Math.max(seqs, 1);
  }
  return weights;
}

/** Σ perToken · weights: the masked mean of per-token losses [N, L] (see lossWeights). */
export function maskedMean(
  perToken: Tensor,
  mask: Float32Array,
  rows: number,
  aggregation: LossAggregation = 'token',
): Tensor {
  return sum(mul(perToken, tensor(lossWeights(mask, rows, aggregation), perToken.shape)));
}
