// A lock file between processes (and between tasks of one process) that write the same file: created with
// O_EXCL and holding the owner's pid, so a lock left by a process that died is recognised and taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A lock file with no readable pid is taken over once it is this old (its writer died between open and write). */
const UNREADABLE_STALE_MS = 60_000;

function holderPid(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(path: string): boolean {
  const pid = holderPid(path);
  if (pid !== null) return !isAlive(pid);
  try {
    return Date.now() - statSync(path).mtimeMs > UNREADABLE_STALE_MS;
  } catch {
    return true; // removed meanwhile
  }
}

/**
 * Takes the lock at `path`, waiting (polling) while a live process holds it, for at most `waitMs`; returns the
 * function that releases it. `what` names the locked work in the error raised when the wait runs out.
 */
export async function acquireFileLock(path: string, what: string, waitMs: number, pollMs = 200): Promise<() => void> {
  mkdirSync(dirname(path), { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (isStale(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() - start >= waitMs) {
      const pid = holderPid(path);
      throw new Error(
        `${what}: another process${pid !== null ? ` (pid ${pid})` : ''} has held the lock ${path} for over ${Math.round(waitMs / 1000)} s; ` +
          'wait for it to finish, or remove the lock file if that process is gone',
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
