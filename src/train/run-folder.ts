// A run folder holds one run. A fresh run refuses a folder that already holds another (its metrics.jsonl or
// checkpoints would be spliced with the new run's: emptied metrics, the old run's higher-numbered checkpoints
// taken for the new run's latest); --overwrite first moves the old run aside in one rename, to the sibling
// `<dir>.old-<UTC time>`. Temporary files and folders that a killed run left behind (`.<name>.tmp-<pid>-…`, each
// up to a checkpoint in size) are removed when the next run or resume starts.
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from './checkpoint.ts';
import { METRICS_FILE } from './metrics-log.ts';

export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

/** What a folder holds of an earlier run (null: nothing that a new run would splice with). */
export interface RunFound {
  /** The last step in metrics.jsonl (0 when it has none). */
  lastStep: number;
  checkpoints: string[];
  /** When it was last written. */
  modified: Date;
}

export function findRun(dir: string): RunFound | null {
  const metrics = join(dir, METRICS_FILE);
  const hasMetrics = existsSync(metrics) && statSync(metrics).size > 0;
  const checkpoints = listCheckpoints(dir);
  if (!hasMetrics && checkpoints.length === 0) return null;
  const times = [...(hasMetrics ? [metrics] : []), ...checkpoints].map((p) => statSync(p).mtimeMs);
  return { lastStep: hasMetrics ? lastLoggedStep(metrics) : 0, checkpoints, modified: new Date(Math.max(...times)) };
}

/** The largest `step` among the last lines of a metrics file (only its tail is read: histories can be large). */
function lastLoggedStep(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 1 << 16);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    let last = 0;
    for (const line of buf.toString('utf8').split('\n')) {
      try {
        const step = (JSON.parse(line) as { step?: unknown }).step;
        if (typeof step === 'number' && step > last) last = step;
      } catch {
        // a line cut by the tail window, or a partial last line
      }
    }
    return last;
  } finally {
    closeSync(fd);
  }
}

function describeRun(r: RunFound): string {
  const names = r.checkpoints.map((c) => c.slice(c.lastIndexOf('step-')));
  const ckpts = names.length > 0 ? `checkpoints ${names.join(', ')}` : 'no checkpoint';
  return `a run with ${r.lastStep} steps in ${METRICS_FILE}, ${ckpts}, last written ${r.modified.toISOString()}`;
}

/**
 * Prepares `dir` for a fresh run: refuses a folder holding another run unless `overwrite`, which moves that run
 * aside to `<dir>.old-<time>` (returned).
 */
export function claimFreshRunFolder(dir: string, overwrite: boolean, log: (line: string) => void): string | null {
  const found = existsSync(dir) ? findRun(dir) : null;
  if (!found) return null;
  if (!overwrite) {
    throw new RunFolderError(
      `${dir} already holds ${describeRun(found)}; a fresh run there would splice the two. Continue that run with --resume, or start over with --overwrite (the old run is moved to ${dir}.old-<time>), or choose another output folder`,
    );
  }
  const aside = `${dir}.old-${new Date().toISOString().replace(/[:.]/g, '').replace(/-/g, '')}`;
  renameSync(dir, aside);
  log(`moved the earlier run in ${dir} (${describeRun(found)}) to ${aside}`);
  return aside;
}

/** Temporary names of src/io/atomic.ts (`.<name>.tmp-<pid>-<hex>[.old]`) and of older checkpoint writers (`.tmp-<name>-<pid>`). */
const TEMP = [/^\..+\.tmp-(\d+)-[0-9a-f]+(\.old)?$/, /^\.tmp-.+-(\d+)$/];

/** Removes the temporaries a killed writer left in the run folder and its checkpoints/ (not those of a live process). */
export function removeStaleTemporaries(dir: string, log: (line: string) => void): string[] {
  const removed: string[] = [];
  for (const d of [dir, join(dir, 'checkpoints')]) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      const m = TEMP.map((re) => re.exec(name)).find((x) => x);
      if (!m || isAlive(Number(m[1]))) continue;
      rmSync(join(d, name), { recursive: true, force: true });
      removed.push(join(d, name));
    }
  }
  if (removed.length > 0)
    log(`removed ${removed.length} temporary file(s) left by an interrupted run: ${removed.join(', ')}`);
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
