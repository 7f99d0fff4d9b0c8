// The GGUF writer: a file parsed back by @huggingface/gguf (keys of every value type, tensor names, reversed
// dims, aligned offsets), q8_0 blocks against hand-computed ones and against ggml's rounding rules on both
// tensor backends, and the refusals (bad rows, wrong byte counts, duplicates) leaving no file behind.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gguf } from '@huggingface/gguf';
import { GGUF_DEFAULT_ALIGNMENT, GgufValueType } from '../../src/io/gguf/constants.ts';
import { packQ8_0, unpackQ8_0 } from '../../src/io/gguf/q8_0.ts';
import { kv, writeGguf, GgufWriteError } from '../../src/io/gguf/writer.ts';
import { f16BitsToF32, f32ToF16Bits } from '../../src/io/dtypes.ts';
import { backendName, nativeAvailable, q8Parts, quantizeWeight, setBackend, Tensor } from '../../src/tensor/index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olmo-gguf-write-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('writeGguf', () => {
  it('writes a header @huggingface/gguf reads back: every value type, reversed dims, aligned offsets', async () => {
    const file = path.join(dir, 'round.gguf');
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Uint16Array(5).fill(f32ToF16Bits(0.5));
    const size = writeGguf(
      file,
      [
        ['general.architecture', kv.str('olmo2')],
        ['t.u8', kv.u8(7)],
        ['t.i32', kv.i32(-3)],
        ['t.u32', kv.u32(4000000000)],
        ['t.u64', kv.u64(2n ** 40n)],
        ['t.f32', kv.f32(0.25)],
        ['t.f64', kv.f64(1e-300)],
        ['t.bool', kv.bool(true)],
        ['t.strs', kv.array(GgufValueType.STRING, ['Ġthe', '<|endoftext|>', 'é'])],
        ['t.ints', kv.array(GgufValueType.INT32, [1, -2, 3])],
      ],
      [
        { name: 'a', shape: [2, 3], type: 'F32', data: (w) => w(bytesOf(a)) },
        { name: 'b', shape: [5], type: 'F16', data: (w) => w(bytesOf(b)) },
      ],
    );
    assert.equal(fs.statSync(file).size, size);
    const { metadata, tensorInfos, tensorDataOffset } = await gguf(file, { allowLocalFile: true });
    assert.equal(metadata.version, 3);
    assert.equal(metadata['general.architecture'], 'olmo2');
    assert.equal((metadata as unknown as Record<string, unknown>)['general.alignment'], GGUF_DEFAULT_ALIGNMENT);
    const m = metadata as unknown as Record<string, unknown>;
    assert.equal(m['t.u8'], 7);
    assert.equal(m['t.i32'], -3);
    assert.equal(m['t.u32'], 4000000000);
    assert.equal(m['t.u64'], 2n ** 40n);
    assert.equal(m['t.f32'], 0.25);
    assert.equal(m['t.f64'], 1e-300);
    assert.equal(m['t.bool'], true);
    assert.deepEqual(m['t.strs'], ['Ġthe', '<|endoftext|>', 'é']);
    assert.deepEqual(m['t.ints'], [1, -2, 3]);
    assert.deepEqual(
      tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype, Number(t.offset)]),
      [
        ['a', [3, 2], 0, 0], // ne[0] is the row length
        ['b', [5], 1, 32], // 24 bytes of `a` padded to 32
      ],
    );
    assert.equal(Number(tensorDataOffset) % GGUF_DEFAULT_ALIGNMENT, 0);
    const raw = fs.readFileSync(file);
    const data = Number(tensorDataOffset);
    assert.deepEqual(new Float32Array(raw.buffer.slice(raw.byteOffset + data, raw.byteOffset + data + 24)), a);
    assert.equal(f16BitsToF32(raw.readUInt16LE(data + 32 + 8)), 0.5);
    assert.equal(raw.length, data + 32 + 32, 'the last tensor is padded to the alignment too, as ggml does');
  });

  it('refuses rows that are not whole q8_0 blocks, a producer writing the wrong size, duplicates; no file is left', () => {
    const file = path.join(dir, 'bad.gguf');
    const cases: [() => number, RegExp][] = [
      [
        () => writeGguf(file, [], [{ name: 'w', shape: [2, 48], type: 'Q8_0', data: () => {} }]),
        /tensor w \[2, 48\]: type Q8_0 stores rows in blocks of 32 values, but the row length is 48/,
      ],
      [
        () => writeGguf(file, [], [{ name: 'w', shape: [4], type: 'F32', data: (w) => w(new Uint8Array(12)) }]),
        /tensor w: its producer wrote 12 bytes, its shape and type need 16/,
      ],
      [
        () =>
          writeGguf(
            file,
            [
              ['k', kv.u32(1)],
              ['k', kv.u32(2)],
            ],
            [],
          ),
        /key k is given twice/,
      ],
      [() => writeGguf(file, [['k', kv.u32(1.5)]], []), /GGUF metadata k: value type 4 takes an integer/],
      [
        () => writeGguf(file, [], [{ name: 'x'.repeat(64), shape: [1], type: 'F32', data: () => {} }]),
        /longer than ggml's 63 bytes/,
      ],
      [() => writeGguf(file, [], [{ name: 'w', shape: [1, 1, 1, 1, 1], type: 'F32', data: () => {} }]), /5 dimensions/],
    ];
    for (const [fn, re] of cases) {
      assert.throws(fn, (e: Error) => e instanceof GgufWriteError && re.test(e.message), re.source);
      assert.equal(fs.existsSync(file), false);
    }
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary file is left',
    );
  });
});

