// Per-file checksums of a folder (a checkpoint): `checksums.json` next to the files it covers,
//   {"algorithm": "sha256", "files": {"model.safetensors": {"size": 123, "sha256": "ab…"}, …}}
// written at save time and verified on load, so a bit-flipped or truncated file is refused rather than used.
// Hashing is streamed through one reused buffer (never the whole file in memory); verification compares sizes
// of every file first (a stat each, so a truncated file fails before any hashing) and then the hashes.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { createHash } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { writeTextAtomically } from './atomic.ts';

export const CHECKSUMS_FILE = 'checksums.json';

/** How much of a folder to check against its checksums.json. */
export type VerifyLevel = 'full' | 'size' | 'none';

export interface FileChecksum {
  size: number;
  sha256: string;
}

export interface ChecksumManifest {
  algorithm: 'sha256';
  /** relative file name ('/'-separated) → size and hash */
  files: Record<string, FileChecksum>;
}

export class ChecksumError extends Error {
  override name = 'ChecksumError';
}

/** Read size: large enough that the per-call overhead vanishes next to hashing, small enough to stay in cache. */
const CHUNK = 4 << 20;

/** Size and SHA-256 of one file, streamed in fixed-size chunks. */
export function hashFile(file: string): FileChecksum {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, size)));
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    return { size: pos, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** Checksums of the named files of `dir` (names relative to it); a missing file is an error naming it. */
export function computeChecksums(dir: string, names: readonly string[]): ChecksumManifest {
  const files: Record<string, FileChecksum> = {};
  for (const name of [...names].sort()) {
    checkName(name, `${dir}: file name`);
    const path = join(dir, name);
    if (!existsSync(path)) throw new ChecksumError(`${path}: cannot checksum a file that does not exist`);
    files[name] = hashFile(path);
  }
  return { algorithm: 'sha256', files };
}

/** Writes `dir/checksums.json` atomically (temp file, fsync, rename). */
export function writeChecksums(dir: string, manifest: ChecksumManifest): void {
  writeTextAtomically(join(dir, CHECKSUMS_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Computes and writes the checksums of the named files of `dir`; returns the manifest. */
export function saveChecksums(dir: string, names: readonly string[]): ChecksumManifest {
  const manifest = computeChecksums(dir, names);
  writeChecksums(dir, manifest);
  return manifest;
}

/** `dir/checksums.json`, validated; null when the folder has none. */
export function readChecksums(dir: string): ChecksumManifest | null {
  const path = join(dir, CHECKSUMS_FILE);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ChecksumError(
      `${path}: not valid JSON (${(e as Error).message}); delete it to load without verification`,
    );
  }
  return parseChecksums(raw, path);
}

/** Validates the shape of a checksums manifest; errors name the file and the field. */
export function parseChecksums(raw: unknown, where: string): ChecksumManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ChecksumError(
      `${where}: expected a JSON object {"algorithm": "sha256", "files": {…}}, got ${describe(raw)}`,
    );
  const o = raw as Record<string, unknown>;
  if (o.algorithm !== 'sha256')
    throw new ChecksumError(`${where}: algorithm must be "sha256", got ${JSON.stringify(o.algorithm)}`);
  if (typeof o.files !== 'object' || o.files === null || Array.isArray(o.files))
    throw new ChecksumError(`${where}: "files" must be an object of name → {size, sha256}, got ${describe(o.files)}`);
  const files: Record<string, FileChecksum> = {};
  for (const [name, entry] of Object.entries(o.files as Record<string, unknown>)) {
    checkName(name, `${where}: files`);
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null)
      throw new ChecksumError(
        `${where}: files[${JSON.stringify(name)}] must be {size, sha256}, got ${describe(entry)}`,
      );
    if (!Number.isSafeInteger(e.size) || (e.size as number) < 0)
      throw new ChecksumError(
        `${where}: files[${JSON.stringify(name)}].size must be a non-negative integer, got ${JSON.stringify(e.size)}`,
      );
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256))
      throw new ChecksumError(
        `${where}: files[${JSON.stringify(name)}].sha256 must be 64 lowercase hex digits, got ${JSON.stringify(e.sha256)}`,
      );
    files[name] = { size: e.size as number, sha256: e.sha256 };
  }
  return { algorithm: 'sha256', files };
}

/**
 * Checks `dir` against `manifest`: with 'size' every listed file must exist with its recorded size; with 'full'
 * its SHA-256 must match too (sizes of all files are checked before any file is hashed). Files not listed are
 * ignored. Throws a ChecksumError naming the file, the expected and the actual value.
 */
export function verifyChecksums(dir: string, manifest: ChecksumManifest, level: VerifyLevel = 'full'): void {
  startVerification(dir, manifest, level, Infinity).wait();
}

