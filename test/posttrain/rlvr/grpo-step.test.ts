// One GRPO update on a fixed batch of rollouts with hand-set rewards (no sampling): the update must raise the
// log-probability of the responses with a positive group-normalised advantage and lower those with a negative
// one; groups whose rewards are all equal carry no signal, so a batch of only such groups leaves the policy as it
// was (at step 0 the policy equals the reference, so the kl3 term has zero gradient too).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad } from '../../../src/tensor/index.ts';
import {
  packRollouts,
  RlvrTrainer,
  tokenLogProbs,
  type RlvrPrompt,
  type Rollout,
} from '../../../src/posttrain/rlvr/index.ts';
import { decodeDigits, tinyModel, tinyRlvrConfig } from './tiny.ts';

const P1: RlvrPrompt = { id: 'p1', ids: [4, 4, 11], groundTruth: '4', verifier: 'gsm8k' };
const P2: RlvrPrompt = { id: 'p2', ids: [5, 6], groundTruth: '1', verifier: 'gsm8k' };

function rollout(prompt: RlvrPrompt, promptIndex: number, response: number[], reward: number): Rollout {
  return {
    promptIndex,
    prompt,
    response,
    text: decodeDigits(response),
    stopped: response[response.length - 1] === 0,
    reward,
    verified: reward > 0,
  };
}

function makeTrainer(over: Parameters<typeof tinyRlvrConfig>[0] = {}, referenceSeed = 7) {
  return new RlvrTrainer(
    tinyRlvrConfig({
      samplesPerPrompt: 4,
      promptsPerStep: 2,
      epochsPerBatch: 1,
      lr: 0.01,
      kl: { beta: 0.01, estimator: 'kl3' },
      ...over,
    }),
    {
      policy: tinyModel(7),
      reference: tinyModel(referenceSeed),
      train: [P1, P2],
      decode: decodeDigits,
      eosTokenIds: [0],
      output: null,
      log: () => {},
    },
  );
}

/** Σ_t log π(response_t | prompt, response_<t) of each rollout (EOS included) under the trainer's policy (or reference). */
function seqLogProbs(t: RlvrTrainer, rollouts: readonly Rollout[], model = t.policy): number[] {
  const batch = packRollouts(
    rollouts.map((r) => ({ prompt: r.prompt.ids, response: r.response })),
    1,
  );
  const lp = noGrad(() => tokenLogProbs(model, batch, { temperature: t.cfg.generation.temperature }).logprobs.f32());
  return rollouts.map((_, b) => {
    let s = 0;
    for (let i = 0; i < batch.length; i++) if (batch.mask[b * batch.length + i]) s += lp[b * batch.length + i];
    return s;
  });
}

describe('GRPO update direction on a fixed batch', () => {
  it('raises the log-prob of rewarded responses and lowers the unrewarded ones', () => {
    const t = makeTrainer();
    const batch = [
      rollout(P1, 0, [6, 0], 10),
      rollout(P1, 0, [7, 0], 0),
      rollout(P1, 0, [8, 3, 0], 10),
      rollout(P1, 0, [9, 9, 0], 0),
      rollout(P2, 1, [3, 0], 10),
      rollout(P2, 1, [2, 5, 0], 0),
      rollout(P2, 1, [10, 0], 0),
      rollout(P2, 1, [11, 4, 4], 0), // no EOS: the response is scored without one
    ];
    const before = seqLogProbs(t, batch);
    const res = t.learnFrom(batch);
    assert.ok(res.gradNorm > 0 && Number.isFinite(res.loss));
    const after = seqLogProbs(t, batch);
    batch.forEach((r, i) => {
      const d = after[i] - before[i];
      if (r.reward > 0) assert.ok(d > 1e-3, `rewarded rollout ${i} (${r.response}) log-prob moved by ${d}`);
      else assert.ok(d < -1e-3, `unrewarded rollout ${i} (${r.response}) log-prob moved by ${d}`);
    });
  });

  it('leaves the policy unchanged when every group has equal rewards', () => {
    const t = makeTrainer();
    const params = t.policy.parameters().map((p) => Float32Array.from(p.f32()));
    const batch = [
      ...[
        [6, 0],
        [7, 0],
        [8, 3, 0],
        [9, 0],
      ].map((r) => rollout(P1, 0, r, 10)),
      ...[
        [3, 0],
        [2, 5, 0],
        [10, 0],
        [11, 0],
      ].map((r) => rollout(P2, 1, r, 0)),
    ];
    const res = t.learnFrom(batch);
    assert.equal(res.advantageStd, 0);
    assert.equal(res.gradNorm, 0);
    t.policy
      .parameters()
      .forEach((p, i) => assert.deepEqual(Array.from(p.f32()), Array.from(params[i]), `param ${i} changed`));
  });

  it('takes the old log-probs of a one-update step from the training forward, before the update', () => {
    // One pass of one minibatch skips the separate scoring forward; the step's KL must still be that of the policy
    // that generated the rollouts (not of the updated one) against the reference.
    for (const epochsPerBatch of [1, 2]) {
      const t = makeTrainer({ epochsPerBatch }, 8);
      const batch = [
        rollout(P1, 0, [6, 0], 10),
        rollout(P1, 0, [7, 0], 0),
        rollout(P1, 0, [8, 3, 0], 0),
        rollout(P1, 0, [9, 9, 0], 10),
      ];
      const pol = seqLogProbs(t, batch);
      const ref = seqLogProbs(t, batch, t.reference);
      const expected = pol.reduce((s, x, i) => s + x - ref[i], 0) / batch.length;
      const res = t.learnFrom(batch);
      assert.ok(Math.abs(expected) > 1e-3, 'policy and reference differ');
      assert.ok(Math.abs(res.kl - expected) < 1e-5, `epochs ${epochsPerBatch}: kl ${res.kl} vs ${expected}`);
      assert.ok(Math.abs(seqLogProbs(t, batch)[0] - pol[0]) > 1e-4, 'the update moved the policy');
    }
  });
});
