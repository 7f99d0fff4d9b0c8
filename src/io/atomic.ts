// Writes that never leave a partial result at the final path: files and whole folders are written under a
// temporary name in the same folder and renamed into place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file atomically: `write(fd)` fills a temporary file in the same folder, which is flushed to disk
 * and renamed onto `file`. On any error the temporary file is removed, so `file` is never partially written.
 */
export function writeFileAtomically(file: string, write: (fd: number) => void): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let fd: number | null = fs.openSync(tmp, 'wx');
  try {
    write(fd);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes `text` to `file` atomically (temp file, fsync, rename). */
export function writeTextAtomically(file: string, text: string | Uint8Array): void {
  writeFileAtomically(file, (fd) => {
    fs.writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
  });
}

/**
 * Builds a folder with `fill(tmpDir)` next to `target` and swaps it into place: an existing target is moved
 * aside first and removed only after the new folder is in place, so a crash leaves either the old or the new one.
 */
export function writeDirAtomically(target: string, fill: (tmpDir: string) => void): void {
  const parent = path.dirname(path.resolve(target));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(tmp);
  try {
    fill(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (fs.existsSync(target)) {
    const old = `${tmp}.old`;
    fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, target);
  }
}
