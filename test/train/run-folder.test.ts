// Run folders hold one run (issue 15): a fresh run refuses a folder holding another and --overwrite moves that
// run aside; a resume compares the config with the checkpoint's (refusing what cannot change, applying the rest
// only when allowed, with a history entry); metrics.jsonl is cut back by rename, never rewritten in place; the
// temporaries of a killed run are removed; configs are checked against their files before step 1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigChangeError,
  HISTORY_FILE,
  listCheckpoints,
  resolveTrainConfig,
  RunFolderError,
  Trainer,
  TrainConfigError,
  type TrainConfigInput,
} from '../../src/train/index.ts';
import { makeTrainFixture, tinyTrainConfig } from './train-fixture.ts';
import { metricLines } from './kill-resume.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-runfolder-'));
after(() => rmSync(root, { recursive: true, force: true }));
before(async () => {
  await makeTrainFixture(root);
});

const quiet = { progress: false, log: () => {} };

/** 8 steps (6 + 2), checkpoints every 3. */
function shortConfig(out: string, edit: (c: ReturnType<typeof tinyTrainConfig>) => void = () => {}): TrainConfigInput {
  const c = tinyTrainConfig(root, out);
  c.data.stages[0].tokens = 64 * 6;
  c.data.stages[1].tokens = 64 * 2;
  c.checkpoint = { every: 3, keepLast: 2 };
  c.validation = { every: 100, batches: 1 };
  edit(c);
  return c;
}

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid;

