// RLVR numerics against hand-computed examples: GRPO advantages, the clipped surrogate (values and gradients),
// GAE, whitening, PPO's per-token rewards and clipped value loss, the KL estimators, loss weights, reward shaping.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backward, parameter, sum, tensor } from '../../../src/tensor/index.ts';
import {
  clippedSurrogate,
  clippedSurrogateTensor,
  clippedValueLoss,
  clippedValueLossTensor,
  DEFAULT_REWARDS,
  gae,
  grpoAdvantages,
  klEstimate,
  klEstimateTensor,
  lossWeights,
  maskedWhiten,
  ppoTokenRewards,
  shapeReward,
  verifiableReward,
} from '../../../src/posttrain/rlvr/index.ts';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5, what = '') => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

describe('GRPO advantages', () => {
  it('normalises within each group by the unbiased std', () => {
    // [10, 0]: mean 5, std sqrt(50) = 7.0711 → ±0.70711.
    close(grpoAdvantages([10, 0, 0, 10], 2), [0.707107, -0.707107, -0.707107, 0.707107], 1e-6, 'pairs');
    // [10, 0, 0, 0]: mean 2.5, var (56.25 + 3·6.25)/3 = 25, std 5.
    close(grpoAdvantages([10, 0, 0, 0], 4), [1.5, -0.5, -0.5, -0.5], 1e-6, 'four');
  });
  it('gives 0 to a group with equal rewards and rejects a bad group size', () => {
    close(grpoAdvantages([10, 10, 0, 0], 2), [0, 0, 0, 0], 0, 'equal');
    assert.throws(() => grpoAdvantages([1, 2, 3], 2), /do not split into groups of 2/);
  });
});

describe('clipped surrogate', () => {
  it('matches max(−A·ρ, −A·clip(ρ, 1 ± ε)) by hand', () => {
    const l = Math.log;
    // ρ = 1.5, A = 1: −1.5 vs −1.2 → −1.2 (clipped); A = −1: 1.5 vs 1.2 → 1.5.
    assert.ok(Math.abs(clippedSurrogate(l(1.5), 0, 1, 0.2) - -1.2) < 1e-12);
    assert.ok(Math.abs(clippedSurrogate(l(1.5), 0, -1, 0.2) - 1.5) < 1e-12);
    // ρ = 0.5, A = 1: −0.5 vs −0.8 → −0.5; A = −1: 0.5 vs 0.8 → 0.8 (clipped).
    assert.ok(Math.abs(clippedSurrogate(l(0.5), 0, 1, 0.2) - -0.5) < 1e-12);
    assert.ok(Math.abs(clippedSurrogate(l(0.5), 0, -1, 0.2) - 0.8) < 1e-12);
  });
  it('has gradient −A·ρ where unclipped and 0 where clipped (tensor version)', () => {
    const ratios = [1.5, 1.5, 0.5, 0.5, 1.1];
    const advs = [1, -1, 1, -1, 2];
    const old = [-1, -2, -0.5, -3, -1];
    const logp = parameter(
      tensor(
        Float32Array.from(ratios, (r, i) => Math.log(r) + old[i]),
        [1, 5],
      ),
    );
    const { loss, ratio } = clippedSurrogateTensor(
      logp,
      tensor(Float32Array.from(old), [1, 5]),
      tensor(Float32Array.from(advs), [1, 5]),
      0.2,
    );
    close(loss.f32(), [-1.2, 1.5, -0.5, 0.8, -2.2], 1e-5, 'loss');
    close(ratio.f32(), ratios, 1e-5, 'ratio');
    backward(sum(loss));
    // d/dlogp (−A·ρ) = −A·ρ when that branch is taken; the clipped branch is constant.
    close(logp.grad!.f32(), [0, 1.5, -0.5, 0, -2.2], 1e-5, 'grad');
  });
});

describe('GAE', () => {
  it('γ = 1, λ = 0.95 over one response, ignoring prompt and padding positions', () => {
    // Row: [prompt, r0, r1, r2, pad]; rewards [0, 0, 1] on the response, values [0.5, 0.6, 0.7].
    // A2 = 1 − 0.7 = 0.3; A1 = (0.7 − 0.6) + 0.95·0.3 = 0.385; A0 = (0.6 − 0.5) + 0.95·0.385 = 0.46575.
    const mask = [0, 1, 1, 1, 0];
    const { advantages, returns } = gae([9, 0, 0, 1, 9], [9, 0.5, 0.6, 0.7, 9], mask, 1, 1, 0.95);
    close(advantages, [0, 0.46575, 0.385, 0.3, 0], 1e-6, 'adv');
    close(returns, [0, 0.96575, 0.985, 1.0, 0], 1e-6, 'returns');
  });
  it('γ = 0.9, λ = 0.5, two rows', () => {
    // A2 = 0.3; A1 = (0.9·0.7 − 0.6) + 0.45·0.3 = 0.165; A0 = (0.9·0.6 − 0.5) + 0.45·0.165 = 0.11425.
    // Row 2: a single token with reward 2 and value 1: A = 1.
    const { advantages } = gae([0, 0, 1, 2, 0, 0], [0.5, 0.6, 0.7, 1, 0, 0], [1, 1, 1, 1, 0, 0], 2, 0.9, 0.5);
    close(advantages, [0.11425, 0.165, 0.3, 1, 0, 0], 1e-6, 'adv');
  });
  it('whitens over the mask with the unbiased variance', () => {
    close(maskedWhiten(Float32Array.from([5, 1, 2, 3]), [0, 1, 1, 1]), [0, -1, 0, 1], 1e-6, 'whiten');
  });
});

