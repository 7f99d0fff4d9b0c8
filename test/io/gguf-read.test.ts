// GGUF header reader (src/io/gguf/reader.ts): every metadata value type, tensor shapes in our order and absolute
// offsets, checked against @huggingface/gguf's parse of the same file; bad magic, unsupported version, a header
// cut short, tensor data past the end and a misaligned offset fail naming the file and what is wrong.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { GgufValueType } from '../../src/io/gguf/constants.ts';
import { readGguf } from '../../src/io/gguf/reader.ts';
import { kv, writeGguf, type GgufKv } from '../../src/io/gguf/writer.ts';
import { parseModelRef, resolveModelRef } from '../../src/io/model-ref.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-gguf-read-'));
after(() => rmSync(root, { recursive: true, force: true }));

const METADATA: [string, GgufKv][] = [
  ['general.architecture', kv.str('olmo2')],
  ['test.u8', kv.u8(200)],
  ['test.i8', { type: GgufValueType.INT8, value: -100 }],
  ['test.u16', { type: GgufValueType.UINT16, value: 60000 }],
  ['test.i16', { type: GgufValueType.INT16, value: -30000 }],
  ['test.u32', kv.u32(4_000_000_000)],
  ['test.i32', kv.i32(-2_000_000_000)],
  ['test.f32', kv.f32(1e-6)],
  ['test.bool', kv.bool(true)],
  ['test.str', kv.str('héllo ✓')],
  ['test.u64', kv.u64(2n ** 40n)],
  ['test.u64big', kv.u64(2n ** 60n)],
  ['test.i64', { type: GgufValueType.INT64, value: -5n }],
  ['test.f64', kv.f64(Math.PI)],
  ['test.strings', kv.array(GgufValueType.STRING, ['a', 'Ġb', ''])],
  ['test.ints', kv.array(GgufValueType.INT32, [1, -2, 3])],
];

/** A GGUF file with a 2×3 f32 matrix, a 5-vector and a 2×32 q8_0 matrix. */
function sample(path: string, extra: [string, GgufKv][] = []): string {
  const f32 = (values: number[]) => (w: (b: Uint8Array) => void) => w(new Uint8Array(new Float32Array(values).buffer));
  writeGguf(
    path,
    [...METADATA, ...extra],
    [
      { name: 'm.weight', shape: [2, 3], type: 'F32', data: f32([1, 2, 3, 4, 5, 6]) },
      { name: 'v.weight', shape: [5], type: 'F32', data: f32([1, 2, 3, 4, 5]) },
      { name: 'q.weight', shape: [2, 32], type: 'Q8_0', data: (w) => w(new Uint8Array(2 * 34).fill(1)) },
    ],
  );
  return path;
}

