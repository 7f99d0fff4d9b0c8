// The DPO loss (open-instruct `dpo_utils.dpo_loss`). With policy and reference log-probs of the chosen (c) and
// rejected (r) replies — sums over their label tokens for standard DPO, means for length-normalised DPO
// ("dpo_norm", Tülu 3: Lambert et al., https://arxiv.org/abs/2411.15124):
//   z = β·[(π(c) − ref(c)) − (π(r) − ref(r))]
//   loss = −(1 − ε)·log σ(z) − ε·log σ(−z)          (ε: label smoothing, 0 in Tülu 3)
//   chosen reward = β·(π(c) − ref(c)),  rejected reward = β·(π(r) − ref(r))
import { add, clamp, log, mul, neg, scale, sigmoid, sub, tensor, type Tensor } from '../../tensor/index.ts';

export type DpoLossType = 'dpo_norm' | 'dpo';

/** β defaults: 5 for dpo_norm (Tülu 3's tulu3_dpo_8b.yaml), open-instruct's default 0.1 for standard DPO. */
export function defaultBeta(type: DpoLossType): number {
  return type === 'dpo_norm' ? 5 : 0.1;
}

/** Whether the loss type compares per-token means (true) or sums (false) of the log-probs. */
export function averagesLogProbs(type: DpoLossType): boolean {
  return type === 'dpo_norm';
}

/**
 * −log σ(x), with the right gradient everywhere: −log(sigmoid(x)) where sigmoid is far from underflow (x ≥ −50),
 * and −x below (the asymptote; the difference is < e^−50). A kink-based softplus (relu(−x) + log(1 + e^−|x|)) would
 * give the subgradient 0 at x = 0 — exactly where DPO starts, since the policy equals the reference.
 */
export function negLogSigmoid(x: Tensor): Tensor {
  const v = x.f32();
  const far = Float32Array.from(v, (z) => (z < -50 ? 1 : 0));
  if (!far.some((f) => f === 1)) return neg(log(sigmoid(x)));
  const near = tensor(
    Float32Array.from(far, (f) => 1 - f),
    x.shape,
  );
  return neg(add(mul(log(sigmoid(clamp(x, -50, Infinity))), near), mul(x, tensor(far, x.shape))));
}

function negLogSigmoidNumber(x: number): number {
  return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Per-pair losses [B] from policy log-probs (differentiable) and reference log-probs (constants). */
export function dpoLoss(
  policyChosen: Tensor,
  policyRejected: Tensor,
  refChosen: Tensor,
  refRejected: Tensor,
  beta: number,
  labelSmoothing = 0,
): Tensor {
  const z = scale(sub(sub(policyChosen, refChosen), sub(policyRejected, refRejected)), beta);
  const pos = negLogSigmoid(z);
  if (labelSmoothing === 0) return pos;
  return add(scale(pos, 1 - labelSmoothing), scale(negLogSigmoid(neg(z)), labelSmoothing));
}

export interface DpoPairValues {
  loss: number;
  chosenReward: number;
  rejectedReward: number;
}

/** The same loss on plain numbers, for metrics and for checking by hand. */
export function dpoLossValues(
  policyChosen: number,
  policyRejected: number,
  refChosen: number,
  refRejected: number,
  beta: number,
  labelSmoothing = 0,
): DpoPairValues {
  const chosenReward = beta * (policyChosen - refChosen);
  const rejectedReward = beta * (policyRejected - refRejected);
  const z = chosenReward - rejectedReward;
  const loss = (1 - labelSmoothing) * negLogSigmoidNumber(z) + labelSmoothing * negLogSigmoidNumber(-z);
  return { loss, chosenReward, rejectedReward };
}

/** Aggregated pair metrics: mean loss, rewards, margin and accuracy (chosen reward above rejected; a tie counts ½). */
export interface DpoBatchMetrics {
  loss: number;
  chosen_reward: number;
  rejected_reward: number;
  reward_margin: number;
  reward_accuracy: number;
  pairs: number;
}

export function summarizePairs(pairs: readonly DpoPairValues[]): DpoBatchMetrics {
  const n = pairs.length;
  let loss = 0;
  let c = 0;
  let r = 0;
  let acc = 0;
  for (const p of pairs) {
    loss += p.loss;
    c += p.chosenReward;
    r += p.rejectedReward;
    acc += p.chosenReward > p.rejectedReward ? 1 : p.chosenReward === p.rejectedReward ? 0.5 : 0;
  }
  return {
    loss: loss / n,
    chosen_reward: c / n,
    rejected_reward: r / n,
    reward_margin: (c - r) / n,
    reward_accuracy: acc / n,
    pairs: n,
  };
}
