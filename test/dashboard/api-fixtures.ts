// Fixture folders for the dashboard API tests, written with the real writers where they are cheap (MetricsLog, the
// train-state envelope, oe-eval's file names and record types) into a temporary root:
//   runs/pre      a pretrain → anneal run: metrics, config.resolved.json, one checkpoint with its model folder
//   runs/broken   no config, a truncated line in the middle of metrics.jsonl and a half-written last line
//   evals/a, b    one task of 6 docs scored by two models (a: docs 0–2 right; b: docs 0, 1, 3, 4, 5) and a suite
//   evals/bad     metrics.json that is not JSON
//   models/tiny   the tiny OLMo 2 test checkpoint
//   qs            a quickstart-like folder with report.html
// and, outside the root, a secret file that a symlink inside the root points to.
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PredictionRecord, RequestRecord, RunMetricsFile } from '../../src/eval/runner/outputs.ts';
import { checkpointName, MetricsLog, type CheckpointState } from '../../src/train/index.ts';
import { STATE_FORMAT, STATE_VERSION } from '../../src/train/checkpoint.ts';
import { taskFileName } from '../../src/eval/index.ts';

const FIXTURE_MODEL = join(import.meta.dirname, '..', 'fixtures', 'olmo2', 'model');
export const TASK = 'toy:rc';
export const CONTEXT = 'Question: what colour is the sky?\nAnswer:';

function copyModel(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(FIXTURE_MODEL, f), join(dir, f));
}

export function pretrainRows(): object[] {
  const rows: object[] = [];
  for (let step = 1; step <= 6; step++) {
    const stage = step <= 4 ? 'pretrain' : 'anneal';
    rows.push({ step, stage, lr: 1e-3, loss: 7 - step / 10, z_loss: 1e-4, grad_norm: 1.5, tokens: step * 4096 });
    if (step === 4) rows.push({ step, stage, val_loss: 6.8 });
  }
  return rows;
}

function writePretrainRun(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const log = new MetricsLog(dir);
  log.reset();
  for (const r of pretrainRows()) log.write(r);
  const config = { globalBatchTokens: 4096, seed: 1, model: { model_type: 'olmo2' } };
  writeFileSync(
    join(dir, 'config.resolved.json'),
    JSON.stringify({ config, version: '0.1.0', commit: 'abc', threads: 2 }),
  );
  const ckpt = join(dir, 'checkpoints', checkpointName(6));
  copyModel(join(ckpt, 'model'));
  const state: CheckpointState = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    kind: 'pretrain',
    step: 6,
    optimizerStep: 6,
    run: { config, version: '0.1.0', commit: 'abc', threads: 2 },
    loop: { before: null, callbacks: {} },
    stage: { tokensSeen: 6 * 4096 },
  };
  writeFileSync(join(ckpt, 'train_state.json'), JSON.stringify(state));
}

function writeEval(dir: string, model: string, right: readonly number[]): void {
  mkdirSync(dir, { recursive: true });
  const prefix = (suffix: 'metrics.json' | 'predictions.jsonl' | 'requests.jsonl') =>
    join(dir, taskFileName(0, 'toy', suffix));
  const requests: RequestRecord[] = [];
  const predictions: PredictionRecord[] = [];
  for (let d = 0; d < 6; d++) {
    const choices = [' blue', ' green'];
    choices.forEach((continuation, i) =>
      requests.push({
        request_type: 'loglikelihood',
        doc: { id: `toy-${d}`, index: d, query: 'what colour is the sky?', choices, gold: 0 },
        request: { context: CONTEXT, continuation },
        idx: i,
        task_name: 'toy',
        doc_id: d,
        native_id: `toy-${d}`,
        label: 0,
      }),
    );
    const ok = right.includes(d);
    predictions.push({
      doc_id: d,
      native_id: `toy-${d}`,
      metrics: { acc_raw: ok ? 1 : 0, predicted_index_raw: ok ? 0 : 1 },
      model_output: [
        { sum_logits: ok ? -1 : -3, num_tokens: 1, is_greedy: ok, logits_per_char: ok ? -0.2 : -0.6 },
        { sum_logits: -2, num_tokens: 1, is_greedy: !ok, logits_per_char: -0.33 },
      ],
      label: 0,
      task_hash: 'h',
      model_hash: 'm',
    });
  }
  const jsonl = (rs: object[]) => rs.map((r) => `${JSON.stringify(r)}\n`).join('');
  writeFileSync(prefix('requests.jsonl'), jsonl(requests));
  writeFileSync(prefix('predictions.jsonl'), jsonl(predictions));
  const taskConfig = { task_name: 'toy', primary_metric: 'acc_raw', metadata: { alias: TASK } };
  writeFileSync(prefix('metrics.json'), JSON.stringify({ task_name: 'toy', task_config: taskConfig }));
  const score = right.length / 6;
  const run: RunMetricsFile = {
    all_primary_scores: [`toy: ${score}`, `${TASK}: ${score}`],
    tasks: [
      {
        alias: 'toy',
        metrics: { primary_score: score },
        num_instances: 6,
        processing_time: null,
        task_config: { aggregation: 'macro', members: [TASK], metadata: { alias: 'toy' } },
      },
      {
        alias: TASK,
        metrics: { primary_score: score, acc_raw: score },
        num_instances: 6,
        processing_time: 0.1,
        task_config: taskConfig,
      },
    ],
    model_config: { model },
  };
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(run));
}

export interface Fixture {
  root: string;
  /** A file outside the root that root/qs/secret.txt links to. */
  secret: string;
}

export function makeFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'olmo-dashboard-'));
  const root = join(base, 'root');
  writePretrainRun(join(root, 'runs', 'pre'));
  const broken = join(root, 'runs', 'broken');
  mkdirSync(broken, { recursive: true });
  writeFileSync(
    join(broken, 'metrics.jsonl'),
    '{"step":1,"loss":7.1}\n{"step":2,"lo\n{"step":3,"loss":6.9}\n{"step":4,"lo',
  );
  writeEval(join(root, 'evals', 'a'), 'model-a', [0, 1, 2]);
  writeEval(join(root, 'evals', 'b'), 'model-b', [0, 1, 3, 4, 5]);
  mkdirSync(join(root, 'evals', 'bad'), { recursive: true });
  writeFileSync(join(root, 'evals', 'bad', 'metrics.json'), '{"tasks": [');
  copyModel(join(root, 'models', 'tiny'));
  mkdirSync(join(root, 'qs'), { recursive: true });
  writeFileSync(join(root, 'qs', 'report.html'), '<!doctype html><title>report</title><p>quickstart report</p>');
  writeFileSync(join(root, 'qs', 'report.json'), JSON.stringify({ title: 'report' }));
  const secret = join(base, 'secret.txt');
  writeFileSync(secret, 'outside the root');
  symlinkSync(secret, join(root, 'qs', 'secret.txt'));
  symlinkSync(base, join(root, 'qs', 'up'));
  return { root, secret };
}
