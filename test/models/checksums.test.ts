// saveModel writes checksums.json; loadModel refuses a bit-flipped or truncated weight file (naming the file, the
// expected and the actual value), 'size' skips hashing, and a folder without checksums.json loads as before.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointError, loadModel, saveModel } from '../../src/models/index.ts';
import { readChecksums } from '../../src/io/checksums.ts';
import { VARIANTS, randomModel } from './variants.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-ckpt-sums-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function saved(): string {
  const dir = join(root, `m${n++}`);
  saveModel(randomModel(VARIANTS['olmo2 GQA tied']), dir, { dtype: 'bfloat16' });
  return dir;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('saveModel records size and sha256 of every file it writes', () => {
  const dir = saved();
  const m = readChecksums(dir)!;
  assert.deepEqual(Object.keys(m.files).sort(), ['config.json', 'model.safetensors']);
  for (const [name, e] of Object.entries(m.files)) {
    const bytes = readFileSync(join(dir, name));
    assert.deepEqual(e, { size: bytes.length, sha256: sha(bytes) }, name);
  }
  const model = loadModel(dir);
  assert.equal(model.config.hiddenSize, 32);
});

test('a bit flip in the weights is refused by default, naming file, expected and actual hash; verify size loads it', () => {
  const dir = saved();
  const file = join(dir, 'model.safetensors');
  const before = readFileSync(file);
  const flipped = Buffer.from(before);
  flipped[flipped.length - 3] ^= 0x10; // a bit in the last tensor's data: the header still parses
  writeFileSync(file, flipped);
  assert.throws(
    () => loadModel(dir),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.includes(`${file}: sha256 ${sha(flipped)}, checksums.json expects ${sha(before)}`),
  );
  assert.throws(() => loadModel(dir, { verify: 'full' }), /refusing to load/);
  loadModel(dir, { verify: 'size' });
  loadModel(dir, { verify: 'none' });
});

test('a truncated weight file is refused by size before its tensors are read', () => {
  const dir = saved();
  const file = join(dir, 'model.safetensors');
  const size = statSync(file).size;
  truncateSync(file, size - 100);
  for (const verify of ['full', 'size'] as const) {
    assert.throws(
      () => loadModel(dir, { verify }),
      (e: Error) =>
        e instanceof CheckpointError &&
        e.message.includes(`${file}: size ${size - 100} bytes, checksums.json expects ${size}`),
    );
  }
});

test('a folder without checksums.json (a Hugging Face download) loads as before', () => {
  const dir = saved();
  rmSync(join(dir, 'checksums.json'));
  const model = loadModel(dir);
  assert.equal(model.config.numLayers, 3);
});

test('a malformed checksums.json is refused with its path', () => {
  const dir = saved();
  writeFileSync(join(dir, 'checksums.json'), '{"algorithm":"md5","files":{}}');
  assert.throws(
    () => loadModel(dir),
    (e: Error) =>
      e instanceof CheckpointError && e.message.includes(`${join(dir, 'checksums.json')}: algorithm must be "sha256"`),
  );
  loadModel(dir, { verify: 'none' });
});
