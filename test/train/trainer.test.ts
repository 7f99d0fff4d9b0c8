// The trainer: two stages on a tiny corpus lower the loss; a run killed with SIGKILL (at a random moment,
// also while a checkpoint is being written) resumes to bit-identical losses; bad configs are refused with clear
// messages; a bit-flipped newest checkpoint is set aside and the run resumes from the one before it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  listCheckpoints,
  loadCheckpoint,
  resolveTrainConfig,
  Trainer,
  TrainConfigError,
  CheckpointCorruptError,
  soup,
} from '../../src/train/index.ts';
import { loadModel } from '../../src/models/index.ts';
import { makeTrainFixture, tinyTrainConfig } from './train-fixture.ts';
import { killAndResume, withoutTimings } from './kill-resume.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-train-'));
after(() => rmSync(root, { recursive: true, force: true }));
before(async () => {
  await makeTrainFixture(root);
});

function losses(output: string): Record<string, unknown>[] {
  return readFileSync(join(output, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

describe('trainer', () => {
  it('trains two stages: the loss falls, the anneal continues from the pretraining LR to 0, checkpoints are kept', () => {
    const out = join(root, 'run-a');
    const cfg = resolveTrainConfig(tinyTrainConfig(root, out), root);
    const result = new Trainer(cfg, { progress: false, log: () => {} }).train();
    assert.equal(result.steps, 30);
    const m = losses(out).filter((r) => r.loss !== undefined) as unknown as {
      loss: number;
      lr: number;
      stage: string;
    }[];
    const first = m.slice(0, 3).reduce((a, r) => a + r.loss, 0) / 3;
    const last = m.slice(-3).reduce((a, r) => a + r.loss, 0) / 3;
    assert.ok(last < first * 0.7, `loss ${first} → ${last}`);
    const pre = m.filter((r) => r.stage === 'pretrain');
    const ann = m.filter((r) => r.stage === 'anneal');
    assert.equal(pre.length, 24);
    assert.equal(ann.length, 6);
    assert.ok(
      Math.abs(ann[0].lr - pre[pre.length - 1].lr) / pre[pre.length - 1].lr < 0.2,
      'anneal starts near the final pretraining LR',
    );
    assert.ok(ann[ann.length - 1].lr < ann[0].lr / 3, 'anneal decays towards 0');
    assert.ok(result.finalValLoss !== null && result.finalValLoss < first);
    assert.equal(listCheckpoints(out).length, 2, 'keepLast 2');
    for (const dir of ['final', 'stages/pretrain', 'stages/anneal'])
      assert.ok(existsSync(join(out, dir, 'config.json')), dir);
    const resolved = JSON.parse(readFileSync(join(out, 'config.resolved.json'), 'utf8'));
    assert.equal(resolved.config.seed, 1);
    assert.ok(resolved.version);
  });

  it('horizonScale stops stage 1 before the end of its cosine (OLMo 2), and the anneal decays from there', () => {
    const out = join(root, 'run-horizon');
    const input = tinyTrainConfig(root, out);
    input.data.stages[0].optim = { lr: 3e-3, schedule: 'cosine', warmupSteps: 4, horizonScale: 1.25 };
    input.validation = { every: 100, batches: 1 };
    const cfg = resolveTrainConfig(input, root);
    new Trainer(cfg, { progress: false, log: () => {} }).train();
    const m = losses(out).filter((r) => r.loss !== undefined) as unknown as { lr: number; stage: string }[];
    const pre = m.filter((r) => r.stage === 'pretrain');
    // 24 steps of a 30-step horizon: lr at step index 23 = 0.1·peak + 0.9·peak·(1 + cos(π·19/26))/2.
    const expected = 3e-4 + (2.7e-3 * (1 + Math.cos((Math.PI * 19) / 26))) / 2;
    assert.ok(Math.abs(pre[23].lr - expected) < 1e-12, `${pre[23].lr} vs ${expected}`);
    const ann = m.filter((r) => r.stage === 'anneal');
    assert.ok(Math.abs(ann[0].lr - pre[23].lr) / pre[23].lr < 0.2, 'the anneal starts from the truncated stage-1 LR');
  });

  // Step 5's metrics line is written just before its checkpoint, so the first kill lands in (or around) the
  // checkpoint write; the second lands at a random later step.
  for (const [label, target] of [
    ['during a checkpoint write', 5],
    ['at a random step', 6 + Math.floor(Math.random() * 20)],
  ] as const) {
    it(`resumes after SIGKILL ${label} with bit-identical losses`, async () => {
      const configPath = join(root, `kill-${target}.json`);
      const out = join(root, `run-kill-${target}`);
      writeFileSync(configPath, JSON.stringify(tinyTrainConfig(root, out)));
      const resumed = await killAndResume('train', configPath, out, target, 'loss');
      assert.deepEqual(withoutTimings(resumed), withoutTimings(losses(join(root, 'run-a'))));
    });
  }

  it('rejects bad configs before any work, naming the field', () => {
    const good = tinyTrainConfig(root, join(root, 'never'));
    assert.throws(
      () => resolveTrainConfig({ ...good, globalBatchTokens: 50 }, root),
      (e: Error) =>
        e instanceof TrainConfigError &&
        /globalBatchTokens: must be a multiple of sequenceLength × microBatchInstances = 32, got 50/.test(e.message),
    );
    assert.throws(
      () => resolveTrainConfig({ ...good, model: { ...good.model, model_type: 'gpt2' } }, root),
      /unsupported model_type "gpt2"/,
    );
    const data = good.data as unknown as { stages: Record<string, unknown>[] };
    assert.throws(
      () =>
        resolveTrainConfig({ ...good, data: { ...data, stages: [{ ...data.stages[0], optim: { lr: -1 } }] } }, root),
      /data\.stages\.0\.optim\.lr/,
    );
    assert.throws(() => resolveTrainConfig({ ...good, optimizer: { betas: [0.9, 1.5] } }, root), /optimizer\.betas\.1/);
    assert.throws(() => resolveTrainConfig({ ...good, bogus: 1 }, root), /Unrecognized key\(s\) in object: 'bogus'/);
    assert.throws(
      () => resolveTrainConfig({ ...good, schedules: { warmup: { lr: 1 } } }, root),
      /schedules\.warmup: no stage of that name \(stages: pretrain, anneal\)/,
    );
    assert.throws(
      () => resolveTrainConfig({ ...good, data: join(root, 'missing-data-config.json') }, root),
      /cannot read the data config .*missing-data-config\.json/,
    );
    assert.ok(!existsSync(join(root, 'never')));
  });

  it('falls back from a bit-flipped newest checkpoint to the one before it, naming both, and ends as an uninterrupted run', () => {
    const out = join(root, 'run-corrupt');
    const cfg = resolveTrainConfig(tinyTrainConfig(root, out), root);
    new Trainer(cfg, { progress: false, log: () => {}, maxSteps: 10 }).train();
    const [older, latest] = listCheckpoints(out);
    assert.ok(older.endsWith('step-0000005') && latest.endsWith('step-0000010'), `${older} ${latest}`);
    // One flipped bit, same size: only the checksum can tell.
    const file = join(latest, 'optimizer.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 0x10;
    writeFileSync(file, bytes);
    assert.throws(
      () => loadCheckpoint(latest, 'pretrain'),
      (e: Error) => e instanceof CheckpointCorruptError && e.message.includes(file) && /sha256/.test(e.message),
    );
    const logs: string[] = [];
    const r = new Trainer(cfg, { resume: true, progress: false, log: (l) => logs.push(l) }).train();
    assert.equal(r.steps, 30);
    const warning = logs.find((l) => l.startsWith('warning: checkpoint'));
    assert.ok(warning && warning.includes(latest) && warning.includes(older), logs.join('\n'));
    assert.ok(existsSync(`${latest}.corrupt`), 'the corrupt checkpoint is set aside');
    assert.deepEqual(withoutTimings(losses(out)), withoutTimings(losses(join(root, 'run-a'))));
    // An interrupted write (a temp folder) is never taken for a checkpoint.
    cpSync(listCheckpoints(out)[0], join(out, 'checkpoints', '.tmp-step-0000099-1'), { recursive: true });
    assert.equal(listCheckpoints(out).length, 2);
  });

  it('soups checkpoints into their average', () => {
    const out = join(root, 'soup');
    soup([join(root, 'run-a', 'stages', 'pretrain'), join(root, 'run-a', 'stages', 'anneal')], out);
    const a = new Map(loadModel(join(root, 'run-a', 'stages', 'pretrain')).namedParameters());
    const b = new Map(loadModel(join(root, 'run-a', 'stages', 'anneal')).namedParameters());
    for (const [name, p] of loadModel(out).namedParameters()) {
      const x = a.get(name)!.f32();
      const y = b.get(name)!.f32();
      p.f32().forEach((v, i) => assert.equal(v, Math.fround((x[i] + y[i]) / 2), name));
    }
    assert.throws(
      () =>
        soup(
          [join(root, 'run-a', 'final'), join(import.meta.dirname, '..', 'fixtures', 'olmo2', 'model')],
          join(root, 'bad-soup'),
        ),
      /soup: parameter .* has shape/,
    );
  });
});
