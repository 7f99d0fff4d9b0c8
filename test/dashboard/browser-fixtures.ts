// What the dashboard browser test runs against: a real `olmo quickstart --size tiny` folder (runs of every stage,
// oe-eval folders, checkpoints, a report), a second root with a run the test appends to and a malformed run, the web
// app bundled by scripts/build-dashboard.mjs.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

/** Runs `olmo quickstart --size tiny --out DIR` from source; rejects with its stderr on failure. */
export function runTinyQuickstart(out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...OLMO_NODE_ARGS, 'quickstart', '--size', 'tiny', '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`olmo quickstart --size tiny exited with ${code}:\n${stderr}`)),
    );
  });
}

export function jsonLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The second root: `live` (a copy of the quickstart's pretraining run that the test appends metrics lines to, so
 * the quickstart folder itself is never written) and `broken` (no config, a truncated line in the middle of its
 * metrics.jsonl, as a killed writer or a bad copy leaves it).
 */
export function makeExtraRoot(dir: string, quickstart: string): { live: string; broken: string } {
  const live = join(dir, 'live');
  mkdirSync(live, { recursive: true });
  for (const f of ['metrics.jsonl', 'config.resolved.json'])
    copyFileSync(join(quickstart, 'pretrain', f), join(live, f));
  const broken = join(dir, 'broken');
  mkdirSync(broken, { recursive: true });
  writeFileSync(
    join(broken, 'metrics.jsonl'),
    [
      '{"step":1,"lr":0.001,"loss":7.1,"tokens":4096}',
      '{"step":2,"lr":0.001,"lo',
      '{"step":3,"lr":0.001,"loss":6.9,"tokens":12288}',
      '',
    ].join('\n'),
  );
  return { live, broken };
}

/** Counts the lines of a metrics.jsonl that carry a finite numeric `key`. */
export function countMetric(file: string, key: string): number {
  return jsonLines(file).filter((r) => typeof r[key] === 'number' && Number.isFinite(r[key])).length;
}
