// SIGKILL mid-run, then resume: the same final metrics as an uninterrupted run, no duplicate or missing predictions.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalHfFolderSource } from '../../src/eval/data/source.ts';
import { runEval } from '../../src/eval/runner/run.ts';
import { FakeBackend, writeSyntheticData } from './fixtures.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `olmo-eval-${p}-`));
const countLines = (p: string) =>
  existsSync(p)
    ? readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{"k"')).length
    : 0;

test('a run killed with SIGKILL resumes to the same metrics with nothing lost or duplicated', async () => {
  const data = tmp('kdata');
  writeSyntheticData(data, 10, []);
  const tasks = 'arc_easy::olmes,winogrande:rc::olmes';
  const out = tmp('kill');
  const cachePath = join(out, 'request-cache.jsonl');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./kill-child.ts', import.meta.url).pathname, data, out, tasks],
    { stdio: 'ignore' },
  );
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, sig) => res(sig)));
  const deadline = Date.now() + 60_000;
  while (countLines(cachePath) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the child was still running when killed');
  const before = countLines(cachePath);
  assert.ok(before >= 20, `cache had ${before} records when killed`);
  assert.ok(!existsSync(join(out, 'metrics.json')));

  const resumed = new FakeBackend();
  const r = await runEval({
    tasks: tasks.split(','),
    source: new LocalHfFolderSource(data),
    outputDir: out,
    backend: resumed,
    batchSize: 5,
  });
  const clean = await runEval({
    tasks: tasks.split(','),
    source: new LocalHfFolderSource(data),
    outputDir: tmp('kclean'),
    backend: new FakeBackend(),
  });
  assert.ok(before < clean.computed, 'killed before the end');
  assert.equal(resumed.requests, clean.computed - before, 'only the missing requests were computed');
  assert.deepEqual(
    r.tasks.map((t) => t.metrics),
    clean.tasks.map((t) => t.metrics),
  );
  assert.deepEqual(r.metrics.all_primary_scores, clean.metrics.all_primary_scores);
  const keys = readFileSync(cachePath, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l).k);
  assert.equal(new Set(keys).size, keys.length);
  for (const [i, t] of r.tasks.entries()) {
    const preds = readFileSync(join(out, `task-${String(i).padStart(3, '0')}-${t.task_name}-predictions.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l);
    assert.deepEqual(
      preds.map((l) => JSON.parse(l).doc_id),
      [...Array(10).keys()],
    );
  }
});
