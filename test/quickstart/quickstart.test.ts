// `olmo quickstart --size tiny` end to end: every stage leaves its outputs, the report's numbers are the ones in
// the stage outputs, and a run stopped with Ctrl-C and then killed with SIGKILL, rerun each time, ends with the same
// report as an uninterrupted run. Wrong options and a folder made with other options are refused.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StageEval } from '../../src/quickstart/evaluate.ts';
import { COLUMNS } from '../../src/quickstart/collect.ts';
import type { ReportData } from '../../src/quickstart/report-data.ts';
import { formatValue, pairedSentence, parseMarkdownTable } from '../../src/quickstart/render-markdown.ts';
import { olmo } from '../cli/cli-helpers.ts';
import { loadLlama } from '../interop/llama-cpp.ts';
import { assertQuickstartParity } from '../interop/quickstart-parity.ts';
import { shareTinyQuickstart } from '../shared-quickstart.ts';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-quickstart-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Starts `olmo quickstart --size tiny --out DIR`; `stopWhen` is polled and, once true, the child gets `signal`. */
function runTiny(
  out: string,
  stopWhen?: () => boolean,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...OLMO_NODE_ARGS, 'quickstart', '--size', 'tiny', '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let sent = false;
    const poll = setInterval(() => {
      if (!sent && stopWhen?.()) {
        sent = true;
        child.kill(signal);
      }
    }, 5);
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, stderr });
    });
    child.on('error', reject);
  });
}

const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim()).length
    : 0;
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ReportData;

