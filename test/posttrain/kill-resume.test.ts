// SFT, DPO and RLVR runs killed with SIGKILL mid-run and resumed with --resume end with the metrics of an
// uninterrupted run, bit for bit (the shared loop and checkpoint module, src/train/loop.ts and checkpoint.ts); a
// fresh run refuses a folder that holds another run of the stage.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSftConfig, SftTrainer } from '../../src/posttrain/sft/index.ts';
import { RlvrTrainer } from '../../src/posttrain/rlvr/index.ts';
import { RunFolderError } from '../../src/train/index.ts';
import { olmo } from '../cli/cli-helpers.ts';
import { killAndResume, metricLines, withoutTimings } from '../train/kill-resume.ts';
import { decodeDigits, fourPrompts, tinyModel, tinyRlvrConfig } from './rlvr/tiny.ts';
import { dpoJsonl, sftJsonl, writeTinyModel } from './posttrain-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-posttrain-kill-'));
after(() => rmSync(root, { recursive: true, force: true }));
before(() => {
  writeTinyModel(join(root, 'base'));
  writeFileSync(join(root, 'sft.jsonl'), sftJsonl(128, 1));
  writeFileSync(join(root, 'dpo.jsonl'), dpoJsonl(64, 1));
  const row = (q: string, a: string) =>
    JSON.stringify({ messages: [{ role: 'user', content: q }], ground_truth: a, dataset: 'gsm8k' });
  writeFileSync(
    join(root, 'rlvr.jsonl'),
    Array.from({ length: 8 }, (_, i) => row(`${i}+${i}`, String(2 * i))).join('\n'),
  );
});

/** Writes the config, runs it uninterrupted into `<name>-whole`, kills and resumes it in `<name>`, returns both metrics. */
async function compare(command: string, name: string, config: Record<string, unknown>, killAt: number, key: string) {
  const write = (out: string) => {
    const file = join(root, `${out}.json`);
    writeFileSync(file, JSON.stringify({ ...config, output: join(root, out) }));
    return file;
  };
  const whole = olmo([command, '--config', write(`${name}-whole`)]);
  assert.equal(whole.code, 0, whole.stderr);
  const resumed = await killAndResume(command, write(name), join(root, name), killAt, key);
  return { resumed: withoutTimings(resumed), whole: withoutTimings(metricLines(join(root, `${name}-whole`))) };
}

const common = {
  initFrom: join(root, 'base'),
  seed: 3,
  epochs: 1,
  batchSize: 2,
  microBatchSize: 2,
  lr: 3e-3,
  warmupRatio: 0.1,
  checkpoint: { every: 2, keepLast: 2 },
};

describe('resume after SIGKILL', () => {
  it('SFT ends bit-identical to an uninterrupted run', async () => {
    const { resumed, whole } = await compare(
      'sft',
      'sft',
      { ...common, data: { train: join(root, 'sft.jsonl'), maxLength: 64 } },
      5,
      'loss',
    );
    assert.equal(whole.filter((m) => 'loss' in m).length, 64);
    assert.deepEqual(resumed, whole);
  });

  it('DPO ends bit-identical to an uninterrupted run', async () => {
    const { resumed, whole } = await compare(
      'dpo',
      'dpo',
      { ...common, data: { train: join(root, 'dpo.jsonl'), maxLength: 64 } },
      5,
      'loss',
    );
    assert.equal(whole.filter((m) => 'loss' in m).length, 32);
    assert.deepEqual(resumed, whole);
  });

  it('RLVR ends bit-identical to an uninterrupted run', async () => {
    const config = {
      model: join(root, 'base'),
      data: { train: join(root, 'rlvr.jsonl') },
      seed: 3,
      steps: 24,
      promptsPerStep: 2,
      samplesPerPrompt: 2,
      lr: 1e-3,
      generation: { maxNewTokens: 4 },
      checkpoint: { every: 2, keepLast: 2 },
    };
    const { resumed, whole } = await compare('rlvr', 'rlvr', config, 5, 'mean_reward');
    assert.equal(whole.filter((m) => 'mean_reward' in m).length, 24);
    assert.deepEqual(resumed, whole);
  });
});

describe('a fresh post-training run into another run’s folder', () => {
  it('SFT and RLVR refuse it, naming the folder and the run', () => {
    const sftOut = join(root, 'sft-whole');
    const cfg = resolveSftConfig(
      { ...common, output: sftOut, data: { train: join(root, 'sft.jsonl'), maxLength: 64 } },
      root,
    );
    assert.throws(
      () => new SftTrainer(cfg, { progress: false, log: () => {} }),
      (e: Error) => e instanceof RunFolderError && e.message.startsWith(`${sftOut} already holds a run with 64 steps`),
    );
    const rlvrOut = join(root, 'rlvr-whole');
    assert.throws(
      () =>
        new RlvrTrainer(tinyRlvrConfig(), {
          policy: tinyModel(),
          reference: tinyModel(),
          train: fourPrompts(4),
          decode: decodeDigits,
          eosTokenIds: [0],
          output: rlvrOut,
          log: () => {},
        }),
      (e: Error) =>
        e instanceof RunFolderError &&
        e.message.startsWith(`${rlvrOut} already holds a run with 24 steps`) &&
        /--overwrite/.test(e.message),
    );
  });
});
