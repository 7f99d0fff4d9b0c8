// The package's own version and git commit, recorded with every run (training, post-training, evaluation) so
// any result can be traced to the code that produced it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (src/io and dist/io both sit two levels below it). */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The git commit of the package's checkout, or null outside a git checkout. */
export function gitCommit(dir = packageRoot()): string | null {
  try {
    return (
      execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
        .toString()
        .trim() || null
    );
  } catch {
    return null;
  }
}

/** Version and commit together. */
export function packageInfo(): { version: string; commit: string | null } {
  return { version: packageVersion(), commit: gitCommit() };
}
