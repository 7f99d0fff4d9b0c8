// Verifiable rewards (the Tülu 3 paper, https://arxiv.org/abs/2411.15124):
// α = 10 when the verifier accepts the answer, 0 otherwise; a response that never
// emitted EOS has its score *replaced* by the penalty value when the non-stop penalty is on (open-instruct
// `--non_stop_penalty`, `penalty_reward_value`).
import { verify } from '../../verifiers/index.ts';

export interface RewardConfig {
  /** Reward for a verified answer (α = 10). */
  correct: number;
  /** Reward for an unverified answer (0). */
  incorrect: number;
  /** Replace the score of a response without EOS by `penaltyValue`. */
  nonStopPenalty: boolean;
  penaltyValue: number;
}

export const DEFAULT_REWARDS: RewardConfig = { correct: 10, incorrect: 0, nonStopPenalty: true, penaltyValue: -10 };

export interface RewardResult {
  reward: number;
  verified: boolean;
  /** Whether the response ended with EOS. */
  stopped: boolean;
}

/** The shaped score of one response from its verification and whether it stopped. */
export function shapeReward(verified: boolean, stopped: boolean, cfg: RewardConfig): number {
  if (!stopped && cfg.nonStopPenalty) return cfg.penaltyValue;
  return verified ? cfg.correct : cfg.incorrect;
}

/** Verifies a response with the named verifier and shapes its reward. */
export function verifiableReward(
  verifier: string,
  response: string,
  groundTruth: unknown,
  stopped: boolean,
  cfg: RewardConfig,
): RewardResult {
  const verified = verify(verifier, response, groundTruth).verified;
  return { reward: shapeReward(verified, stopped, cfg), verified, stopped };
}
