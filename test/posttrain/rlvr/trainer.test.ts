// The RLVR loop on a tiny model: direction (the verified rate rises on a trivially learnable task, GRPO and PPO),
// log-prob alignment with the scorer, micro-batch invariance, metrics / checkpoints / resume, config and data errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoreLoglikelihood } from '../../../src/models/index.ts';
import { noGrad } from '../../../src/tensor/index.ts';
import {
  loadRlvrPrompts,
  packRollouts,
  resolveRlvrConfig,
  RlvrTrainer,
  tokenLogProbs,
} from '../../../src/posttrain/rlvr/index.ts';
import { loadTokenizer } from '../../../src/tokenizers/index.ts';
import { decodeDigits, fourPrompts, tinyModel, tinyRlvrConfig } from './tiny.ts';
import { tinyTokenizerJson } from '../../tokenizers/tiny-tokenizer.ts';
import { listCheckpoints } from '../../../src/train/index.ts';

function trainer(cfg: ReturnType<typeof tinyRlvrConfig>, output: string | null = null, resumeFrom?: string) {
  return new RlvrTrainer(cfg, {
    policy: tinyModel(),
    reference: tinyModel(),
    train: fourPrompts(4),
    test: fourPrompts(64),
    decode: decodeDigits,
    eosTokenIds: [0],
    output,
    log: () => {},
    resume: resumeFrom,
  });
}

describe('RLVR direction (tiny model, fixed seed: always answer "4")', () => {
  it('GRPO raises the held-out verified rate', () => {
    const r = trainer(tinyRlvrConfig({ steps: 16 })).train();
    assert.ok(r.before && r.after);
    assert.ok(r.before.verified_rate < 0.1, `before ${r.before.verified_rate}`);
    assert.ok(
      r.after.verified_rate > r.before.verified_rate + 0.4,
      `GRPO: before ${r.before.verified_rate}, after ${r.after.verified_rate}`,
    );
    assert.equal(r.history.length, 16);
    for (const m of r.history)
      for (const k of ['mean_reward', 'verified_rate', 'kl', 'response_length', 'grad_norm'] as const)
        assert.ok(Number.isFinite(m[k]), k);
    // The policy moved away from the reference.
    assert.ok(r.history[r.history.length - 1].kl > 0, 'KL to the reference is positive after training');
  });
  it('PPO with a value head raises the held-out verified rate', () => {
    const r = trainer(tinyRlvrConfig({ algorithm: 'ppo', steps: 20, lr: 0.03, ppo: { vfCoef: 0.5 } })).train();
    assert.ok(r.before && r.after);
    assert.ok(
      r.after.verified_rate > r.before.verified_rate + 0.2,
      `PPO: before ${r.before.verified_rate}, after ${r.after.verified_rate}`,
    );
    assert.ok(r.history.every((m) => m.value_loss !== undefined && Number.isFinite(m.value_loss)));
  });
});

describe('RLVR pieces', () => {
  it('token log-probs of a packed batch equal the scorer’s continuation log-probs', () => {
    const model = tinyModel(9);
    const rollouts = [
      { prompt: [4, 4, 11], response: [6, 0] },
      { prompt: [2], response: [3, 5, 7, 0] },
      { prompt: [5, 6, 7, 8], response: [9] },
    ];
    const batch = packRollouts(rollouts, 1);
    const lp = noGrad(() => tokenLogProbs(model, batch).logprobs.f32());
    const ref = scoreLoglikelihood(
      model,
      rollouts.map((r) => ({ context: r.prompt, continuation: r.response })),
    );
    rollouts.forEach((r, b) => {
      const got = Array.from(
        lp.slice(b * batch.length + r.prompt.length - 1, b * batch.length + r.prompt.length - 1 + r.response.length),
      );
      got.forEach((x, j) =>
        assert.ok(Math.abs(x - ref[b].logprobs[j]) < 1e-4, `rollout ${b} token ${j}: ${x} vs ${ref[b].logprobs[j]}`),
      );
      let masked = 0;
      for (let t = 0; t < batch.length; t++) masked += batch.mask[b * batch.length + t];
      assert.equal(masked, r.response.length);
    });
  });
  it('micro-batch size does not change an update', () => {
    const a = trainer(tinyRlvrConfig({ steps: 1, microBatchSize: 32 }));
    const b = trainer(tinyRlvrConfig({ steps: 1, microBatchSize: 5 }));
    const ma = a.trainStep();
    const mb = b.trainStep();
    assert.ok(Math.abs(ma.loss - mb.loss) < 1e-5, `${ma.loss} vs ${mb.loss}`);
    const pa = a.policy.parameters().map((p) => p.f32());
    const pb = b.policy.parameters().map((p) => p.f32());
    pa.forEach((x, i) => x.forEach((v, j) => assert.ok(Math.abs(v - pb[i][j]) < 1e-5, `param ${i}[${j}]`)));
  });
  it('writes metrics, checkpoints and the final model, and resumes where it stopped', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlvr-run-'));
    const cfg = tinyRlvrConfig({
      steps: 4,
      checkpoint: { every: 2, keepLast: 2 },
      eval: { limit: 16, temperature: 1, every: 2 },
    });
    const first = trainer(cfg, out).train({ maxSteps: 2 });
    assert.equal(first.steps, 2);
    const ckpt = listCheckpoints(out).at(-1);
    assert.ok(ckpt && ckpt.endsWith('step-0000002'), String(ckpt));
    for (const f of [
      'model/config.json',
      'model/model.safetensors',
      'optimizer.safetensors',
      'train_state.json',
      'checksums.json',
    ])
      assert.ok(existsSync(join(ckpt, f)), f);
    const resumed = trainer(cfg, out, ckpt);
    assert.equal(resumed.stepCount, 2);
    const second = resumed.train();
    assert.equal(second.steps, 4);
    assert.ok(existsSync(join(out, 'final', 'config.json')));
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(
      lines.filter((l) => 'mean_reward' in l).map((l) => l.step),
      [1, 2, 3, 4],
    );
    assert.ok(lines.some((l) => 'eval_verified_rate' in l && l.step === 0));
    assert.ok(lines.some((l) => 'eval_verified_rate' in l && l.step === 4));
  });
});