describe('readGguf', () => {
  const path = sample(join(root, 'sample.gguf'));

  it('reads every value type, shapes in our order and absolute 32-byte-aligned offsets', () => {
    const f = readGguf(path);
    assert.equal(f.version, 3);
    const m = f.metadata;
    assert.equal(m.get('general.architecture'), 'olmo2');
    assert.equal(m.get('test.u8'), 200);
    assert.equal(m.get('test.i8'), -100);
    assert.equal(m.get('test.u16'), 60000);
    assert.equal(m.get('test.i16'), -30000);
    assert.equal(m.get('test.u32'), 4_000_000_000);
    assert.equal(m.get('test.i32'), -2_000_000_000);
    assert.equal(m.get('test.f32'), Math.fround(1e-6));
    assert.equal(m.get('test.bool'), true);
    assert.equal(m.get('test.str'), 'héllo ✓');
    assert.equal(m.get('test.u64'), 2 ** 40); // exact as a number
    assert.equal(m.get('test.u64big'), 2n ** 60n); // beyond 2^53: kept as a bigint
    assert.equal(m.get('test.i64'), -5);
    assert.equal(m.get('test.f64'), Math.PI);
    assert.deepEqual(m.get('test.strings'), ['a', 'Ġb', '']);
    assert.deepEqual(m.get('test.ints'), [1, -2, 3]);
    assert.equal(m.get('general.alignment'), 32);
    const t = f.tensors.get('m.weight')!;
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.byteLength, 24);
    assert.equal(f.dataOffset % 32, 0);
    assert.equal(t.offset, f.dataOffset);
    const bytes = readFileSync(path);
    assert.deepEqual(
      [...new Float32Array(bytes.buffer.slice(bytes.byteOffset + t.offset, bytes.byteOffset + t.offset + 24))],
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(f.tensors.get('v.weight')!.offset, f.dataOffset + 32);
    const q = f.tensors.get('q.weight')!;
    assert.equal(q.byteLength, 68);
    assert.equal(q.offset, f.dataOffset + 64);
  });

  it('agrees with @huggingface/gguf on keys, tensor names, dims, types and the data offset', async () => {
    const ours = readGguf(path);
    const theirs = await gguf(path, { allowLocalFile: true });
    const meta = theirs.metadata as unknown as Record<string, unknown>;
    for (const [k, v] of ours.metadata) {
      const their = meta[k];
      if (typeof their === 'bigint' && typeof v === 'number') assert.equal(Number(their), v, k);
      else assert.deepEqual(their, v, k);
    }
    assert.equal(Number(theirs.tensorDataOffset), ours.dataOffset);
    for (const t of theirs.tensorInfos) {
      const mine = ours.tensors.get(t.name)!;
      assert.deepEqual(t.shape.map(Number).reverse(), mine.shape, t.name);
      assert.equal(Number(t.dtype), mine.type, t.name);
      assert.equal(Number(t.offset) + ours.dataOffset, mine.offset, t.name);
    }
  });

  it('honours a general.alignment other than 32', () => {
    const f = readGguf(sample(join(root, 'aligned64.gguf'), [['general.alignment', kv.u32(64)]]));
    assert.equal(f.dataOffset % 64, 0);
    assert.equal(f.tensors.get('v.weight')!.offset, f.dataOffset + 64);
  });

  it('refuses a file that is not GGUF, naming its first bytes', () => {
    const bad = join(root, 'notgguf.gguf');
    writeFileSync(bad, Buffer.from('{"model_type": "olmo2"}'));
    assert.throws(() => readGguf(bad), /notgguf\.gguf: not a GGUF file: the first 4 bytes are 0x.*, expected "GGUF"/);
  });

  it('refuses an unsupported version, naming it and the supported ones', () => {
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(1, 4);
    const v1 = join(root, 'v1.gguf');
    writeFileSync(v1, bytes);
    assert.throws(() => readGguf(v1), /v1\.gguf: GGUF version 1 is not supported \(supported: 2, 3\)/);
  });

  it('refuses a header cut short, naming what it was reading and the file size', () => {
    const cut = join(root, 'cut.gguf');
    writeFileSync(cut, readFileSync(path).subarray(0, 200));
    assert.throws(
      () => readGguf(cut),
      /cut\.gguf: truncated header: .* needs bytes \d+\.\.\d+, the file has 200 bytes/,
    );
  });

  it('refuses tensor data past the end of the file, naming the tensor and the sizes', () => {
    const short = join(root, 'short.gguf');
    writeFileSync(short, readFileSync(path));
    const f = readGguf(short);
    truncateSync(short, f.tensors.get('q.weight')!.offset + 10);
    assert.throws(
      () => readGguf(short),
      /short\.gguf: tensor q\.weight \(Q8_0 \[2,32\]\) ends at byte \d+, past the end of the file \(\d+ bytes\): truncated/,
    );
  });

  it('refuses a tensor offset that is not a multiple of the alignment', () => {
    const bytes = readFileSync(path);
    // the last tensor info ends with q.weight's u64 offset (64), just before the padding to the data section
    const f = readGguf(path);
    const name = Buffer.from('q.weight');
    const at = bytes.lastIndexOf(name) + name.length + 4 + 2 * 8 + 4;
    assert.equal(Number(bytes.readBigUInt64LE(at)), f.tensors.get('q.weight')!.offset - f.dataOffset);
    bytes.writeBigUInt64LE(65n, at);
    const mis = join(root, 'misaligned.gguf');
    writeFileSync(mis, bytes);
    assert.throws(
      () => readGguf(mis),
      /misaligned\.gguf: tensor q\.weight's offset 65 is not a multiple of the alignment 32/,
    );
  });

  it('refuses a missing file with its path', () => {
    assert.throws(() => readGguf(join(root, 'absent.gguf')), /absent\.gguf: cannot open/);
  });
});

describe('a .gguf model reference', () => {
  it('an existing .gguf file is a GGUF reference, resolved to itself; a missing one is not-found, not a hub id', async () => {
    const path = sample(join(root, 'Model.GGUF'));
    assert.deepEqual(parseModelRef('Model.GGUF', root), { kind: 'gguf', path });
    assert.equal(await resolveModelRef(path), path);
    assert.throws(
      () => parseModelRef('owner/missing.gguf', root),
      (e: Error & { problem?: string }) =>
        e.problem === 'not-found' && /GGUF model file .*missing\.gguf does not exist/.test(e.message),
    );
    writeFileSync(join(root, 'weights.bin'), 'x');
    assert.throws(
      () => parseModelRef('weights.bin', root),
      /is a file; a model is a checkpoint folder .*, a \.gguf file or a hub id/,
    );
  });
});
