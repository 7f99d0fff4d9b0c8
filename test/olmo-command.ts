// How tests start the `olmo` command: node's arguments before the command's own. The compiled CLI
// (dist/cli/main.js) when it is newer than every file under src/ (as right after `npm install`, which builds it:
// CI), else the sources through tsx. The compiled CLI starts in about a third of the time, and the suite starts
// the command a few hundred times; a build older than any source is never used. OLMO_TEST_FROM_SOURCE=1 forces
// the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const SOURCE_MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const BUILT_MAIN = join(ROOT, 'dist', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtIsCurrent(): boolean {
  if (process.env.OLMO_TEST_FROM_SOURCE === '1' || !existsSync(BUILT_MAIN)) return false;
  return statSync(BUILT_MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'));
}

export const OLMO_NODE_ARGS: readonly string[] = builtIsCurrent() ? [BUILT_MAIN] : ['--import', 'tsx', SOURCE_MAIN];
