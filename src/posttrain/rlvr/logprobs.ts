// Per-token log-probabilities of rollouts (prompt + response) under a model, in the flat [N, L] layout of
// losses.ts: row b holds sequence b right-padded to L = longest − 1 positions; position t predicts token t + 1;
// the mask is 1 where that token belongs to the response. Logits are divided by the sampling temperature before
// the softmax, as open-instruct does when it recomputes log-probs.
import type { CausalLM } from '../../models/index.ts';
import { crossEntropyRows, neg, reshape, scale, tensor, type Tensor } from '../../tensor/index.ts';

export interface Rollout {
  prompt: readonly number[];
  /** Generated tokens, EOS included when the sequence stopped on it. */
  response: readonly number[];
}

export interface RolloutBatch {
  rows: number;
  /** Positions per row (longest prompt + response − 1). */
  length: number;
  /** [rows, length] input ids, right-padded (the last token of the longest sequence is only a target). */
  ids: Int32Array;
  /** [rows × length] next-token targets on response positions, −100 elsewhere. */
  targets: Int32Array;
  /** [rows × length] 1 on response positions. */
  mask: Float32Array;
}

export function packRollouts(rollouts: readonly Rollout[], padId: number): RolloutBatch {
  if (rollouts.length === 0) throw new Error('packRollouts: no rollouts');
  const full = Math.max(...rollouts.map((r) => r.prompt.length + r.response.length));
  const length = Math.max(1, full - 1);
  const rows = rollouts.length;
  const ids = new Int32Array(rows * length).fill(padId);
  const targets = new Int32Array(rows * length).fill(-100);
  const mask = new Float32Array(rows * length);
  rollouts.forEach((r, b) => {
    if (r.prompt.length === 0) throw new Error(`packRollouts: rollout ${b} has an empty prompt`);
    const seq = [...r.prompt, ...r.response].slice(0, length);
    ids.set(seq, b * length);
    for (let j = 0; j < r.response.length; j++) {
      const t = r.prompt.length - 1 + j;
      targets[b * length + t] = r.response[j];
      mask[b * length + t] = 1;
    }
  });
  return { rows, length, ids, targets, mask };
}

export interface TokenLogProbs {
  /** [rows, length] log-probs of the target tokens (0 off the mask); differentiable unless under noGrad. */
  logprobs: Tensor;
  /** [rows, length, hidden] final hidden states when asked for (value heads; aligned with the log-probs). */
  hidden: Tensor | null;
}

/** Log-probs of each response token of a packed batch under `model` (logits / temperature). */
export function tokenLogProbs(
  model: CausalLM,
  batch: RolloutBatch,
  opts: { temperature?: number; hidden?: boolean } = {},
): TokenLogProbs {
  const { rows, length } = batch;
  const out = model.forward(tensor(batch.ids, [rows, length], 'i32'), { outputHiddenStates: opts.hidden === true });
  let logits = out.logits;
  const temperature = opts.temperature ?? 1;
  if (temperature > 0 && temperature !== 1) logits = scale(logits, 1 / temperature);
  const { loss } = crossEntropyRows(logits, tensor(batch.targets, [rows, length], 'i32'));
  const logprobs = reshape(neg(loss), [rows, length]);
  const hidden = opts.hidden ? out.hiddenStates[out.hiddenStates.length - 1] : null;
  return { logprobs, hidden };
}