/** ggml's quantize_row_q8_0_ref on one block, written out: d = amax/127, id = 1/d, q = roundf(x·id). */
function ggmlBlock(x: number[]): { d: number; q: number[] } {
  const amax = Math.max(...x.map(Math.abs));
  const d = Math.fround(amax / 127);
  const id = d ? Math.fround(1 / d) : 0;
  const roundf = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5); // half away from zero
  return { d: f32ToF16Bits(d), q: x.map((v) => roundf(Math.fround(Math.fround(v) * id))) };
}

describe('q8_0', () => {
  it('packs a block as f16 scale then 32 int8 quants (34 bytes), and unpacks it', () => {
    const quants = Int8Array.from({ length: 64 }, (_, i) => (i % 2 ? -i : i));
    const scales = new Uint16Array([0x3c00, 0x1234]);
    const blocks = packQ8_0(quants, scales);
    assert.equal(blocks.length, 68);
    assert.deepEqual([...blocks.subarray(0, 4)], [0x00, 0x3c, 0, 0xff]); // d = 1.0 (f16 0x3c00), q0 = 0, q1 = -1
    assert.deepEqual([...blocks.subarray(34, 36)], [0x34, 0x12]);
    assert.equal((blocks[36 + 5] << 24) >> 24, -37);
    const back = unpackQ8_0(blocks);
    assert.deepEqual(back.quants, quants);
    assert.deepEqual(back.scales, scales);
    assert.throws(() => packQ8_0(new Int8Array(33), new Uint16Array(1)), /multiple of 32/);
    assert.throws(() => unpackQ8_0(new Uint8Array(35)), /not a whole number of 34-byte blocks/);
  });

  // ties (x·id exactly k + 0.5 round away from zero), an all-zero block (d = 0, id = 0), amax from a negative value
  const ties = Array.from({ length: 32 }, (_, i) => (i === 0 ? 127 : i % 2 ? i + 0.5 : -(i + 0.5)));
  const zero = new Array<number>(32).fill(0);
  const negMax = Array.from({ length: 32 }, (_, i) => (i === 7 ? -3 : Math.sin(i) * 2));
  const hand = ggmlBlock(ties);
  it('a block of ties rounds half away from zero (hand-computed)', () => {
    assert.equal(hand.d, 0x3c00); // amax 127 → d = 1
    assert.deepEqual(hand.q.slice(0, 4), [127, 2, -3, 4]); // 1.5 → 2, -2.5 → -3, 3.5 → 4
  });
  const backends = nativeAvailable() ? (['js', 'native'] as const) : (['js'] as const);
  for (const backend of backends) {
    it(`quantizeWeight (${backend}) equals ggml's rounding on ties, an all-zero block and a negative amax`, () => {
      const before = backendName();
      setBackend(backend);
      try {
        const w = Float32Array.from([...ties, ...zero, ...negMax]);
        const q = quantizeWeight(Tensor.fromStorage([1, 96], 'f32', w));
        const blocks = [ties, zero, negMax].map(ggmlBlock);
        const { quants, scales } = q8Parts(q);
        assert.deepEqual(
          [...scales],
          blocks.map((b) => b.d),
        );
        assert.deepEqual(
          [...quants],
          blocks.flatMap((b) => b.q),
        );
        assert.equal(blocks[2].q[7], -127, 'the value whose magnitude is amax maps to ±127');
      } finally {
        setBackend(before);
      }
    });
  }
});
