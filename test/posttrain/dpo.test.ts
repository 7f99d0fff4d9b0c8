// DPO: both losses against hand-computed values (and their gradient), the reference log-probs computed once and
// cached, held-out preference accuracy raised clearly above chance on a tiny model, resume, config errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultBeta,
  dpoLoss,
  dpoLossValues,
  DpoTrainer,
  REFERENCE_CACHE_FILE,
  resolveDpoConfig,
  summarizePairs,
  type DpoConfigInput,
} from '../../src/posttrain/dpo/index.ts';
import { PosttrainConfigError } from '../../src/posttrain/common/index.ts';
import { backward, parameter, sum, tensor } from '../../src/tensor/index.ts';
import { dpoJsonl, writeTinyModel } from './posttrain-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-dpo-'));
after(() => rmSync(root, { recursive: true, force: true }));
before(() => {
  writeTinyModel(join(root, 'base'), 11);
  writeFileSync(join(root, 'train.jsonl'), dpoJsonl(160, 1));
  writeFileSync(join(root, 'test.jsonl'), dpoJsonl(40, 2));
});

const close = (a: number, b: number, tol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

describe('dpo loss', () => {
  it('standard sigmoid DPO on summed log-probs', () => {
    // z = 0.1 · [(−1 − (−1.5)) − (−2 − (−1.5))] = 0.1; loss = −log σ(0.1) = log(1 + e^−0.1).
    const v = dpoLossValues(-1, -2, -1.5, -1.5, 0.1);
    close(v.loss, 0.6443966600735709);
    close(v.chosenReward, 0.05);
    close(v.rejectedReward, -0.05);
    // Label smoothing 0.1: 0.9·log(1 + e^−0.1) + 0.1·log(1 + e^0.1).
    close(dpoLossValues(-1, -2, -1.5, -1.5, 0.1, 0.1).loss, 0.6543966600735709);
    assert.equal(defaultBeta('dpo'), 0.1);
  });

  it('length-normalised DPO (dpo_norm) on per-token means, β = 5 by default', () => {
    assert.equal(defaultBeta('dpo_norm'), 5);
    // chosen: Σ −6 over 3 tokens (mean −2), rejected: Σ −4 over 1 token (mean −4); reference means −3 and −3.
    // z = 5 · [(−2 + 3) − (−4 + 3)] = 10; loss = log(1 + e^−10).
    close(dpoLossValues(-6 / 3, -4 / 1, -9 / 3, -3 / 1, 5).loss, 4.539889921686465e-5, 1e-9);
    // The same sums without normalisation prefer the rejected reply: z = 5 · [(−6 + 9) − (−4 + 3)] = 20 → tiny loss,
    // while swapping roles gives z = −2: log(1 + e^2).
    close(dpoLossValues(-4 / 1, -6 / 3, -3 / 1, -9 / 3, 0.5 * 2).loss, 2.1269280110429727);
    // Large margins stay finite in both directions.
    assert.ok(Number.isFinite(dpoLossValues(0, -1000, 0, 0, 5).loss));
    close(dpoLossValues(-1000, 0, 0, 0, 5).loss, 5000);
  });

  it('the tensor loss matches the numbers and has gradient −β·σ(−z) for the chosen log-prob', () => {
    // The last pair starts where training starts, policy = reference (z = 0): the gradient there is −β/2, not 0.
    const pc = parameter(tensor(Float32Array.from([-1, -2, -1000, -7]), [4]));
    const pr = parameter(tensor(Float32Array.from([-2, -4, 0, -9]), [4]));
    const rc = tensor(Float32Array.from([-1.5, -3, 0, -7]), [4]);
    const rr = tensor(Float32Array.from([-1.5, -3, 0, -9]), [4]);
    const beta = 0.1;
    const losses = dpoLoss(pc, pr, rc, rr, beta);
    const expected = [
      dpoLossValues(-1, -2, -1.5, -1.5, beta),
      dpoLossValues(-2, -4, -3, -3, beta),
      dpoLossValues(-1000, 0, 0, 0, beta),
      dpoLossValues(-7, -9, -7, -9, beta),
    ];
    expected.forEach((e, i) => close(losses.f32()[i], e.loss, 1e-5));
    backward(sum(losses));
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const zs = [0.1, 0.2, -100, 0];
    zs.forEach((z, i) => {
      close(pc.grad!.f32()[i], -beta * sig(-z), 1e-5);
      close(pr.grad!.f32()[i], beta * sig(-z), 1e-5);
    });
    const s = summarizePairs(expected);
    close(s.reward_accuracy, 2.5 / 4); // a tie counts ½
    close(s.reward_margin, (0.1 + 0.2 - 100) / 4, 1e-5);
  });
});

function config(output: string, extra: Partial<DpoConfigInput> = {}): DpoConfigInput {
  return {
    output,
    initFrom: join(root, 'base'),
    data: { train: join(root, 'train.jsonl'), test: join(root, 'test.jsonl'), maxLength: 64 },
    seed: 1,
    epochs: 2,
    batchSize: 16,
    microBatchSize: 8,
    lr: 3e-3,
    warmupRatio: 0.1,
    checkpoint: { every: 100, keepLast: 1 },
    ...extra,
  };
}

function metrics(output: string): Record<string, number>[] {
  return readFileSync(join(output, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

const quiet = { progress: false, log: () => {} };

describe('dpo training', () => {
  it('dpo_norm raises held-out preference accuracy clearly above chance; reference log-probs are cached', () => {
    const out = join(root, 'norm');
    const logs: string[] = [];
    const r = new DpoTrainer(resolveDpoConfig(config(out), root), { progress: false, log: (l) => logs.push(l) }).run();
    assert.equal(r.referenceCache, 'computed');
    assert.equal(r.steps, 20); // 160 / 16 × 2 epochs
    assert.ok(r.before && r.after);
    assert.equal(r.before.reward_accuracy, 0.5, 'policy = reference: every margin is 0, a tie');
    assert.ok(r.after.reward_accuracy >= 0.8, `held-out reward accuracy ${r.after.reward_accuracy}`);
    assert.ok(
      r.after.policy_accuracy > r.before.policy_accuracy,
      `policy accuracy ${r.before.policy_accuracy} → ${r.after.policy_accuracy}`,
    );
    assert.ok(r.after.reward_margin > 0);
    const steps = metrics(out).filter((m) => m.loss !== undefined);
    close(steps[0].loss, Math.log(2), 1e-3); // first step: policy = reference
    for (const k of ['chosen_reward', 'rejected_reward', 'reward_accuracy', 'reward_margin', 'grad_norm', 'lr'])
      assert.ok(k in steps[0], k);
    assert.ok(steps[steps.length - 1].loss < steps[0].loss);
    const cache = JSON.parse(readFileSync(join(out, REFERENCE_CACHE_FILE), 'utf8'));
    assert.equal(cache.train.length, 160);
    assert.equal(cache.test.length, 40);
    // A second run with the same reference and data reuses the cache.
    // A fresh run refuses the folder of another run; with overwrite it moves that run aside and still reuses
    // the cache (the fingerprint matches).
    assert.throws(
      () => new DpoTrainer(resolveDpoConfig(config(out, { epochs: 1 }), root), quiet),
      /already holds a run with 20 steps[\s\S]*--resume[\s\S]*--overwrite/,
    );
    const again = new DpoTrainer(resolveDpoConfig(config(out, { epochs: 1 }), root), { ...quiet, overwrite: true });
    assert.equal(again.referenceCache, 'loaded');
    assert.deepEqual(again.testRef, cache.test);
  });

  it('standard sigmoid DPO trains too, and a stopped run resumes to identical metrics', () => {
    const cfg = (out: string) => resolveDpoConfig(config(out, { loss: 'dpo', epochs: 2 }), root);
    const full = new DpoTrainer(cfg(join(root, 'std')), quiet).run();
    assert.equal(cfg(join(root, 'std')).beta, 0.1);
    assert.ok(full.after!.reward_accuracy >= 0.75, `held-out reward accuracy ${full.after!.reward_accuracy}`);
    const out = join(root, 'std-resumed');
    assert.equal(new DpoTrainer(cfg(out), { ...quiet, maxSteps: 4 }).run().stopped, true);
    const resumed = new DpoTrainer(cfg(out), { ...quiet, resume: true });
    assert.equal(resumed.referenceCache, 'loaded');
    resumed.run();
    const a = metrics(join(root, 'std')).filter((m) => m.loss !== undefined);
    const b = metrics(out).filter((m) => m.loss !== undefined);
    assert.equal(b.length, a.length);
    b.forEach((m, i) => assert.equal(m.loss, a[i].loss, `step ${i + 1}`));
  });

  it('holds out a seeded fraction when there is no test file, and names bad fields', () => {
    const t = new DpoTrainer(
      resolveDpoConfig(
        config(join(root, 'split'), { data: { train: join(root, 'train.jsonl'), testFraction: 0.25, maxLength: 64 } }),
        root,
      ),
      quiet,
    );
    assert.equal(t.test.length, 40);
    assert.equal(t.train.length, 120);
    assert.throws(
      () => resolveDpoConfig({ ...config('x'), loss: 'simpo', beta: -1 }, root, 'dpo.yaml'),
      (e: Error) =>
        e instanceof PosttrainConfigError &&
        /dpo\.yaml: invalid DPO config/.test(e.message) &&
        /loss: Invalid enum value/.test(e.message) &&
        /beta: Number must be greater than 0/.test(e.message),
    );
    writeFileSync(join(root, 'bad.jsonl'), `${dpoJsonl(2, 5)}{"prompt": "q", "chosen": "a"}\n`);
    assert.throws(
      () =>
        new DpoTrainer(
          resolveDpoConfig(config(join(root, 'bad'), { data: { train: join(root, 'bad.jsonl') } }), root),
          quiet,
        ),
      /bad\.jsonl:3: no "rejected" field/,
    );
  });
});
