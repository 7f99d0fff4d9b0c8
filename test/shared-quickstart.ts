// A tiny quickstart folder shared between test files of one `npm test` run (scripts/run-tests.mjs): the quickstart
// test makes one as part of its own checks and leaves a copy in OLMO_TEST_SHARED_DIR; the dashboard's browser test
// copies that instead of running the quickstart again. Run alone, a file finds no shared copy and makes its own.
import { cpSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const NAME = 'quickstart-tiny';

/** Leaves a copy of a finished tiny quickstart folder for later test files (a no-op outside run-tests.mjs). */
export function shareTinyQuickstart(dir: string): void {
  const shared = process.env.OLMO_TEST_SHARED_DIR;
  if (!shared || !existsSync(shared)) return;
  // copied under another name, then renamed: a reader never sees a half-copied folder
  const tmp = join(shared, `.${NAME}.tmp-${process.pid}`);
  cpSync(dir, tmp, { recursive: true });
  renameSync(tmp, join(shared, NAME));
}

/** The shared tiny quickstart folder, when an earlier file of this run left one (read it; never write into it). */
export function sharedTinyQuickstart(): string | null {
  const shared = process.env.OLMO_TEST_SHARED_DIR;
  const dir = shared ? join(shared, NAME) : null;
  return dir && existsSync(dir) ? dir : null;
}