describe('RLVR config and data', () => {
  it('fills the GRPO and PPO defaults (samples per prompt, KL, reward penalty, lr, schedule)', () => {
    const g = resolveRlvrConfig({ output: 'o', model: 'm', data: { train: 't.jsonl' }, steps: 1 });
    assert.deepEqual(
      [g.samplesPerPrompt, g.kl.beta, g.kl.estimator, g.reward.penaltyValue, g.lr, g.schedule],
      [16, 0.01, 'kl3', 0, 5e-7, 'constant'],
    );
    const p = resolveRlvrConfig({ output: 'o', model: 'm', data: { train: 't.jsonl' }, steps: 1, algorithm: 'ppo' });
    assert.deepEqual(
      [
        p.samplesPerPrompt,
        p.kl.beta,
        p.kl.estimator,
        p.reward.penaltyValue,
        p.lr,
        p.schedule,
        p.ppo.gamma,
        p.ppo.lambda,
        p.ppo.vfCoef,
      ],
      [1, 0.05, 'kl1', -10, 3e-7, 'linear', 1, 0.95, 0.1],
    );
  });
  it('names the bad field', () => {
    assert.throws(() => resolveRlvrConfig({ output: 'o', model: 'm', data: { train: 't.jsonl' }, steps: 0 }), /steps/);
    assert.throws(
      () =>
        resolveRlvrConfig({ output: 'o', model: 'm', data: { train: 't.jsonl' }, steps: 1, kl: { estimator: 'kl9' } }),
      /kl\.estimator/,
    );
    assert.throws(
      () => resolveRlvrConfig({ output: 'o', model: 'm', data: { train: 't.jsonl' }, steps: 1, samplesPerPrompt: 1 }),
      /GRPO needs samplesPerPrompt ≥ 2/,
    );
  });
  it('reports bad rows with file and line, and renders prompts with the generation prompt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlvr-data-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    const tok = loadTokenizer(dir);
    const file = join(dir, 'rlvr.jsonl');
    const good = { messages: [{ role: 'user', content: 'hello' }], ground_truth: '4', dataset: 'gsm8k' };
    writeFileSync(
      file,
      [
        JSON.stringify(good),
        '{not json',
        JSON.stringify({ ...good, dataset: 'nope' }),
        JSON.stringify({ messages: good.messages, dataset: 'gsm8k' }),
      ].join('\n'),
    );
    assert.throws(
      () => loadRlvrPrompts([file], tok, { maxPromptTokens: 100 }),
      (e: Error) =>
        /rlvr\.jsonl:2: not valid JSON/.test(e.message) &&
        /rlvr\.jsonl:3: dataset: unknown verifier "nope"/.test(e.message) &&
        /rlvr\.jsonl:4: no "ground_truth"/.test(e.message),
    );
    const { prompts } = loadRlvrPrompts([file], tok, { maxPromptTokens: 100, badRows: 'skip' });
    assert.equal(prompts.length, 1);
    // The tiny tokenizer has no BOS token, so the template's bos_token renders as nothing.
    assert.equal(tok.decode(prompts[0].ids), '<|user|>\nhello\n<|assistant|>\n');
    assert.equal(loadRlvrPrompts([file], tok, { maxPromptTokens: 5, badRows: 'skip' }).dropped, 1);
  });
});
