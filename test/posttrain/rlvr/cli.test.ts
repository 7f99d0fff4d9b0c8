// `olmo rlvr --config FILE` (the command object; main.ts registers it): a one-step GRPO run on a saved tiny model
// writes metrics, a checkpoint, the final model and summary.json; a bad config names the field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rlvrCommand } from '../../../src/cli/rlvr.ts';
import { initModel, parseConfig, saveModel } from '../../../src/models/index.ts';
import { truncatedNormalInit } from '../../../src/nn/index.ts';
import { Generator } from '../../../src/tensor/index.ts';
import { tinyTokenizerJson } from '../../tokenizers/tiny-tokenizer.ts';

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const ewrite = process.stderr.write.bind(process.stderr);
  let out = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return { value: await fn(), stdout: out };
  } finally {
    process.stdout.write = write;
    process.stderr.write = ewrite;
  }
}

describe('olmo rlvr', () => {
  it('runs GRPO from a config file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rlvr-cli-'));
    const tokDir = join(root, 'tok');
    mkdirSync(tokDir);
    writeFileSync(join(tokDir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    writeFileSync(
      join(tokDir, 'tokenizer_config.json'),
      JSON.stringify({ eos_token: '<|endoftext|>', pad_token: '<|padding|>' }),
    );
    const cfg = parseConfig(
      {
        model_type: 'olmo2',
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        vocab_size: 268,
        max_position_embeddings: 128,
        eos_token_id: 0,
        pad_token_id: 1,
      },
      'tiny',
    );
    saveModel(initModel(cfg, truncatedNormalInit(new Generator(2), 0.02)), join(root, 'model'), {
      tokenizerFrom: tokDir,
    });
    const row = (q: string, a: string) =>
      JSON.stringify({ messages: [{ role: 'user', content: q }], ground_truth: a, dataset: 'gsm8k' });
    writeFileSync(join(root, 'train.jsonl'), [row('2+2', '4'), row('3+3', '6')].join('\n'));
    writeFileSync(join(root, 'test.jsonl'), row('1+1', '2'));
    writeFileSync(
      join(root, 'rlvr.yaml'),
      [
        'output: run',
        'model: model',
        'data: {train: train.jsonl, test: test.jsonl}',
        'steps: 1',
        'promptsPerStep: 2',
        'samplesPerPrompt: 2',
        'lr: 1.0e-3',
        'generation: {maxNewTokens: 4}',
      ].join('\n'),
    );
    const { value: code, stdout } = await quiet(() => rlvrCommand.run(['--config', join(root, 'rlvr.yaml')]));
    assert.equal(code, 0);
    const res = JSON.parse(stdout.trim()) as {
      steps: number;
      heldout_verified_rate_before: number;
      heldout_paired: { n: number; fixed: number; broken: number; pValue: number };
    };
    assert.equal(res.steps, 1);
    assert.equal(typeof res.heldout_verified_rate_before, 'number');
    // Before and after on the same held-out prompt, compared item by item.
    assert.equal(res.heldout_paired.n, 1);
    assert.ok(res.heldout_paired.fixed + res.heldout_paired.broken <= 1 && res.heldout_paired.pValue === 1);
    const summary = JSON.parse(readFileSync(join(root, 'run', 'summary.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual(summary.heldout_paired, res.heldout_paired);
    assert.equal(summary.heldout_before.outcomes, undefined, 'per-prompt outcomes stay out of summary.json');
    for (const f of [
      'metrics.jsonl',
      'summary.json',
      'config.resolved.json',
      'final/config.json',
      'final/tokenizer.json',
      'checkpoints/step-0000001/train_state.json',
    ]) {
      assert.ok(existsSync(join(root, 'run', f)), f);
    }
    const metrics = readFileSync(join(root, 'run', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const step = metrics.find((m) => m.step === 1 && 'mean_reward' in m)!;
    for (const k of ['mean_reward', 'verified_rate', 'kl', 'response_length'])
      assert.equal(typeof step[k], 'number', k);
    assert.ok(
      metrics.every((m) => !('eval_outcomes' in m)),
      'metrics lines hold rates, not per-prompt outcomes',
    );
  });

  it('names a bad field and requires --config', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rlvr-cli-bad-'));
    writeFileSync(
      join(root, 'bad.yaml'),
      'output: run\nmodel: m\ndata: {train: t.jsonl}\nsteps: 1\nalgorithm: reinforce\n',
    );
    await assert.rejects(
      () => rlvrCommand.run(['--config', join(root, 'bad.yaml')]),
      /bad\.yaml: invalid RLVR config:[\s\S]*algorithm/,
    );
    await assert.rejects(() => rlvrCommand.run([]), /--config FILE is required/);
  });
});