describe('PPO rewards and value loss', () => {
  it('puts −β·kl on every response token and the score on the last', () => {
    const r = ppoTokenRewards(
      Float32Array.from([7, 0.1, 0.2, 0.3, 0, 0.4, 7, 7]),
      Float32Array.from([0, 1, 1, 1, 0, 1, 0, 0]),
      2,
      [10, -10],
      0.05,
    );
    close(r, [0, -0.005, -0.01, 9.985, 0, -10.02, 0, 0], 1e-5, 'rewards');
  });
  it('takes the larger of the unclipped and clipped squared errors', () => {
    // V 1.0, V_old 0.5, R 2, c 0.2: (1 − 2)² = 1; clipped V 0.7: (0.7 − 2)² = 1.69 → 0.845.
    assert.ok(Math.abs(clippedValueLoss(1.0, 0.5, 2, 0.2) - 0.845) < 1e-12);
    // Within the clip range both agree: 0.5·(1 − 0)² = 0.5.
    assert.ok(Math.abs(clippedValueLoss(1.0, 0.9, 0, 0.2) - 0.5) < 1e-12);
    const v = parameter(tensor(Float32Array.from([1.0, 1.0]), [1, 2]));
    const vl = clippedValueLossTensor(
      v,
      tensor(Float32Array.from([0.5, 0.9]), [1, 2]),
      tensor(Float32Array.from([2, 0]), [1, 2]),
      0.2,
    );
    close(vl.f32(), [0.845, 0.5], 1e-6, 'tensor');
    backward(sum(vl));
    // First: the clipped branch wins, constant in V → 0. Second: d/dV 0.5(V − R)² = V − R = 1.
    close(v.grad!.f32(), [0, 1], 1e-6, 'grad');
  });
});

describe('KL estimators', () => {
  it('kl1 = Δ, kl2 = Δ²/2, kl3 = e^{−Δ} − 1 + Δ, Δ clamped to ±40', () => {
    assert.equal(klEstimate('kl1', -1, -2), 1);
    assert.equal(klEstimate('kl2', -1, -2), 0.5);
    assert.ok(Math.abs(klEstimate('kl3', -1, -2) - 0.36787944) < 1e-8);
    assert.ok(Math.abs(klEstimate('kl3', -2, -1) - 0.71828183) < 1e-8);
    assert.equal(klEstimate('kl3', 0, 0), 0);
    assert.ok(Math.abs(klEstimate('kl3', 100, 0) - (Math.exp(-40) - 1 + 40)) < 1e-9);
    assert.equal(klEstimate('kl1', -100, 0), -40);
  });
  it('tensor versions agree and kl3 has gradient 1 − e^{−Δ}', () => {
    const logp = parameter(tensor(Float32Array.from([-1, -2, -0.5]), [1, 3]));
    const ref = tensor(Float32Array.from([-2, -1, -0.5]), [1, 3]);
    for (const kind of ['kl1', 'kl2', 'kl3'] as const) {
      close(
        klEstimateTensor(kind, logp, ref).f32(),
        [-1, -2, -0.5].map((l, i) => klEstimate(kind, l, [-2, -1, -0.5][i])),
        1e-6,
        kind,
      );
    }
    backward(sum(klEstimateTensor('kl3', logp, ref)));
    close(logp.grad!.f32(), [1 - Math.exp(-1), 1 - Math.exp(1), 0], 1e-5, 'grad');
  });
});

describe('loss weights', () => {
  it("'token' averages over all masked tokens, 'sequence' over each sequence then over sequences", () => {
    const mask = [1, 1, 0, 1, 0, 0];
    close(lossWeights(mask, 2, 'token'), [1 / 3, 1 / 3, 0, 1 / 3, 0, 0], 1e-7, 'token');
    close(lossWeights(mask, 2, 'sequence'), [0.25, 0.25, 0, 0.5, 0, 0], 1e-7, 'sequence');
  });
});

describe('reward shaping', () => {
  it('10 when verified, 0 otherwise; no EOS replaces the score by the penalty when configured', () => {
    assert.equal(shapeReward(true, true, DEFAULT_REWARDS), 10);
    assert.equal(shapeReward(false, true, DEFAULT_REWARDS), 0);
    assert.equal(shapeReward(true, false, DEFAULT_REWARDS), -10);
    assert.equal(shapeReward(false, false, DEFAULT_REWARDS), -10);
    const off = { ...DEFAULT_REWARDS, nonStopPenalty: false };
    assert.equal(shapeReward(true, false, off), 10);
    assert.equal(shapeReward(false, false, off), 0);
    assert.equal(shapeReward(true, false, { ...DEFAULT_REWARDS, penaltyValue: 0 }), 0);
  });
  it('runs the named verifier', () => {
    assert.deepEqual(verifiableReward('gsm8k', 'So 2 + 2 = 4. The answer is 4.', '4', true, DEFAULT_REWARDS), {
      reward: 10,
      verified: true,
      stopped: true,
    });
    assert.deepEqual(verifiableReward('gsm8k', 'The answer is 5.', '4', true, DEFAULT_REWARDS), {
      reward: 0,
      verified: false,
      stopped: true,
    });
    assert.deepEqual(verifiableReward('gsm8k', 'The answer is 4', '4', false, DEFAULT_REWARDS), {
      reward: -10,
      verified: true,
      stopped: false,
    });
  });
});
