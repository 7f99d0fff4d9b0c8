// Shared by the task-family tests: after a fake-backend run, `rescore` must recompute every metric from the saved
// records alone. The stored metrics (run, task and per-doc) and the per-doc model_output are wiped first, so that
// byte-identical files prove recomputation, not copying.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rescore, rescoreAll, runFolders } from '../../src/eval/runner/rescore.ts';

const OUTPUT = /^(metrics\.json|metrics-all\.jsonl|task-\d{3}-.*-(metrics\.json|predictions\.jsonl|requests\.jsonl))$/;

function snapshot(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((f) => OUTPUT.test(f))
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** Overwrite every stored metric and model_output of a run folder with junk. */
export function wipeMetrics(dir: string): void {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (/^task-\d{3}-.*-metrics\.json$/.test(f)) {
      writeFileSync(p, JSON.stringify({ ...JSON.parse(readFileSync(p, 'utf8')), metrics: { primary_score: -1 } }));
    } else if (/-predictions\.jsonl$/.test(f)) {
      const lines = readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      writeFileSync(
        p,
        lines.map((l) => JSON.stringify({ ...JSON.parse(l), metrics: { junk: 1 }, model_output: [] }) + '\n').join(''),
      );
    } else if (f === 'metrics.json') {
      const m = JSON.parse(readFileSync(p, 'utf8'));
      writeFileSync(
        p,
        JSON.stringify({
          ...m,
          all_primary_scores: [],
          tasks: m.tasks.map((t: object) => ({ ...t, metrics: { primary_score: -1 } })),
        }),
      );
    } else if (f === 'metrics-all.jsonl') {
      writeFileSync(p, '');
    }
  }
}

/** Wipe, rescore, and check every output file of the run folder is byte-identical to what the run wrote. */
export async function assertRescoreIdentical(dir: string): Promise<void> {
  const before = snapshot(dir);
  assert.ok(before.has('metrics.json'), `${dir}: no metrics.json`);
  wipeMetrics(dir);
  const run = await rescore(dir);
  const after = snapshot(dir);
  assert.deepEqual([...after.keys()], [...before.keys()]);
  for (const [f, text] of before) assert.equal(after.get(f), text, `${dir}/${f} differs after rescore`);
  assert.deepEqual(run, JSON.parse(before.get('metrics.json')!));
}

/** The same for every run folder under `dir` (two-stage modes write one per stage). */
export async function assertRescoreAllIdentical(dir: string, expectFolders: number): Promise<void> {
  const folders = runFolders(dir);
  assert.equal(folders.length, expectFolders, folders.join(', '));
  const before = folders.map(snapshot);
  folders.forEach(wipeMetrics);
  const done = await rescoreAll(dir);
  assert.deepEqual(
    done.map((d) => d.dir),
    folders,
  );
  folders.forEach((d, i) => {
    const after = snapshot(d);
    for (const [f, text] of before[i]) assert.equal(after.get(f), text, `${d}/${f} differs after rescore`);
  });
}
