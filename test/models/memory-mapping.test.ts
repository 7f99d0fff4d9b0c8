// The memory behind inference weights: mapFile (native/mmap.cc) gives the file's bytes whether or not every page is
// mapped up front (MADV_POPULATE_READ, shared with the page cache), past 4 GiB too; releasePages takes a mapping's pages out of the resident set
// (int8 loading, once a matrix is quantised) and populatePages maps a range in one pass (before it is quantised);
// allocLarge gives zeroed, writable buffers of the size asked (on
// 2 MiB-aligned huge-page memory from the addon when the buffer spans a huge page; q8_0 quants live there);
// tensor storage of 4 KiB and more starts on a 64-byte boundary (allocAligned), zeroed, with the bytes asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, nativeAvailable, quantizeWeight } from '../../src/tensor/index.ts';
import { allocStorage, DTYPES } from '../../src/tensor/dtype.ts';
import {
  addressAlignment,
  allocAligned,
  allocLarge,
  mapFile,
  populatePages,
  releasePages,
} from '../../src/tensor/mapped-file.ts';

test('mapFile: the same bytes as reading the file, populated up front or faulted in', (t) => {
  if (!nativeAvailable()) return t.skip('native addon not built');
  const dir = mkdtempSync(join(tmpdir(), 'olmo-map-'));
  try {
    const path = join(dir, 'w.bin');
    const bytes = Uint8Array.from({ length: 3 * 1024 * 1024 + 123 }, (_, i) => (i * 31 + (i >> 12)) & 255);
    writeFileSync(path, bytes);
    const expected = readFileSync(path);
    for (const populate of [false, true]) {
      const buf = mapFile(path, populate);
      assert.ok(buf, 'mapped');
      assert.equal(buf.byteLength, bytes.length);
      assert.ok(Buffer.from(buf).equals(expected), `populate ${populate}: bytes differ`);
    }
    assert.throws(() => mapFile(join(dir, 'missing.bin')), /cannot map .*missing\.bin: open: No such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** This process's resident file-backed (RssFile) or anonymous (RssAnon) memory (Linux), in bytes. */
function resident(field: 'RssFile' | 'RssAnon'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

test('mapFile(path, true) maps the pages of the page cache, not private copies of them', (t) => {
  if (!nativeAvailable()) return t.skip('native addon not built');
  const dir = mkdtempSync(join(tmpdir(), 'olmo-map-populate-'));
  try {
    const path = join(dir, 'w.bin');
    const mib = 64;
    const fd = openSync(path, 'w'); // a MiB at a time: no large JS buffer to be collected while RSS is read
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < mib; i++) writeSync(fd, chunk);
    closeSync(fd);
    const probe = mapFile(path)!;
    if (populatePages(probe, 0, 4096) === 0) return t.skip('the kernel has no MADV_POPULATE_READ');
    const [file0, anon0] = [resident('RssFile'), resident('RssAnon')];
    const buf = mapFile(path, true);
    const [file1, anon1] = [resident('RssFile'), resident('RssAnon')];
    assert.ok(buf && new Uint8Array(buf)[(mib << 20) - 1] === 7);
    // populating for writing (MAP_POPULATE on this private writable mapping) made every page a private copy
    const kb = (bytes: number) => Math.round(bytes / 1024);
    assert.ok(
      anon1 - anon0 < (mib << 20) / 4,
      `anonymous memory grew by ${kb(anon1 - anon0)} kB for a ${mib} MiB file`,
    );
    assert.ok(
      file1 - file0 > ((mib << 20) * 3) / 4,
      `file-backed memory grew by only ${kb(file1 - file0)} kB: not populated`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mapFile maps a file past 4 GiB (a 5 GB safetensors shard; N-API alone aborted the process on it)', (t) => {
  if (!nativeAvailable()) return t.skip('native addon not built');
  const dir = mkdtempSync(join(tmpdir(), 'olmo-map-big-'));
  try {
    // Sparse: only the two marked pages take disk space.
    const path = join(dir, 'shard.safetensors');
    const size = 4.5 * 2 ** 30;
    const fd = openSync(path, 'w');
    writeSync(fd, Uint8Array.of(1, 2, 3), 0, 3, 10);
    writeSync(fd, Uint8Array.of(7, 8, 9), 0, 3, size - 3);
    ftruncateSync(fd, size);
    closeSync(fd);
    const buf = mapFile(path);
    assert.ok(buf);
    assert.equal(buf.byteLength, size);
    assert.deepEqual([...new Uint8Array(buf, 10, 3)], [1, 2, 3]);
    assert.deepEqual([...new Uint8Array(buf, size - 4, 4)], [0, 7, 8, 9]);
    assert.deepEqual([...new Uint16Array(buf, 2 ** 32 + 4096, 2)], [0, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A file of `size` bytes (byte i = byteAt(i)) in a new temporary folder, and its mapping. */
function mappedFile(prefix: string, size: number, byteAt: (i: number) => number) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const bytes = new Uint8Array(size).map((_, i) => byteAt(i));
  writeFileSync(join(dir, 'w.bin'), bytes);
  return { dir, bytes, buf: mapFile(join(dir, 'w.bin'))! };
}

test('releasePages: pages of a mapping leave the resident set and stay readable; other buffers untouched', (t) => {
  if (!nativeAvailable()) return t.skip('native addon not built');
  const size = 64 * 1024 * 1024;
  const { dir, bytes, buf } = mappedFile('olmo-release-', size, (i) => (i * 7 + (i >> 16)) & 255);
  try {
    const view = new Uint8Array(buf);
    let sum = 0;
    for (let i = 0; i < size; i += 4096) sum += view[i];
    const before = resident('RssFile');
    // Whole pages only: the unaligned ends of the range stay.
    assert.equal(releasePages(buf, 100, size - 200), size - 2 * 4096);
    const after = resident('RssFile');
    assert.ok(before - after >= size / 2, `RssFile ${before} -> ${after}: the pages were not released`);
    assert.ok(Buffer.from(buf).equals(bytes), 'contents changed after release');
    let again = 0;
    for (let i = 0; i < size; i += 4096) again += view[i];
    assert.equal(again, sum);
    // A buffer mapFile did not make (the JS heap's) is left alone.
    const heap = new Uint8Array(1 << 20).fill(5);
    assert.equal(releasePages(heap.buffer, 0, heap.length), 0);
    assert.ok(heap.every((v) => v === 5));
    assert.throws(() => releasePages(buf, size - 10, 20), /releasePages: .* is outside the buffer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('populatePages: a range of a mapping becomes resident in one call, every page it touches; contents unchanged', (t) => {
  if (!nativeAvailable()) return t.skip('native addon not built');
  const size = 32 * 1024 * 1024;
  const { dir, bytes, buf } = mappedFile('olmo-populate-', size, (i) => (i * 13 + (i >> 14)) & 255);
  try {
    releasePages(buf, 0, size); // nothing of it resident, whatever the read-ahead did
    const before = resident('RssFile');
    const mapped = populatePages(buf, 100, size / 2);
    if (mapped === 0) return t.skip('this kernel has no MADV_POPULATE_READ (Linux 5.14)');
    assert.equal(mapped, size / 2 + 4096, 'every page the range touches, the partial last one included');
    const after = resident('RssFile');
    assert.ok(after - before >= size / 4, `RssFile ${before} -> ${after}: the pages were not mapped`);
    assert.ok(Buffer.from(buf).equals(bytes), 'contents changed');
    const heap = new Uint8Array(1 << 20).fill(3);
    assert.equal(populatePages(heap.buffer, 0, heap.length), 0, 'a buffer mapFile did not make is left alone');
    assert.throws(() => populatePages(buf, -1, 10), /populatePages: .* is outside the buffer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('allocLarge: zeroed, writable, exactly the bytes asked; bad sizes refused', () => {
  for (const n of [0, 100, 2 * 1024 * 1024, 5 * 1024 * 1024 + 7]) {
    const buf = allocLarge(n);
    assert.equal(buf.byteLength, n);
    const u8 = new Uint8Array(buf);
    assert.ok(
      u8.every((v) => v === 0),
      `${n} bytes: not zeroed`,
    );
    if (n > 0) {
      u8[n - 1] = 7;
      u8[0] = 9;
      assert.deepEqual([u8[0], u8[n - 1]], [9, 7]);
    }
  }
  assert.throws(() => allocLarge(-1), /allocLarge: bytes must be a non-negative integer, got -1/);
  assert.throws(() => allocLarge(1.5), /allocLarge: bytes must be a non-negative integer, got 1.5/);
});

test('allocAligned and tensor storage: zeroed, exactly the size asked, on a 64-byte boundary from 4 KiB', (t) => {
  if (!nativeAvailable()) return t.skip('native addon not built');
  // the JS heap aligns to 16 only: a plain buffer of this size starts elsewhere than a cache line boundary at least
  // some of the time, so the check below can fail
  const plain = Array.from({ length: 16 }, () => addressAlignment(new ArrayBuffer(8192))!);
  assert.ok(Math.min(...plain) < 64, `plain ArrayBuffers all 64-aligned (${plain}): the test proves nothing here`);
  for (const n of [4096, 4100, 100_003, 3 << 20]) {
    const buf = allocAligned(n);
    assert.equal(buf.byteLength, n);
    assert.ok(addressAlignment(buf)! >= 64, `${n} bytes at alignment ${addressAlignment(buf)}`);
    const u8 = new Uint8Array(buf);
    assert.ok(
      u8.every((v) => v === 0),
      `${n} bytes: not zeroed`,
    );
    u8[n - 1] = 5;
    assert.equal(u8[n - 1], 5);
  }
  for (const dtype of DTYPES.filter((d) => d !== 'q8_0')) {
    const s = allocStorage(dtype, 5000); // 5000 bytes and up: over the 4 KiB below which the JS heap serves
    assert.equal(s.length, 5000);
    assert.equal(s.byteOffset, 0);
    assert.ok(addressAlignment(s.buffer)! >= 64, `${dtype} storage at alignment ${addressAlignment(s.buffer)}`);
  }
  // q8_0 matrices are stored by rows (quants, then scales), made by quantizeWeight or q8Weight, never empty.
  assert.throws(() => allocStorage('q8_0', 5000), /q8_0 storage is made by quantizeWeight or q8Weight/);
  assert.equal(addressAlignment(allocAligned(8192), 16)! % 64, 16, 'byte 16 of an aligned buffer');
  assert.throws(() => allocAligned(-1), /allocAligned: bytes must be a non-negative integer, got -1/);
  assert.throws(
    () => addressAlignment(allocAligned(64), 65),
    /addressAlignment: offset 65.* outside the buffer's 64 bytes/,
  );
});

test('quantizeWeight on a huge-page buffer gives the q8_0 rows of ordinary buffers', () => {
  const rows = 512;
  const cols = 4096; // over 2 MiB of q8_0 rows: the allocLarge path; 8 rows (136 KiB) take the JS heap's
  const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37) * (1 + (i % 97) / 10));
  const whole = quantizeWeight(Tensor.fromStorage([rows, cols], 'f32', w));
  assert.equal(whole.dtype, 'q8_0');
  const stride = cols + cols / 16; // each row's quants, then its block scales
  assert.equal(whole.data.byteLength, rows * stride);
  for (let r = 0; r < rows; r += 8) {
    const part = quantizeWeight(Tensor.fromStorage([8, cols], 'f32', w.slice(r * cols, (r + 8) * cols)));
    assert.deepEqual(part.data, (whole.data as Int8Array).subarray(r * stride, (r + 8) * stride), `rows ${r}..`);
  }
});
