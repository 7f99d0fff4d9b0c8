// checksums.json: computed streamed, written atomically, read with shape checks, and verification that refuses a
// truncated (size) or bit-flipped (hash) file, naming the file, the expected and the actual value.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  CHECKSUMS_FILE,
  ChecksumError,
  computeChecksums,
  hashFile,
  manifestDigest,
  parseChecksums,
  readChecksums,
  saveChecksums,
  startVerification,
  verifyChecksums,
  verifyFolder,
} from '../../src/io/checksums.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-checksums-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function folder(files: Record<string, Buffer | string>): string {
  const dir = join(root, `d${n++}`);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('hashFile streams files larger than one chunk and matches a whole-buffer hash', () => {
  const big = Buffer.alloc((4 << 20) * 2 + 12345);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
  const dir = folder({ 'big.bin': big, 'empty.bin': '' });
  assert.deepEqual(hashFile(join(dir, 'big.bin')), { size: big.length, sha256: sha(big) });
  assert.deepEqual(hashFile(join(dir, 'empty.bin')), { size: 0, sha256: sha('') });
});

test('save then read round-trips; the write leaves no temporary file; verify passes on an intact folder', () => {
  const dir = folder({ 'a.bin': 'hello', 'sub/b.json': '{"x":1}' });
  const m = saveChecksums(dir, ['sub/b.json', 'a.bin']);
  assert.deepEqual(m, {
    algorithm: 'sha256',
    files: { 'a.bin': { size: 5, sha256: sha('hello') }, 'sub/b.json': { size: 7, sha256: sha('{"x":1}') } },
  });
  assert.deepEqual(readChecksums(dir), m);
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', CHECKSUMS_FILE, 'sub']);
  verifyChecksums(dir, m, 'full');
  assert.deepEqual(verifyFolder(dir), m);
  assert.equal(readChecksums(folder({})), null, 'a folder without checksums.json has nothing to verify');
  assert.equal(verifyFolder(folder({ 'x.bin': 'x' })), null);
});

test('a bit flip is refused by full verification (file, expected and actual hash named) but passes size-only', () => {
  const data = Buffer.from('0123456789abcdef'.repeat(100));
  const dir = folder({ 'model.safetensors': data });
  const m = saveChecksums(dir, ['model.safetensors']);
  const flipped = Buffer.from(data);
  flipped[700] ^= 0x04;
  writeFileSync(join(dir, 'model.safetensors'), flipped);
  assert.throws(
    () => verifyChecksums(dir, m, 'full'),
    (e: Error) =>
      e instanceof ChecksumError &&
      e.message.includes(join(dir, 'model.safetensors')) &&
      e.message.includes(`sha256 ${sha(flipped)}`) &&
      e.message.includes(`expects ${sha(data)}`),
  );
  verifyChecksums(dir, m, 'size');
  verifyChecksums(dir, m, 'none');
});

test('a truncated or missing file is refused by size verification, naming file, expected and actual size', () => {
  const dir = folder({ 'w.bin': Buffer.alloc(1000, 1), 'c.json': '{}' });
  const m = saveChecksums(dir, ['w.bin', 'c.json']);
  truncateSync(join(dir, 'w.bin'), 600);
  assert.throws(() => verifyChecksums(dir, m, 'size'), /w\.bin: size 600 bytes, checksums\.json expects 1000/);
  rmSync(join(dir, 'c.json'));
  assert.throws(() => verifyChecksums(dir, m, 'size'), /c\.json: listed in checksums\.json but missing/);
  assert.throws(() => computeChecksums(dir, ['nope.bin']), /nope\.bin: cannot checksum a file that does not exist/);
});

test('a malformed manifest is refused with the field named', () => {
  const w = 'm.json';
  const good = { size: 1, sha256: 'a'.repeat(64) };
  assert.throws(() => parseChecksums([], w), /m\.json: expected a JSON object/);
  assert.throws(() => parseChecksums({ algorithm: 'md5', files: {} }, w), /algorithm must be "sha256", got "md5"/);
  assert.throws(() => parseChecksums({ algorithm: 'sha256', files: [] }, w), /"files" must be an object/);
  assert.throws(
    () => parseChecksums({ algorithm: 'sha256', files: { a: { size: -1, sha256: good.sha256 } } }, w),
    /files\["a"\]\.size must be a non-negative integer, got -1/,
  );
  assert.throws(
    () => parseChecksums({ algorithm: 'sha256', files: { a: { size: 1, sha256: 'XYZ' } } }, w),
    /files\["a"\]\.sha256 must be 64 lowercase hex digits, got "XYZ"/,
  );
  assert.throws(
    () => parseChecksums({ algorithm: 'sha256', files: { '../etc/passwd': good } }, w),
    /"\.\.\/etc\/passwd" is not a relative file name inside the folder/,
  );
  assert.throws(
    () => parseChecksums({ algorithm: 'sha256', files: { '/abs': good } }, w),
    /is not a relative file name/,
  );
  const dir = folder({ [CHECKSUMS_FILE]: '{"algorithm": "sha256", ' });
  assert.throws(
    () => readChecksums(dir),
    (e: Error) => e instanceof ChecksumError && e.message.startsWith(`${join(dir, CHECKSUMS_FILE)}: not valid JSON`),
  );
});

test('manifestDigest depends on the selected entries only, not on key order', () => {
  const dir = folder({ 'a.safetensors': 'A', 'b.safetensors': 'B', 'config.json': '{}' });
  const m = computeChecksums(dir, ['b.safetensors', 'a.safetensors', 'config.json']);
  const weights = (f: string) => f.endsWith('.safetensors');
  const reordered = parseChecksums(
    JSON.parse(JSON.stringify({ algorithm: 'sha256', files: Object.fromEntries(Object.entries(m.files).reverse()) })),
    'x',
  );
  assert.equal(manifestDigest(reordered, weights), manifestDigest(m, weights));
  writeFileSync(join(dir, 'config.json'), '{"changed":1}');
  assert.equal(
    manifestDigest(computeChecksums(dir, ['a.safetensors', 'b.safetensors', 'config.json']), weights),
    manifestDigest(m, weights),
  );
  writeFileSync(join(dir, 'a.safetensors'), 'Z');
  assert.notEqual(
    manifestDigest(computeChecksums(dir, ['a.safetensors', 'b.safetensors']), weights),
    manifestDigest(m, weights),
  );
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).changed, 1);
});

test('hashing on a worker thread (startVerification) reports the same results as hashing inline', () => {
  const data = Buffer.alloc(3 << 20, 9);
  const dir = folder({ 'a.safetensors': data, 'b.json': '{}' });
  const m = saveChecksums(dir, ['a.safetensors', 'b.json']);
  startVerification(dir, m, 'full', 0).wait();
  const flipped = Buffer.from(data);
  flipped[12345] ^= 1;
  writeFileSync(join(dir, 'a.safetensors'), flipped);
  const pending = startVerification(dir, m, 'full', 0);
  assert.throws(
    () => pending.wait(),
    (e: Error) =>
      e instanceof ChecksumError &&
      e.message.includes(`a.safetensors: sha256 ${sha(flipped)}, checksums.json expects ${sha(data)}`),
  );
  startVerification(dir, m, 'size', 0).wait();
  startVerification(dir, m, 'full', 0).cancel();
  truncateSync(join(dir, 'a.safetensors'), 10);
  assert.throws(
    () => startVerification(dir, m, 'full', 0),
    /a\.safetensors: size 10 bytes/,
    'sizes are checked before any hashing starts',
  );
});
