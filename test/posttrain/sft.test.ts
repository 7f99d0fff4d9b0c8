// SFT on a tiny model: held-out assistant loss falls and exact match rises; packing changes nothing but the
// grouping; sum and mean reductions scale the objective as specified; a stopped run resumes to identical metrics;
// configs with bad fields name them; bad data rows name their file and line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSftConfig, resolveSftConfig, SftTrainer, type SftConfigInput } from '../../src/posttrain/sft/index.ts';
import { PosttrainConfigError } from '../../src/posttrain/common/index.ts';
import { loadModel } from '../../src/models/index.ts';
import { sftJsonl, writeTinyModel } from './posttrain-fixture.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-sft-'));
after(() => rmSync(root, { recursive: true, force: true }));
before(() => {
  writeTinyModel(join(root, 'base'));
  writeFileSync(join(root, 'train.jsonl'), sftJsonl(192, 1));
  writeFileSync(join(root, 'test.jsonl'), sftJsonl(24, 2));
});

function config(output: string, extra: Partial<SftConfigInput> = {}): SftConfigInput {
  return {
    output,
    initFrom: join(root, 'base'),
    data: { train: join(root, 'train.jsonl'), test: join(root, 'test.jsonl'), maxLength: 64 },
    seed: 1,
    epochs: 6,
    batchSize: 16,
    microBatchSize: 8,
    lr: 3e-3,
    warmupRatio: 0.1,
    reduction: 'mean',
    checkpoint: { every: 10, keepLast: 2 },
    eval: { exactMatchExamples: 24, maxNewTokens: 8 },
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

describe('sft', () => {
  it('lowers the held-out assistant loss and raises exact match', () => {
    const out = join(root, 'run');
    const r = new SftTrainer(resolveSftConfig(config(out), root), quiet).run();
    assert.equal(r.steps, 72); // 192 / 16 × 6 epochs
    assert.ok(r.before && r.after);
    assert.ok(
      r.after.eval_loss < r.before.eval_loss * 0.5,
      `held-out loss ${r.before.eval_loss} → ${r.after.eval_loss}`,
    );
    assert.equal(r.before.exact_match, 0);
    assert.ok(r.after.exact_match! >= 0.5, `exact match ${r.after.exact_match}`);
    assert.ok(existsSync(join(out, 'final', 'tokenizer.json')), 'the final folder carries the tokenizer');
    loadModel(join(out, 'final'));
    const evalJson = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    assert.equal(evalJson.after.eval_loss, r.after.eval_loss);
    const steps = metrics(out).filter((m) => m.loss !== undefined);
    assert.equal(steps.length, 72);
    assert.ok(steps[0].lr < steps[3].lr, 'warmup');
    assert.ok(steps[71].lr < steps[10].lr / 20, 'linear decay');
    const resolved = JSON.parse(readFileSync(join(out, 'config.resolved.json'), 'utf8'));
    assert.equal(resolved.config.seed, 1);
  });

  it('packing groups sequences by length without changing the loss; sum reduction divides by sequences', () => {
    const base = new SftTrainer(resolveSftConfig(config(join(root, 'unpacked'), { epochs: 1 }), root), quiet);
    base.run();
    const packed = new SftTrainer(
      resolveSftConfig(config(join(root, 'packed'), { epochs: 1, packing: true, packingTokens: 256 }), root),
      quiet,
    );
    packed.run();
    const a = metrics(join(root, 'unpacked')).filter((m) => m.loss !== undefined);
    const b = metrics(join(root, 'packed')).filter((m) => m.loss !== undefined);
    assert.equal(a.length, b.length);
    a.forEach((m, i) =>
      assert.ok(Math.abs(m.loss - b[i].loss) < 1e-3 * Math.max(1, m.loss), `step ${i + 1}: ${m.loss} vs ${b[i].loss}`),
    );
    const sum = metrics(join(root, 'run')).length; // (sanity: the first run wrote its metrics)
    assert.ok(sum > 0);
    const s = new SftTrainer(
      resolveSftConfig(config(join(root, 'sum'), { epochs: 1, reduction: 'sum', lr: 5e-5 }), root),
      quiet,
    );
    s.run();
    const m = metrics(join(root, 'sum')).filter((x) => x.loss !== undefined);
    for (const x of m) assert.ok(Math.abs(x.objective - (x.loss * x.label_tokens) / x.sequences) < 1e-6 * x.objective);
    for (const x of a) assert.ok(Math.abs(x.objective - x.loss) < 1e-9);
  });

  it('resumes a stopped run to identical metrics', () => {
    const ref = metrics(join(root, 'unpacked')).filter((m) => m.loss !== undefined);
    const out = join(root, 'resumed');
    const cfg = resolveSftConfig(config(out, { epochs: 1, checkpoint: { every: 100, keepLast: 1 } }), root);
    const first = new SftTrainer(cfg, { ...quiet, maxSteps: 5 }).run();
    assert.equal(first.stopped, true);
    const second = new SftTrainer(cfg, { ...quiet, resume: true }).run();
    assert.equal(second.steps, 12);
    assert.ok(second.before, 'the before-evaluation survives the resume');
    const got = metrics(out).filter((m) => m.loss !== undefined);
    assert.equal(got.length, ref.length);
    got.forEach((m, i) => assert.equal(m.loss, ref[i].loss, `step ${i + 1}`));
  });

  it('names bad config fields and bad data rows', () => {
    assert.throws(
      () =>
        resolveSftConfig(
          { ...config(join(root, 'x')), reduction: 'avg', batchSize: 0, data: { train: 't.jsonl', maxLenght: 5 } },
          root,
          'sft.yaml',
        ),
      (e: Error) =>
        e instanceof PosttrainConfigError &&
        /sft\.yaml: invalid SFT config/.test(e.message) &&
        /reduction: Invalid enum value/.test(e.message) &&
        /batchSize: /.test(e.message) &&
        /data: Unrecognized key\(s\) in object: 'maxLenght'/.test(e.message),
    );
    const yaml = join(root, 'cfg.yaml');
    writeFileSync(yaml, `output: out\ninitFrom: base\ndata:\n  train: bad.jsonl\n`);
    writeFileSync(join(root, 'bad.jsonl'), `${sftJsonl(2, 3)}{"messages": "hi"}\n`);
    const cfg = loadSftConfig(yaml);
    assert.equal(cfg.initFrom, join(root, 'base'), 'paths resolve against the config folder');
    assert.equal(cfg.reduction, 'sum', 'Tülu 3 default');
    assert.equal(cfg.lr, 5e-6);
    assert.throws(
      () => new SftTrainer(cfg, quiet),
      /bad\.jsonl:3: messages: expected a list of \{role, content\} messages, got "hi"/,
    );
  });
});