describe('run folders', () => {
  it('a fresh run refuses a folder holding another run, naming it; --overwrite moves that run aside whole', () => {
    const out = join(root, 'splice');
    const cfg = resolveTrainConfig(shortConfig(out), root);
    new Trainer(cfg, { ...quiet, maxSteps: 4 }).train();
    const before = readFileSync(join(out, 'metrics.jsonl'));
    assert.throws(
      () => new Trainer(cfg, quiet),
      (e: Error) =>
        e instanceof RunFolderError &&
        e.message.startsWith(
          `${out} already holds a run with 4 steps in metrics.jsonl, checkpoints step-0000003, step-0000004, last written 20`,
        ) &&
        /--resume/.test(e.message) &&
        /--overwrite/.test(e.message),
    );
    assert.deepEqual(readFileSync(join(out, 'metrics.jsonl')), before, 'the refused run touched nothing');
    const r = new Trainer(cfg, { ...quiet, overwrite: true }).train();
    assert.equal(r.steps, 8);
    const aside = readdirSync(root).filter((n) => n.startsWith('splice.old-'));
    assert.equal(aside.length, 1);
    assert.deepEqual(
      readFileSync(join(root, aside[0], 'metrics.jsonl')),
      before,
      'the old run is intact beside the new one',
    );
    assert.deepEqual(
      metricLines(out)
        .filter((m) => 'loss' in m)
        .map((m) => m.step),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.deepEqual(
      listCheckpoints(out).map((c) => c.slice(-12)),
      ['step-0000006', 'step-0000008'],
    );
  });

  it('resume refuses config changes that cannot apply, naming each field old → new', () => {
    const out = join(root, 'shape');
    new Trainer(resolveTrainConfig(shortConfig(out), root), { ...quiet, maxSteps: 3 }).train();
    const changed = resolveTrainConfig(
      shortConfig(out, (c) => {
        c.model = { ...c.model, hidden_size: 48 };
        c.seed = 9;
      }),
      root,
    );
    assert.throws(
      () => new Trainer(changed, { ...quiet, resume: true, allowConfigChange: true }),
      (e: Error) =>
        e instanceof ConfigChangeError &&
        /model\.hidden_size: 32 → 48/.test(e.message) &&
        /seed: 1 → 9/.test(e.message) &&
        e.message.includes(join(out, 'checkpoints', 'step-0000003')),
    );
  });

  it('resume applies changes that can apply only with allowConfigChange, and records them in history.jsonl', () => {
    const out = join(root, 'lr');
    new Trainer(resolveTrainConfig(shortConfig(out), root), { ...quiet, maxSteps: 3 }).train();
    const changed = resolveTrainConfig(
      shortConfig(out, (c) => {
        c.data.stages[0].optim = { lr: 1e-3, schedule: 'cosine', warmupSteps: 4 };
        c.checkpoint = { every: 3, keepLast: 3 };
      }),
      root,
    );
    assert.throws(
      () => new Trainer(changed, { ...quiet, resume: true }),
      (e: Error) =>
        e instanceof ConfigChangeError &&
        /stageSchedules\.0\.lr: 0\.003 → 0\.001/.test(e.message) &&
        /checkpoint\.keepLast: 2 → 3/.test(e.message) &&
        /--allow-config-change/.test(e.message),
    );
    const logs: string[] = [];
    const r = new Trainer(changed, {
      progress: false,
      log: (l) => logs.push(l),
      resume: true,
      allowConfigChange: true,
    }).train();
    assert.equal(r.steps, 8);
    const history = readFileSync(join(out, HISTORY_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      history.some((h) => h.step === 3 && h.field === 'stageSchedules.0.lr' && h.old === 3e-3 && h.new === 1e-3),
      JSON.stringify(history),
    );
    assert.ok(logs.some((l) => l.includes('config change from step 4: stageSchedules.0.lr 0.003 → 0.001')));
    const resolved = JSON.parse(readFileSync(join(out, 'config.resolved.json'), 'utf8')) as {
      config: { stageSchedules: { lr: number }[] };
    };
    assert.equal(resolved.config.stageSchedules[0].lr, 1e-3);
    const lr4 = metricLines(out).find((m) => m.step === 4 && 'lr' in m)!.lr as number;
    assert.ok(lr4 <= 1e-3, `step 4 runs at the new peak: lr ${lr4}`);
  });

  it('a resume cuts metrics.jsonl back by rename and removes the temporaries a killed run left', () => {
    const out = join(root, 'atomic');
    const cfg = resolveTrainConfig(shortConfig(out), root);
    new Trainer(cfg, { ...quiet, maxSteps: 4 }).train();
    // Lines of steps the checkpoint does not cover (a kill after step 5's line) are dropped on resume.
    writeFileSync(
      join(out, 'metrics.jsonl'),
      `${readFileSync(join(out, 'metrics.jsonl'), 'utf8')}{"step":5,"loss":1}\n`,
    );
    const pid = deadPid();
    const stale = [
      join(out, `.metrics.jsonl.tmp-${pid}-0a1b2c`),
      join(out, 'checkpoints', `.step-0000006.tmp-${pid}-0a1b2c`),
      join(out, 'checkpoints', `.tmp-step-0000006-${pid}`),
    ];
    writeFileSync(stale[0], 'partial');
    mkdirSync(stale[1]);
    writeFileSync(join(stale[1], 'optimizer.safetensors'), 'partial');
    mkdirSync(stale[2]);
    const live = join(out, 'checkpoints', `.step-0000007.tmp-${process.pid}-0a1b2c`);
    mkdirSync(live);
    const inode = statSync(join(out, 'metrics.jsonl')).ino;
    const logs: string[] = [];
    new Trainer(cfg, { progress: false, log: (l) => logs.push(l), resume: true, maxSteps: 0 }).train();
    assert.notEqual(
      statSync(join(out, 'metrics.jsonl')).ino,
      inode,
      'a new file renamed into place, not the old one rewritten',
    );
    assert.deepEqual(
      metricLines(out).map((m) => m.step),
      [1, 2, 3, 4],
    );
    for (const s of stale) assert.ok(!existsSync(s), `${s} removed`);
    assert.ok(existsSync(live), "a live process's temporary is left alone");
    assert.ok(
      logs.some((l) => l.startsWith('removed 3 temporary file(s) left by an interrupted run')),
      logs.join('\n'),
    );
  });
});

describe('pre-flight checks', () => {
  it('refuses a missing validation path, a tokenizer that does not exist and sequenceLength above max_position_embeddings', () => {
    const out = join(root, 'never');
    const missing = join(root, 'tokens', 'nope');
    assert.throws(
      () =>
        resolveTrainConfig(
          shortConfig(out, (c) => (c.data.validation = { paths: [missing] })),
          root,
          'train.yaml',
        ),
      (e: Error) =>
        e instanceof TrainConfigError &&
        e.message.includes(
          `train.yaml: data: validation.paths.0: ${missing} does not exist (expected a token file or a folder of them)`,
        ),
    );
    assert.throws(
      () =>
        resolveTrainConfig(
          shortConfig(out, (c) => (c.data.tokenizer = join(root, 'no-tokenizer'))),
          root,
          'train.yaml',
        ),
      (e: Error) =>
        e instanceof TrainConfigError &&
        e.message.includes(
          `train.yaml: data: tokenizer: expected "dolma2" or a folder with tokenizer.json, got ${join(root, 'no-tokenizer')} (it does not exist)`,
        ),
    );
    assert.throws(
      () =>
        resolveTrainConfig(
          shortConfig(out, (c) => (c.model = { ...c.model, max_position_embeddings: 8 })),
          root,
          'train.yaml',
        ),
      (e: Error) =>
        e instanceof TrainConfigError &&
        e.message.includes(
          "train.yaml: data: sequenceLength: must be at most the model's max_position_embeddings 8 (train.yaml: model), got 16",
        ),
    );
    // A training step that cannot fit in memory is refused before the model is built.
    const limit = process.env.OLMO_MEMORY_LIMIT;
    process.env.OLMO_MEMORY_LIMIT = '64KiB';
    try {
      assert.throws(
        () => resolveTrainConfig(shortConfig(out), root, 'train.yaml'),
        (e: Error) =>
          e instanceof TrainConfigError &&
          /train\.yaml: microBatchInstances: a training step of \d+ × 16 tokens on train\.yaml: model needs .* more than the 64\.0 KiB available/.test(
            e.message,
          ),
      );
    } finally {
      if (limit === undefined) delete process.env.OLMO_MEMORY_LIMIT;
      else process.env.OLMO_MEMORY_LIMIT = limit;
    }
    // A data-config file is named as the place of its fields.
    const dataFile = join(root, 'data-config.json');
    const { data } = shortConfig(out) as { data: Record<string, unknown> };
    writeFileSync(
      dataFile,
      JSON.stringify({
        ...data,
        stages: (data.stages as Record<string, unknown>[]).map(({ optim: _o, ...s }) => s),
        validation: { paths: [missing] },
      }),
    );
    assert.throws(
      () =>
        resolveTrainConfig(
          { ...shortConfig(out), data: dataFile, schedules: { pretrain: { lr: 1e-3 }, anneal: { lr: 'previous' } } },
          root,
          'train.yaml',
        ),
      (e: Error) => e.message.includes(`data config ${dataFile}: validation.paths.0: ${missing} does not exist`),
    );
    assert.ok(!existsSync(out));
  });
});