describe('olmo quickstart --size tiny', { timeout: 600_000 }, () => {
  const full = join(root, 'full');
  before(async () => {
    const r = await runTiny(full);
    assert.equal(r.code, 0, r.stderr);
    shareTinyQuickstart(full);
  });

  it('runs every stage and writes its outputs, configs and the report', () => {
    for (const f of [
      'data/synth.json',
      'data/data-config.json',
      'configs/pretrain.yaml',
      'configs/sft.yaml',
      'configs/dpo.yaml',
      'configs/rlvr.yaml',
      'pretrain/metrics.jsonl',
      'pretrain/stages/pretrain/model.safetensors',
      'pretrain/stages/anneal/model.safetensors',
      'configs/anneal-2.yaml',
      'anneal-2/final/model.safetensors',
      'soup/model.safetensors',
      'soup/tokenizer.json',
      'sft/final/model.safetensors',
      'dpo/final/model.safetensors',
      'rlvr/final/model.safetensors',
      'evals/base.json',
      'evals/anneal.json',
      'evals/soup.json',
      'evals/sft.json',
      'evals/dpo.json',
      'evals/rlvr.json',
      'report.md',
      'report.html',
      'report.json',
      'quickstart.json',
    ]) {
      assert.ok(existsSync(join(full, f)), `missing ${f}`);
    }
    const state = JSON.parse(readFileSync(join(full, 'quickstart.json'), 'utf8')) as {
      stages: Record<string, { done: boolean }>;
    };
    assert.equal(Object.keys(state.stages).length, 13);
    assert.ok(Object.values(state.stages).every((s) => s.done));
  });

  it("reads the report's numbers from the stage outputs", () => {
    const md = readFileSync(join(full, 'report.md'), 'utf8');
    const table = parseMarkdownTable(md, 'Evaluation after each stage');
    assert.deepEqual(table[0], ['stage', ...COLUMNS.map((c) => c.label)]);
    const stages = ['base', 'anneal', 'soup', 'sft', 'dpo', 'rlvr'];
    assert.deepEqual(
      table.slice(1).map((r) => r[0]),
      stages,
    );
    stages.forEach((stage, i) => {
      const ev = JSON.parse(readFileSync(join(full, 'evals', `${stage}.json`), 'utf8')) as StageEval;
      COLUMNS.forEach((c, j) =>
        assert.equal(table[i + 1][j + 1], formatValue(c, ev.values[c.key] ?? null), `${stage} ${c.key}`),
      );
      assert.ok(typeof ev.values.val_loss === 'number' && typeof ev.values.world_rc === 'number', stage);
    });
    // The SFT model is its own reference: its preference accuracy is exactly 50%.
    assert.equal(table[4][COLUMNS.findIndex((c) => c.key === 'pref_acc') + 1], '50.0%');
    // The pretraining curve is the trainer's metrics.jsonl.
    const metrics = readFileSync(join(full, 'pretrain', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const trainLoss = metrics.filter((m) => m.loss !== undefined && m.skipped !== true).map((m) => m.loss);
    const chart = report(full).charts.find((c) => c.id === 'pretrain')!;
    const plotted = chart.series
      .filter((s) => s.name === 'stage 1 train loss' || s.name === 'anneal train loss')
      .flatMap((s) => s.points.map((p) => p.value));
    assert.deepEqual(plotted, trainLoss);
    assert.ok(readFileSync(join(full, 'report.html'), 'utf8').includes('id="eval-table"'));
    // SFT's summary states the held-out assistant loss before and after, from its eval.json.
    const sftEval = JSON.parse(readFileSync(join(full, 'sft', 'eval.json'), 'utf8')) as {
      before: { eval_loss: number };
      after: { eval_loss: number };
    };
    const sftSummary = report(full).stages.find((s) => s.name === 'sft')!.summary;
    assert.ok(
      sftSummary.endsWith(
        `held-out assistant loss ${sftEval.before.eval_loss.toFixed(3)} → ${sftEval.after.eval_loss.toFixed(3)}`,
      ),
      sftSummary,
    );
    // The paired comparisons (sft → dpo → rlvr) are counted from the per-prompt outcomes the evaluations wrote.
    const outcomes = (stage: string) =>
      [
        ...(JSON.parse(readFileSync(join(full, 'evals', `${stage}.json`), 'utf8')) as StageEval).outcomes!.verified!,
      ].map((c) => c === '1');
    const paired = report(full).paired;
    assert.deepEqual(
      paired.map((p) => `${p.from}>${p.to}`),
      ['sft>dpo', 'dpo>rlvr'],
    );
    for (const p of paired) {
      const [a, b] = [outcomes(p.from), outcomes(p.to)];
      assert.equal(p.n, a.length);
      assert.equal(p.fixed, a.filter((ok, i) => !ok && b[i]).length);
      assert.equal(p.broken, a.filter((ok, i) => ok && !b[i]).length);
      assert.ok(md.includes(pairedSentence(p)), 'report.md states the comparison');
    }
  });

  it('exports the final model to GGUF: llama.cpp gives its log-probs (f32) and chats like the int8 path (q8_0)', async (t) => {
    const llama = await loadLlama();
    if (typeof llama === 'string') return t.skip(llama);
    await assertQuickstartParity(llama, join(full, 'rlvr', 'final'), root);
  });

  it('resumes after Ctrl-C and after SIGKILL to the same report as an uninterrupted run', async () => {
    const dir = join(root, 'interrupted');
    const first = await runTiny(dir, () => lines(join(dir, 'pretrain', 'metrics.jsonl')) >= 8, 'SIGINT');
    assert.equal(first.code, 130, first.stderr);
    assert.match(first.stderr, /run the same command again to resume/);
    assert.ok(!existsSync(join(dir, 'pretrain', 'final')));
    const second = await runTiny(dir, () => lines(join(dir, 'dpo', 'metrics.jsonl')) >= 3, 'SIGKILL');
    assert.equal(second.signal, 'SIGKILL', second.stderr);
    assert.ok(!existsSync(join(dir, 'report.json')));
    const third = await runTiny(dir);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stderr, /data: done earlier/);
    const a = report(full);
    const b = report(dir);
    assert.deepEqual(b.rows, a.rows);
    assert.deepEqual(b.charts, a.charts);
    assert.deepEqual(
      b.stages.map((s) => s.summary),
      a.stages.map((s) => s.summary),
    );
  });

  it('refuses a run folder made with other options, and bad options', () => {
    const r = olmo(['quickstart', '--size', 'tiny', '--seed', '7', '--out', full]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /made with --seed 1234 --size tiny/);
    const bad = olmo(['quickstart', '--size', 'huge', '--out', join(root, 'x')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--size must be tiny or default, got 'huge'/);
    const seed = olmo(['quickstart', '--seed', '1.5', '--out', join(root, 'x')]);
    assert.match(seed.stderr, /--seed must be a non-negative integer/);
    const minutes = olmo(['quickstart', '--minutes', 'soon', '--out', join(root, 'x')]);
    assert.match(minutes.stderr, /--minutes must be a positive number, got 'soon'/);
    const other = olmo(['quickstart', '--size', 'tiny', '--minutes', '3', '--out', full]);
    assert.match(other.stderr, /corpus scale 0\.06, here 0\.18/);
    assert.ok(!existsSync(join(root, 'x')), 'nothing is written for bad options');
  });
});
