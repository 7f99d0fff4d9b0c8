// Per-file checksums of a folder (a checkpoint): `checksums.json` next to the files it covers,
//   {"algorithm": "sha256", "files": {"model.safetensors": {"size": 123, "sha256": "ab…"}, …}}
// written at save time and verified on load, so a bit-flipped or truncated file is refused rather than used.
// Hashing is streamed through one reused buffer (never the whole file in memory); verification compares sizes
// of every file first (a stat each, so a truncated file fails before any hashing) and then the hashes.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { createHash } from 'node:crypto';
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
    throw new ChecksumError(`${path}: not valid JSON (${(e as Error).message}); delete it to load without verification`);
  }
  return parseChecksums(raw, path);
}

/** Validates the shape of a checksums manifest; errors name the file and the field. */
export function parseChecksums(raw: unknown, where: string): ChecksumManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ChecksumError(`${where}: expected a JSON object {"algorithm": "sha256", "files": {…}}, got ${describe(raw)}`);
  const o = raw as Record<string, unknown>;
  if (o.algorithm !== 'sha256') throw new ChecksumError(`${where}: algorithm must be "sha256", got ${JSON.stringify(o.algorithm)}`);
  if (typeof o.files !== 'object' || o.files === null || Array.isArray(o.files)) throw new ChecksumError(`${where}: "files" must be an object of name → {size, sha256}, got ${describe(o.files)}`);
  const files: Record<string, FileChecksum> = {};
  for (const [name, entry] of Object.entries(o.files as Record<string, unknown>)) {
    checkName(name, `${where}: files`);
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null) throw new ChecksumError(`${where}: files[${JSON.stringify(name)}] must be {size, sha256}, got ${describe(entry)}`);
    if (!Number.isSafeInteger(e.size) || (e.size as number) < 0) throw new ChecksumError(`${where}: files[${JSON.stringify(name)}].size must be a non-negative integer, got ${JSON.stringify(e.size)}`);
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) throw new ChecksumError(`${where}: files[${JSON.stringify(name)}].sha256 must be 64 lowercase hex digits, got ${JSON.stringify(e.sha256)}`);
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
  if (level === 'none') return;
  const names = Object.keys(manifest.files).sort();
  for (const name of names) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new ChecksumError(`${path}: listed in ${CHECKSUMS_FILE} but missing`);
    const size = statSync(path).size;
    const want = manifest.files[name].size;
    if (size !== want) throw new ChecksumError(`${path}: size ${size} bytes, ${CHECKSUMS_FILE} expects ${want} (the file is truncated or was replaced); re-save the checkpoint or restore the file`);
  }
  if (level !== 'full') return;
  for (const name of names) {
    const path = join(dir, name);
    const got = hashFile(path).sha256;
    const want = manifest.files[name].sha256;
    if (got !== want) throw new ChecksumError(`${path}: sha256 ${got}, ${CHECKSUMS_FILE} expects ${want} (the file is corrupt or was changed after saving); re-save the checkpoint or restore the file`);
  }
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
