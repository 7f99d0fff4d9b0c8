// An exclusive lock on an output folder, so that two runs writing the same folder cannot overwrite each other's
// files. The lock file holds its holder (pid, host, start time, command) and is put in place with link(2),
// which fails when the name exists and never exposes a half-written file. A second run fails at once with a
// message naming the folder and the holder; a lock whose holder is a dead process on this host is taken over
// with a warning. A lock from another host cannot be checked and is never taken over.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const LOCK_FILE = '.olmo.lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock */
  started: string;
  command: string;
}

export class FolderLockedError extends Error {
  override name = 'FolderLockedError';
  constructor(
    message: string,
    readonly holder: LockHolder | null,
  ) {
    super(message);
  }
}

export interface LockOptions {
  /** told when a stale lock is taken over */
  warn?: (message: string) => void;
  /** recorded as the holder's command (default: this process's argv) */
  command?: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only checks that the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (Number.isInteger(h.pid) && typeof h.host === 'string' && typeof h.started === 'string')
      return { pid: h.pid!, host: h.host, started: h.started, command: String(h.command ?? '') };
  } catch {
    // unreadable: reported below
  }
  return null;
}

const describeHolder = (h: LockHolder) =>
  `pid ${h.pid} on ${h.host}, started ${h.started}${h.command ? ` (${h.command})` : ''}`;

/**
 * Takes the lock on `dir` (created if needed) for `what` (e.g. "olmo eval"); returns the function that releases
 * it. Throws FolderLockedError when a live process, or any process on another host, holds it.
 */
export function lockFolder(dir: string, what: string, opts: LockOptions = {}): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    command: opts.command ?? process.argv.slice(1).join(' '),
  };
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(tmp, `${JSON.stringify(me)}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readHolder(path);
      if (!holder) {
        throw new FolderLockedError(
          `${what}: ${dir} is locked by ${path}, which cannot be read; if no other run uses this folder, delete that file`,
          null,
        );
      }
      const stale = holder.host === me.host && holder.pid !== process.pid && !isAlive(holder.pid);
      if (!stale || attempt >= 3) {
        throw new FolderLockedError(
          `${what}: ${dir} is in use by another run (${describeHolder(holder)}); wait for it to finish or choose another output folder` +
            (holder.host === me.host ? '' : `; if that run is gone, delete ${path}`),
          holder,
        );
      }
      takeOver(path, holder);
      opts.warn?.(
        `${what}: taking over the lock on ${dir} left by a run that is no longer running (${describeHolder(holder)})`,
      );
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    const h = readHolder(path);
    if (h && h.pid === me.pid && h.started === me.started && h.host === me.host) rmSync(path, { force: true });
  };
  process.once('exit', release); // a run that ends without reaching its finally (process.exit) still lets go
  return release;
}

/**
 * Moves the stale lock aside. rename is atomic, but another run may have taken the stale lock over between our
 * read and our rename: then what we moved is its live lock, which is put back (link fails if a third run got
 * there) and the race is lost as if the lock had been live.
 */
function takeOver(path: string, stale: LockHolder): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it: retry the link
    throw e;
  }
  const moved = readHolder(aside);
  if (moved && (moved.pid !== stale.pid || moved.started !== stale.started)) {
    try {
      linkSync(aside, path);
    } catch {
      // a third run holds it now; our next link attempt reports that one
    }
  }
  rmSync(aside, { force: true });
}
