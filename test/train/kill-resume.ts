// SIGKILL and resume, for every training command: `olmo <command> --config FILE` is killed once its metrics.jsonl
// holds `steps` step lines, then `--resume` finishes it; the caller compares the metrics with an uninterrupted run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { olmo } from '../cli/cli-helpers.ts';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

export function metricLines(output: string): Record<string, unknown>[] {
  return readFileSync(join(output, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs `olmo command --config configPath` and kills it (SIGKILL) once `key` appears on `steps` lines of the metrics. */
export async function killAfterSteps(
  command: string,
  configPath: string,
  output: string,
  steps: number,
  key: string,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...OLMO_NODE_ARGS, command, '--config', configPath], {
      stdio: 'ignore',
    });
    const poll = setInterval(() => {
      const metrics = join(output, 'metrics.jsonl');
      if (
        existsSync(metrics) &&
        readFileSync(metrics, 'utf8')
          .split('\n')
          .filter((l) => l.includes(`"${key}"`)).length >= steps
      ) {
        child.kill('SIGKILL');
        clearInterval(poll);
      }
    }, 1);
    child.on('exit', () => {
      clearInterval(poll);
      resolve();
    });
    child.on('error', reject);
  });
  assert.ok(!existsSync(join(output, 'final')), `the killed ${command} run did not finish`);
}

/** Kills a run as killAfterSteps does, resumes it with --resume, and returns its metrics. */
export async function killAndResume(
  command: string,
  configPath: string,
  output: string,
  steps: number,
  key: string,
): Promise<Record<string, unknown>[]> {
  await killAfterSteps(command, configPath, output, steps, key);
  const r = olmo([command, '--config', configPath, '--resume']);
  assert.equal(r.code, 0, r.stderr);
  return metricLines(output);
}

/** Metrics without the wall-clock fields (rates and durations differ between runs). */
export function withoutTimings(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const timing = new Set(['tokens_per_s', 'pairs_per_s', 'rollout_s', 'train_s']);
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k))));
}