/** A hash check running beside the caller's work: `wait` blocks until it is done and throws on a mismatch. */
export interface PendingVerification {
  wait(): void;
  /** Stop hashing (the caller failed for another reason and will not wait). */
  cancel(): void;
}

/** Below this many bytes a worker thread costs more than it saves: hash on the calling thread. */
const BACKGROUND_MIN_BYTES = 64 << 20;

/**
 * Checks sizes now (a stat per file, so a truncated file fails at once) and, with 'full', starts hashing: on a
 * worker thread when the files hold at least `backgroundMinBytes`, so that a loader can read and convert tensors
 * on its own thread while the hash runs on another core, else right away. `wait()` reports the result.
 */
export function startVerification(
  dir: string,
  manifest: ChecksumManifest,
  level: VerifyLevel,
  backgroundMinBytes = BACKGROUND_MIN_BYTES,
): PendingVerification {
  const done: PendingVerification = { wait: () => {}, cancel: () => {} };
  if (level === 'none') return done;
  const names = Object.keys(manifest.files).sort();
  let total = 0;
  for (const name of names) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new ChecksumError(`${path}: listed in ${CHECKSUMS_FILE} but missing`);
    const size = statSync(path).size;
    const want = manifest.files[name].size;
    if (size !== want)
      throw new ChecksumError(
        `${path}: size ${size} bytes, ${CHECKSUMS_FILE} expects ${want} (the file is truncated or was replaced); re-save the checkpoint or restore the file`,
      );
    total += size;
  }
  if (level !== 'full') return done;
  const jobs = names.map((name) => ({ path: join(dir, name), want: manifest.files[name].sha256 }));
  if (total < backgroundMinBytes) {
    for (const j of jobs) checkHash(j.path, hashFile(j.path).sha256, j.want);
    return done;
  }
  return hashInWorker(jobs);
}

function checkHash(path: string, got: string, want: string): void {
  if (got !== want)
    throw new ChecksumError(
      `${path}: sha256 ${got}, ${CHECKSUMS_FILE} expects ${want} (the file is corrupt or was changed after saving); restore the file, re-save the folder, or delete ${CHECKSUMS_FILE} to accept the change`,
    );
}

// The worker is plain JavaScript (eval: true) so it runs without the TypeScript loader; it hashes exactly as
// hashFile does and always raises the flag, posting either the hashes or the error.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { jobs, port, flag, chunk } = workerData;
try {
  const buf = Buffer.allocUnsafe(chunk);
  const hashes = jobs.map(({ path }) => {
    const fd = fs.openSync(path, 'r');
    try {
      const h = createHash('sha256');
      for (let pos = 0, n; (n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) h.update(buf.subarray(0, n));
      return h.digest('hex');
    } finally {
      fs.closeSync(fd);
    }
  });
  port.postMessage({ hashes });
} catch (e) {
  port.postMessage({ error: String(e && e.message ? e.message : e) });
} finally {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
`;

function hashInWorker(jobs: { path: string; want: string }[]): PendingVerification {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { jobs, port: port2, flag, chunk: CHUNK },
    transferList: [port2],
  });
  worker.unref();
  let finished = false;
  return {
    wait() {
      if (finished) return;
      // loaders are synchronous, so block this thread until the worker raises the flag
      while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 1000);
      finished = true;
      const msg = receiveMessageOnPort(port1)?.message as { hashes?: string[]; error?: string } | undefined;
      port1.close();
      void worker.terminate();
      if (!msg?.hashes)
        throw new ChecksumError(
          `verifying ${jobs.map((j) => j.path).join(', ')}: ${msg?.error ?? 'the hashing thread stopped without a result'}`,
        );
      msg.hashes.forEach((got, i) => checkHash(jobs[i].path, got, jobs[i].want));
    },
    cancel() {
      finished = true;
      port1.close();
      void worker.terminate();
    },
  };
}

/** Verifies `dir` against its checksums.json when it has one; returns the manifest (null: nothing to verify). */
export function verifyFolder(dir: string, level: VerifyLevel = 'full'): ChecksumManifest | null {
  if (level === 'none') return null;
  const manifest = readChecksums(dir);
  if (manifest) verifyChecksums(dir, manifest, level);
  return manifest;
}

/** A stable digest of some of a manifest's entries (e.g. the weight files): the content identity of those files. */
export function manifestDigest(manifest: ChecksumManifest, include: (name: string) => boolean = () => true): string {
  const entries = Object.keys(manifest.files)
    .filter(include)
    .sort()
    .map((n) => [n, manifest.files[n].size, manifest.files[n].sha256]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

function checkName(name: string, where: string): void {
  const parts = name.split(/[\\/]/);
  if (name === '' || isAbsolute(name) || parts.some((p) => p === '..' || p === '')) {
    throw new ChecksumError(`${where}: ${JSON.stringify(name)} is not a relative file name inside the folder`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}
