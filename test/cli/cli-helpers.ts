// Runs the `olmo` command (built or from source: olmo-command.ts) and captures its output.
import { spawnSync } from 'node:child_process';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function olmo(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [...OLMO_NODE_ARGS, ...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
