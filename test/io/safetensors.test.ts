// The safetensors layer: fixtures read and rewritten byte-for-byte, exact dtype conversions, round trips of every
// dtype, sharded checkpoints, every validation path (messages name file and tensor), and lazy reading.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bf16BitsToF32,
  DTYPE_BITS,
  DTYPES,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  fromFloat32,
  toFloat32,
  toInt32,
  type SafetensorsDtype,
} from '../../src/io/dtypes.ts';
import {
  loadSafetensors,
  MAX_HEADER_SIZE,
  openCheckpointTensors,
  openSafetensors,
  parseSafetensors,
  parseSize,
  planShards,
  readSafetensorsHeader,
  saveSafetensors,
  saveShardedSafetensors,
  SafetensorsError,
  serializeSafetensors,
  ShardedSafetensors,
  writeFileAtomically,
  type TensorToWrite,
} from '../../src/io/safetensors.ts';
import { rng } from '../helpers.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const FAMILIES = ['olmo', 'olmo2', 'olmoe'] as const;
const FIXTURE_FILES = [
  'model/model.safetensors',
  'model-bf16/model.safetensors',
  'reference.safetensors',
  'reference-bf16.safetensors',
  'greedy.safetensors',
  'adamw.safetensors',
];

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'olmo-ts-safetensors-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;
const bytesOf = (v: ArrayBufferView): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

// ---------------------------------------------------------------------------------------------------------
// Fixtures

interface Config {
  model_type: string;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  vocab_size: number;
  tie_word_embeddings: boolean;
  num_experts?: number;
  dtype: string;
}

/**
 * The parameter names and shapes a checkpoint of this config holds, as transformers' OLMo, OLMo 2 and OLMoE models
 * name them (https://github.com/huggingface/transformers/tree/main/src/transformers/models).
 */
function expectedParams(c: Config): Map<string, number[]> {
  const H = c.hidden_size;
  const I = c.intermediate_size;
  const hd = H / c.num_attention_heads;
  const q = c.num_attention_heads * hd;
  const kv = c.num_key_value_heads * hd;
  const m = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocab_size, H]]]);
  if (!c.tie_word_embeddings) m.set('lm_head.weight', [c.vocab_size, H]);
  if (c.model_type !== 'olmo') m.set('model.norm.weight', [H]);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    m.set(`${p}self_attn.q_proj.weight`, [q, H]);
    m.set(`${p}self_attn.k_proj.weight`, [kv, H]);
    m.set(`${p}self_attn.v_proj.weight`, [kv, H]);
    m.set(`${p}self_attn.o_proj.weight`, [H, q]);
    if (c.model_type !== 'olmo') {
      m.set(`${p}self_attn.q_norm.weight`, [q]);
      m.set(`${p}self_attn.k_norm.weight`, [kv]);
      m.set(`${p}post_attention_layernorm.weight`, [H]);
    }
    if (c.model_type === 'olmo2') m.set(`${p}post_feedforward_layernorm.weight`, [H]);
    if (c.model_type === 'olmoe') {
      m.set(`${p}input_layernorm.weight`, [H]);
      m.set(`${p}mlp.gate.weight`, [c.num_experts!, H]);
      for (let e = 0; e < c.num_experts!; e++) {
        m.set(`${p}mlp.experts.${e}.gate_proj.weight`, [I, H]);
        m.set(`${p}mlp.experts.${e}.up_proj.weight`, [I, H]);
        m.set(`${p}mlp.experts.${e}.down_proj.weight`, [H, I]);
      }
    } else {
      m.set(`${p}mlp.gate_proj.weight`, [I, H]);
      m.set(`${p}mlp.up_proj.weight`, [I, H]);
      m.set(`${p}mlp.down_proj.weight`, [H, I]);
    }
  }
  return m;
}

const TORCH_DTYPE: Record<string, SafetensorsDtype> = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' };

describe('safetensors: transformers fixtures', () => {
  for (const fam of FAMILIES) {
    for (const variant of ['model', 'model-bf16']) {
      it(`${fam}/${variant}: names, shapes and dtypes match config.json`, () => {
        const dir = path.join(FIXTURES, fam, variant);
        const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Config;
        const expected = expectedParams(config);
        const f = openCheckpointTensors(dir);
        try {
          assert.deepEqual(f.names().sort(), [...expected.keys()].sort());
          for (const [name, shape] of expected) {
            const info = f.info(name);
            assert.deepEqual(info.shape, shape, name);
            assert.equal(info.dtype, TORCH_DTYPE[config.dtype], name);
          }
          assert.deepEqual(openSafetensors(path.join(dir, 'model.safetensors')).metadata, { format: 'pt' });
        } finally {
          f.close();
        }
      });
    }

    it(`${fam}: bf16 checkpoint is the f32 one rounded to nearest even, and reads back exactly`, () => {
      const f32 = loadSafetensors(path.join(FIXTURES, fam, 'model', 'model.safetensors'));
      const bf16 = openSafetensors(path.join(FIXTURES, fam, 'model-bf16', 'model.safetensors'));
      try {
        for (const [name, t] of f32.tensors) {
          const b = bf16.read(name);
          assert.equal(b.dtype, 'BF16');
          assert.ok(b.data instanceof Uint16Array);
          const rounded = fromFloat32(t.data as Float32Array, 'BF16');
          assert.ok(sameBytes(bytesOf(b.data), bytesOf(rounded)), `${name}: bf16 bits differ from RNE rounding of f32`);
          const widened = bf16.readFloat32(name);
          for (let i = 0; i < widened.length; i++) {
            if (widened[i] !== bf16BitsToF32(b.data[i])) assert.fail(`${name}[${i}]`);
          }
        }
      } finally {
        bf16.close();
      }
    });

    it(`${fam}: reference and greedy files have the documented tensors`, () => {
      const dir = path.join(FIXTURES, fam);
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'model', 'config.json'), 'utf8')) as Config;
      const ref = openSafetensors(path.join(dir, 'reference.safetensors'));
      try {
        const ids = ref.info('input_ids');
        assert.equal(ids.dtype, 'I64');
        assert.equal(ids.shape.length, 2);
        const [B, T] = ids.shape;
        const tokens = ref.readInt32('input_ids');
        assert.equal(tokens.length, B * T);
        assert.ok(tokens.every((t) => t >= 0 && t < config.vocab_size));
        assert.deepEqual(ref.info('logits').shape, [B, T, config.vocab_size]);
        assert.equal(ref.info('logits').dtype, 'F32');
        for (let i = 0; i <= config.num_hidden_layers; i++) {
          assert.deepEqual(ref.info(`hidden_states.${i}`).shape, [B, T, config.hidden_size]);
        }
        assert.equal(ref.readFloat32('lm_loss').length, 1);
        assert.ok(Number.isFinite(ref.readFloat32('lm_loss')[0]));
        const params = expectedParams(config);
        const grads = ref.names().filter((n) => n.startsWith('grad.'));
        if (fam === 'olmoe') {
          // transformers v5 fuses experts: grads exist for gate_up_proj [E, 2I, H] and down_proj [E, H, I]
          const E = config.num_experts!;
          const I = config.intermediate_size;
          const H = config.hidden_size;
          assert.deepEqual(ref.info('grad.model.layers.0.mlp.experts.gate_up_proj').shape, [E, 2 * I, H]);
          assert.deepEqual(ref.info('grad.model.layers.0.mlp.experts.down_proj').shape, [E, H, I]);
          for (const g of grads) {
            const p = g.slice('grad.'.length);
            if (!p.includes('.experts.')) assert.deepEqual(ref.info(g).shape, params.get(p), g);
          }
        } else {
          assert.deepEqual(grads.map((g) => g.slice(5)).sort(), [...params.keys()].sort());
          for (const g of grads) assert.deepEqual(ref.info(g).shape, params.get(g.slice(5)), g);
        }
      } finally {
        ref.close();
      }
      const greedy = loadSafetensors(path.join(dir, 'greedy.safetensors'));
      const prompt = toInt32('I64', greedy.tensors.get('prompt')!.data);
      const out = toInt32('I64', greedy.tensors.get('greedy')!.data);
      assert.deepEqual(greedy.tensors.get('prompt')!.shape, [1, 6]);
      assert.deepEqual(greedy.tensors.get('greedy')!.shape, [1, 18]);
      assert.deepEqual([...out.slice(0, 6)], [...prompt], 'greedy output starts with the prompt');
    });

    it(`${fam}: every fixture file rewrites byte-identically (layout and header as the Rust writer)`, () => {
      for (const rel of FIXTURE_FILES) {
        const file = path.join(FIXTURES, fam, rel);
        const original = fs.readFileSync(file);
        const loaded = loadSafetensors(file);
        assert.ok(
          sameBytes(serializeSafetensors(loaded.tensors, loaded.metadata), original),
          `${rel}: serialize differs`,
        );
        const parsed = parseSafetensors(original, file);
        assert.deepEqual([...parsed.tensors.keys()], [...loaded.tensors.keys()]);
        const out = path.join(tmp, `${fam}-${rel.replace(/\//g, '_')}`);
        saveSafetensors(out, loaded.tensors, loaded.metadata);
        assert.ok(sameBytes(fs.readFileSync(out), original), `${rel}: saved file differs`);
        const back = loadSafetensors(out);
        for (const [name, t] of loaded.tensors) {
          const b = back.tensors.get(name)!;
          assert.equal(b.dtype, t.dtype);
          assert.deepEqual(b.shape, t.shape);
          assert.ok(sameBytes(bytesOf(b.data), bytesOf(t.data)), `${rel}: ${name}`);
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Dtype conversions

describe('safetensors: dtype conversions', () => {
  it('bf16 → f32 is exact on chosen bit patterns', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xbf80, -1],
      [0x4049, 3.140625],
      [0x3e80, 0.25],
      [0x7f7f, 3.3895313892515355e38], // largest finite bf16
      [0x0080, 2 ** -126], // smallest normal
      [0x0001, 2 ** -133], // smallest subnormal
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x0000, 0],
    ];
    const out = toFloat32('BF16', new Uint16Array(cases.map(([b]) => b)));
    cases.forEach(([bits, v], i) => assert.equal(out[i], v, `0x${bits.toString(16)}`));
    const negZero = toFloat32('BF16', new Uint16Array([0x8000]));
    assert.ok(Object.is(negZero[0], -0));
    assert.ok(Number.isNaN(toFloat32('BF16', new Uint16Array([0x7fc0]))[0]));
  });

  it('bf16 → f32 keeps all 65536 bit patterns (NaN payloads included) as the top half of the f32', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const out = new Uint32Array(toFloat32('BF16', all).buffer);
    for (let i = 0; i < 65536; i++) if (out[i] !== (i << 16) >>> 0) assert.fail(`bf16 0x${i.toString(16)}`);
    // and f32 → bf16 inverts it exactly on every non-NaN pattern
    const back = fromFloat32(toFloat32('BF16', all), 'BF16');
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0;
      if (!nan && back[i] !== i) assert.fail(`bf16 round trip 0x${i.toString(16)} → 0x${back[i].toString(16)}`);
    }
  });

  it('f32 → bf16 rounds to nearest, ties to even', () => {
    assert.equal(f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie, even stays
    assert.equal(f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie, odd rounds up
    assert.equal(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20), 0x3f81); // above the tie
    assert.equal(f32ToBf16Bits(-(1 + 2 ** -8 + 2 ** -20)), 0xbf81);
    assert.equal(f32ToBf16Bits(3.4028234663852886e38), 0x7f80); // f32 max rounds to +Inf
    assert.ok((f32ToBf16Bits(NaN) & 0x7fff) > 0x7f80, 'NaN stays NaN');
  });

  it('f16 → f32 is exact for all 65536 patterns; f32 → f16 inverts it', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const out = toFloat32('F16', all);
    for (let h = 0; h < 65536; h++) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const want =
        e === 31 ? (m ? NaN : s * Infinity) : e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
      if (!(Object.is(out[h], want) || (Number.isNaN(want) && Number.isNaN(out[h]))))
        assert.fail(`f16 0x${h.toString(16)}: ${out[h]} vs ${want}`);
      if (!Number.isNaN(want) && f32ToF16Bits(out[h]) !== h) assert.fail(`f16 round trip 0x${h.toString(16)}`);
      if (f16BitsToF32(h) !== out[h] && !Number.isNaN(want)) assert.fail(`scalar f16 0x${h.toString(16)}`);
    }
  });

  it('f32 → f16 rounds to nearest even, overflows to Inf, underflows through subnormals', () => {
    assert.equal(f32ToF16Bits(65504), 0x7bff);
    assert.equal(f32ToF16Bits(65519.996), 0x7bff);
    assert.equal(f32ToF16Bits(65520), 0x7c00); // tie between max and the next (Inf): even is Inf
    assert.equal(f32ToF16Bits(1e6), 0x7c00);
    assert.equal(f32ToF16Bits(-1e6), 0xfc00);
    assert.equal(f32ToF16Bits(2 ** -24), 0x0001);
    assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // tie with 0: even
    assert.equal(f32ToF16Bits(1.5 * 2 ** -25), 0x0001);
    assert.equal(f32ToF16Bits(3 * 2 ** -25), 0x0002); // 1.5 units: tie, rounds to even 2
    assert.equal(f32ToF16Bits(2 ** -14 - 2 ** -25), 0x0400); // rounds up into the smallest normal
    assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie, even
    assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(f32ToF16Bits(1 / 3), 0x3555);
  });

  it('F8 E4M3/E5M2/E8M0 read as f32 exactly; F64 rounds to f32', () => {
    const e4 = toFloat32('F8_E4M3', new Uint8Array([0x38, 0x7e, 0xfe, 0x01, 0x08, 0x7f, 0x00, 0x80]));
    assert.deepEqual([...e4.slice(0, 5)], [1, 448, -448, 2 ** -9, 2 ** -6]);
    assert.ok(Number.isNaN(e4[5]));
    assert.ok(Object.is(e4[6], 0) && Object.is(e4[7], -0));
    const e5 = toFloat32('F8_E5M2', new Uint8Array([0x3c, 0x7b, 0x7c, 0x01, 0xfc]));
    assert.deepEqual([...e5], [1, 57344, Infinity, 2 ** -16, -Infinity]);
    const e8 = toFloat32('F8_E8M0', new Uint8Array([127, 0, 130, 255]));
    assert.deepEqual([...e8.slice(0, 3)], [1, 2 ** -127, 8]);
    assert.ok(Number.isNaN(e8[3]));
    const d = toFloat32('F64', new Float64Array([0.1, 1 + 2 ** -24, 1e300]));
    assert.deepEqual([...d], [Math.fround(0.1), 1, Infinity]);
  });

  it('integer tensors read as int32 with a range check; other dtypes are refused', () => {
    assert.deepEqual(
      [...toInt32('I64', new BigInt64Array([0n, -5n, 2147483647n, -2147483648n]))],
      [0, -5, 2147483647, -2147483648],
    );
    assert.deepEqual([...toInt32('U8', new Uint8Array([0, 255]))], [0, 255]);
    assert.deepEqual([...toInt32('BOOL', new Uint8Array([1, 0]))], [1, 0]);
    assert.deepEqual([...toInt32('U32', new Uint32Array([7]))], [7]);
    assert.throws(
      () => toInt32('I64', new BigInt64Array([1n, 2n ** 31n]), 'ids'),
      /ids: value 2147483648 at index 1 does not fit in int32/,
    );
    assert.throws(() => toInt32('U64', new BigUint64Array([2n ** 40n])), /does not fit in int32/);
    assert.throws(() => toInt32('U32', new Uint32Array([2 ** 31])), /value 2147483648 at index 0/);
    assert.throws(() => toInt32('F32', new Float32Array([1])), /not an integer dtype/);
    assert.throws(() => toFloat32('I32', new Int32Array([1])), /cannot convert dtype I32/);
    // raw bytes are accepted in place of the natural array
    assert.deepEqual([...toInt32('I64', bytesOf(new BigInt64Array([42n])))], [42]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Round trips and layout

function sampleTensor(dtype: SafetensorsDtype, shape: number[], seed: number): TensorToWrite {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const bytes = (count: number) => new Uint8Array(count).map(() => Math.floor(r() * 256));
  switch (dtype) {
    case 'F32':
      return { dtype, shape, data: new Float32Array(n).map(() => r() * 2 - 1) };
    case 'C64':
      return { dtype, shape, data: new Float32Array(2 * n).map(() => r()) };
    case 'F64':
      return { dtype, shape, data: new Float64Array(n).map(() => r() * 1e10) };
    case 'F16':
    case 'BF16':
    case 'U16':
      return { dtype, shape, data: new Uint16Array(n).map(() => Math.floor(r() * 65536)) };
    case 'I16':
      return { dtype, shape, data: new Int16Array(n).map(() => Math.floor(r() * 65536) - 32768) };
    case 'I32':
      return { dtype, shape, data: new Int32Array(n).map(() => Math.floor(r() * 2 ** 32) - 2 ** 31) };
    case 'U32':
      return { dtype, shape, data: new Uint32Array(n).map(() => Math.floor(r() * 2 ** 32)) };
    case 'I64':
      return { dtype, shape, data: new BigInt64Array(n).map(() => BigInt(Math.floor(r() * 2 ** 52)) - 2n ** 51n) };
    case 'U64':
      return { dtype, shape, data: new BigUint64Array(n).map(() => BigInt(Math.floor(r() * 2 ** 52)) << 12n) };
    case 'I8':
      return { dtype, shape, data: new Int8Array(n).map(() => Math.floor(r() * 256) - 128) };
    case 'BOOL':
      return { dtype, shape, data: new Uint8Array(n).map(() => (r() < 0.5 ? 1 : 0)) };
    case 'F4':
      return { dtype, shape, data: bytes(n / 2) };
    case 'F6_E2M3':
    case 'F6_E3M2':
      return { dtype, shape, data: bytes((n * 6) / 8) };
    default:
      return { dtype, shape, data: bytes(n) }; // U8, F8_*
  }
}

const NATURAL: Record<SafetensorsDtype, string> = {
  BOOL: 'Uint8Array',
  F4: 'Uint8Array',
  F6_E2M3: 'Uint8Array',
  F6_E3M2: 'Uint8Array',
  U8: 'Uint8Array',
  I8: 'Int8Array',
  F8_E5M2: 'Uint8Array',
  F8_E4M3: 'Uint8Array',
  F8_E8M0: 'Uint8Array',
  I16: 'Int16Array',
  U16: 'Uint16Array',
  F16: 'Uint16Array',
  BF16: 'Uint16Array',
  I32: 'Int32Array',
  U32: 'Uint32Array',
  F32: 'Float32Array',
  C64: 'Float32Array',
  F64: 'Float64Array',
  I64: 'BigInt64Array',
  U64: 'BigUint64Array',
};

describe('safetensors: round trips', () => {
  it('every dtype, with scalar, empty and odd shapes, round-trips bit-identically through file and buffer', () => {
    const tensors: Record<string, TensorToWrite> = {};
    DTYPES.forEach((dtype, k) => {
      const packed = dtype === 'F4' || dtype.startsWith('F6');
      tensors[`t.${dtype}`] = sampleTensor(dtype, packed ? [2, 4] : [3, 5], k + 1);
      if (!packed) tensors[`s.${dtype}`] = sampleTensor(dtype, [], k + 100);
      tensors[`z.${dtype}`] = sampleTensor(dtype, [0, 7], k + 200);
    });
    const file = path.join(tmp, 'all-dtypes.safetensors');
    saveSafetensors(file, tensors, { note: 'round trip', ünï: '✓' });
    const image = serializeSafetensors(tensors, { note: 'round trip', ünï: '✓' });
    assert.ok(sameBytes(fs.readFileSync(file), image));
    for (const loaded of [loadSafetensors(file), parseSafetensors(image)]) {
      assert.deepEqual(loaded.metadata, { note: 'round trip', ünï: '✓' });
      assert.equal(loaded.tensors.size, Object.keys(tensors).length);
      for (const [name, t] of Object.entries(tensors)) {
        const b = loaded.tensors.get(name)!;
        assert.equal(b.dtype, t.dtype, name);
        assert.deepEqual(b.shape, t.shape, name);
        assert.equal(b.data.constructor.name, NATURAL[t.dtype], name);
        assert.ok(sameBytes(bytesOf(b.data), bytesOf(t.data)), name);
      }
    }
    // and write → read → write gives the same file again
    const again = loadSafetensors(file);
    assert.ok(sameBytes(serializeSafetensors(again.tensors, again.metadata), image));
    // each tensor starts aligned to its element size (the point of the Rust writer's order)
    const header = readSafetensorsHeader(file);
    assert.equal(header.dataStart % 8, 0);
    for (const t of header.tensors) {
      const size = DTYPE_BITS[t.dtype] / 8;
      if (size >= 1) assert.equal((header.dataStart + t.dataOffsets[0]) % size, 0, `${t.name} is not aligned`);
    }
  });

  it('lays tensors out by descending dtype alignment then name (as the Rust writer), or in the given order', () => {
    const t = {
      'b.f32': sampleTensor('F32', [2], 1),
      'a.u8': sampleTensor('U8', [3], 2),
      'c.i64': sampleTensor('I64', [1], 3),
      'a.f32': sampleTensor('F32', [1], 4),
      'z.bf16': sampleTensor('BF16', [1], 5),
      '10': sampleTensor('F32', [1], 6), // integer-like name: must not be hoisted by JS object ordering rules
    };
    const order = [...parseSafetensors(serializeSafetensors(t)).tensors.keys()];
    assert.deepEqual(order, ['c.i64', '10', 'a.f32', 'b.f32', 'z.bf16', 'a.u8']);
    const given = [
      ...parseSafetensors(serializeSafetensors(Object.entries(t), undefined, { order: 'given' })).tensors.keys(),
    ];
    assert.deepEqual(
      given,
      Object.entries(t).map(([k]) => k),
    );
  });

  it('writes the header exactly as the Rust crate: compact JSON, space padding to 8 bytes', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const img = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data } });
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    assert.equal(json.length, 64);
    assert.equal(new DataView(img.buffer).getBigUint64(0, true), 64n);
    assert.equal(Buffer.from(img.subarray(8, 72)).toString(), json);
    assert.ok(sameBytes(img.subarray(72), bytesOf(data)));
    const padded = serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data } });
    assert.equal(new DataView(padded.buffer).getBigUint64(0, true), 72n);
    assert.equal(
      Buffer.from(padded.subarray(8, 80)).toString(),
      '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ',
    );
    assert.equal(Buffer.from(serializeSafetensors({})).toString('latin1'), '\x08\0\0\0\0\0\0\0{}      ');
    assert.equal(
      Buffer.from(serializeSafetensors({}, { framework: 'pt' }).subarray(8)).toString(),
      '{"__metadata__":{"framework":"pt"}}     ',
    );
    assert.equal(parseSafetensors(serializeSafetensors({})).metadata, undefined);
    assert.deepEqual(parseSafetensors(serializeSafetensors({}, {})).metadata, {});
  });

  it('dataAlignment pads the header so the data starts at that multiple of the file; bad values refused', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const tensors = { attn0: { dtype: 'F32' as const, shape: [1, 1, 2, 3], data } };
    for (const a of [8, 64, 4096]) {
      const img = serializeSafetensors(tensors, { format: 'pt' }, { dataAlignment: a });
      const n = Number(new DataView(img.buffer).getBigUint64(0, true));
      assert.equal((8 + n) % a, 0, `alignment ${a}: data at ${8 + n}`);
      const json = Buffer.from(img.subarray(8, 8 + n)).toString();
      assert.ok(
        n - json.trimEnd().length < a,
        `alignment ${a}: more padding than needed (${n} for ${json.trimEnd().length})`,
      );
      assert.ok(sameBytes(img.subarray(8 + n), bytesOf(data)));
      const back = parseSafetensors(img);
      assert.deepEqual(Array.from(back.tensors.get('attn0')!.data as Float32Array), Array.from(data));
      assert.deepEqual(back.metadata, { format: 'pt' });
    }
    assert.ok(sameBytes(serializeSafetensors(tensors, undefined, { dataAlignment: 8 }), serializeSafetensors(tensors)));
    for (const bad of [0, 4, 12, 63.5])
      assert.throws(
        () => serializeSafetensors(tensors, undefined, { dataAlignment: bad }),
        new RegExp(`dataAlignment must be a power of two of at least 8, got ${bad}`),
      );
  });

  it('refuses bad tensors to write, naming the tensor', () => {
    const f = path.join(tmp, 'never.safetensors');
    assert.throws(
      () => saveSafetensors(f, { w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
      /tensor "w": data has 12 bytes, but dtype F32 × shape \[2, 2\] needs 16/,
    );
    assert.throws(
      () => saveSafetensors(f, { w: { dtype: 'BF16', shape: [2], data: new Float32Array(1) } }),
      /tensor "w": dtype BF16 takes a Uint16Array .* got Float32Array/,
    );
    assert.throws(
      () => saveSafetensors(f, { w: { dtype: 'F17' as SafetensorsDtype, shape: [1], data: new Uint8Array(1) } }),
      /tensor "w": unknown dtype "F17"/,
    );
    assert.throws(
      () => saveSafetensors(f, { w: { dtype: 'U8', shape: [-1], data: new Uint8Array(1) } }),
      /tensor "w": shape must be/,
    );
    assert.throws(
      () =>
        saveSafetensors(f, [
          ['w', sampleTensor('U8', [1], 1)],
          ['w', sampleTensor('U8', [1], 1)],
        ]),
      /tensor "w" is given twice/,
    );
    assert.throws(() => saveSafetensors(f, { __metadata__: sampleTensor('U8', [1], 1) }), /reserved/);
    assert.throws(
      () => saveSafetensors(f, { w: { dtype: 'F4', shape: [3], data: new Uint8Array(2) } }),
      /not a whole number of bytes/,
    );
    assert.equal(fs.existsSync(f), false);
  });

  it('saves atomically: a failed write leaves the previous file intact and no temporary file behind', () => {
    const dir = path.join(tmp, 'atomic');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'model.safetensors');
    saveSafetensors(file, { w: sampleTensor('F32', [4], 1) });
    const before = fs.readFileSync(file);
    assert.throws(
      () =>
        writeFileAtomically(file, (fd) => {
          fs.writeSync(fd, Buffer.from('partial'));
          throw new Error('disk full (simulated)');
        }),
      /disk full/,
    );
    assert.throws(() => saveSafetensors(file, { w: { dtype: 'F32', shape: [4], data: new Float32Array(2) } }));
    assert.ok(sameBytes(fs.readFileSync(file), before));
    assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
    saveSafetensors(file, { w: sampleTensor('F32', [8], 2) });
    assert.deepEqual(openSafetensors(file).info('w').shape, [8]);
    assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Sharded checkpoints

describe('safetensors: sharded checkpoints', () => {
  it('plans shards as huggingface_hub does and parses sizes as transformers does', () => {
    assert.deepEqual(
      planShards(
        [
          ['a', 4],
          ['b', 4],
          ['c', 4],
          ['d', 2],
        ],
        10,
      ),
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    );
    assert.deepEqual(
      planShards(
        [
          ['a', 4],
          ['big', 20],
          ['b', 4],
        ],
        10,
      ),
      [['big'], ['a', 'b']],
    );
    assert.deepEqual(
      planShards(
        [
          ['a', 10],
          ['b', 1],
        ],
        10,
      ),
      [['a'], ['b']],
    );
    assert.equal(parseSize('5GB'), 5e9);
    assert.equal(parseSize('2GiB'), 2 * 2 ** 30);
    assert.equal(parseSize('500MB'), 5e8);
    assert.equal(parseSize('1.5KB'), 1500);
    assert.equal(parseSize(1234), 1234);
    assert.throws(() => parseSize('lots'), /cannot parse shard size "lots"/);
  });

  it('writes model-0000k-of-0000n shards with a transformers index, and reads them back as one view', () => {
    const dir = path.join(tmp, 'sharded');
    const model = loadSafetensors(path.join(FIXTURES, 'olmo2', 'model', 'model.safetensors'));
    const result = saveShardedSafetensors(dir, model.tensors, { maxShardSize: 200_000 });
    assert.ok(result.files.length >= 3, `${result.files.length} shards`);
    const n = String(result.files.length).padStart(5, '0');
    assert.deepEqual(
      result.files,
      result.files.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`),
    );
    assert.deepEqual(fs.readdirSync(dir).sort(), [...result.files, 'model.safetensors.index.json'].sort());
    for (const f of result.files) assert.ok(fs.statSync(path.join(dir, f)).size <= 200_000 + 4096, f);

    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    const totalSize = [...model.tensors.values()].reduce((s, t) => s + t.data.byteLength, 0);
    const totalParams = [...model.tensors.values()].reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    assert.deepEqual(index.metadata, { total_parameters: totalParams, total_size: totalSize });
    assert.deepEqual(Object.keys(index.weight_map), [...model.tensors.keys()].sort());
    // Python json.dumps(indent=2, sort_keys=True) + "\n"
    const text = fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8');
    assert.ok(
      text.startsWith(
        `{\n  "metadata": {\n    "total_parameters": ${totalParams},\n    "total_size": ${totalSize}\n  },\n  "weight_map": {\n    "lm_head.weight": "model-00001-of-${n}.safetensors",\n`,
      ),
      text.slice(0, 300),
    );
    assert.ok(text.endsWith('"\n  }\n}\n'));

    const view = openCheckpointTensors(dir);
    assert.ok(view instanceof ShardedSafetensors);
    try {
      assert.deepEqual(view.names().sort(), [...model.tensors.keys()].sort());
      for (const [name, t] of model.tensors) {
        const b = view.read(name);
        assert.equal(b.dtype, t.dtype);
        assert.deepEqual(b.shape, t.shape);
        assert.ok(sameBytes(bytesOf(b.data), bytesOf(t.data)), name);
        assert.equal(view.shardOf(name).path, path.join(dir, index.weight_map[name]));
      }
      assert.deepEqual(openSafetensors(path.join(dir, result.files[0])).metadata, { format: 'pt' });
      assert.throws(
        () => view.info('nope'),
        (e: unknown) =>
          e instanceof SafetensorsError && /no tensor "nope"/.test(e.message) && e.file.endsWith('index.json'),
      );
    } finally {
      view.close();
    }

    // re-saving into one shard leaves a single model.safetensors and removes the stale shards and index
    const single = saveShardedSafetensors(dir, model.tensors);
    assert.deepEqual(single.files, ['model.safetensors']);
    assert.equal(single.indexPath, null);
    assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
    assert.ok(
      sameBytes(
        fs.readFileSync(path.join(dir, 'model.safetensors')),
        fs.readFileSync(path.join(FIXTURES, 'olmo2', 'model', 'model.safetensors')),
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Validation

/** Writes a file: 8-byte length (`declared` or the header's), header text, then `data` bytes of data section. */
function craft(name: string, header: string | object, dataBytes: number, declared?: bigint): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const buf = Buffer.alloc(8 + json.length + dataBytes);
  buf.writeBigUInt64LE(declared ?? BigInt(json.length), 0);
  json.copy(buf, 8);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, buf);
  return file;
}

/** Asserts opening `file` fails with a SafetensorsError whose message names the file (and `tensor`) and matches `re`. */
function assertInvalid(file: string, re: RegExp, tensor?: string): void {
  for (const attempt of [() => openSafetensors(file), () => parseSafetensors(fs.readFileSync(file), file)]) {
    assert.throws(attempt, (e: unknown) => {
      assert.ok(e instanceof SafetensorsError, `not a SafetensorsError: ${String(e)}`);
      assert.match(e.message, re);
      assert.ok(e.message.includes(file), `message does not name the file: ${e.message}`);
      assert.equal(e.file, file);
      if (tensor !== undefined) {
        assert.ok(e.message.includes(`"${tensor}"`), `message does not name tensor ${tensor}: ${e.message}`);
        assert.equal(e.tensor, tensor);
      }
      return true;
    });
  }
}

const t = (dtype: string, shape: number[], offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

describe('safetensors: validation', () => {
  it('a file shorter than the length prefix', () => {
    const f = path.join(tmp, 'tiny.safetensors');
    fs.writeFileSync(f, Buffer.from([1, 2, 3]));
    assertInvalid(f, /not a safetensors file: it is 3 bytes long/);
  });

  it('header length over 100 MB, and past the end of the file', () => {
    assertInvalid(
      craft('huge-len.safetensors', {}, 0, 1n << 40n),
      new RegExp(`header length 1099511627776 bytes is over the ${MAX_HEADER_SIZE}-byte limit`),
    );
    assertInvalid(
      craft('long-len.safetensors', {}, 0, 5000n),
      /header length 5000 bytes runs past the end of the file \(10 bytes\)/,
    );
  });

  it('header not UTF-8, not JSON, not an object', () => {
    const f = path.join(tmp, 'latin1.safetensors');
    const buf = Buffer.alloc(12);
    buf.writeBigUInt64LE(4n, 0);
    buf.set([0x7b, 0xff, 0xfe, 0x7d], 8);
    fs.writeFileSync(f, buf);
    assertInvalid(f, /not valid UTF-8/);
    assertInvalid(craft('badjson.safetensors', '{"w": {"dtype": "F32",', 0), /header is not valid JSON/);
    assertInvalid(craft('array.safetensors', '[1, 2]', 0), /must be a JSON object, but it is an array/);
    assertInvalid(
      craft('meta.safetensors', { __metadata__: { a: 1 } }, 0),
      /"__metadata__" values must be strings, but "a" is a number/,
    );
  });

  it('unknown dtype, bad shape, bad data_offsets, wrong byte count', () => {
    assertInvalid(
      craft('dtype.safetensors', { w: t('F12', [2], [0, 8]) }, 8),
      /tensor "w": unknown dtype "F12"; safetensors dtypes are BOOL, /,
      'w',
    );
    for (const shape of [[-1], [1.5], ['3'], 'x']) {
      assertInvalid(
        craft('shape.safetensors', { w: t('U8', shape as number[], [0, 1]) }, 1),
        /tensor "w": shape must be an array of non-negative integers/,
        'w',
      );
    }
    for (const offsets of [[0], [8, 0], [0, '8'], [0, 8, 9], null, [-1, 7]]) {
      assertInvalid(
        craft('offsets.safetensors', { w: t('F32', [2], offsets) }, 8),
        /tensor "w": data_offsets must be \[begin, end\]/,
        'w',
      );
    }
    assertInvalid(
      craft('count.safetensors', { a: t('F32', [2], [0, 8]), w: t('F32', [2, 3], [8, 28]) }, 28),
      /tensor "w": data_offsets \[8, 28\) hold 20 bytes, but dtype F32 × shape \[2, 3\] needs 24/,
      'w',
    );
    assertInvalid(craft('entry.safetensors', { w: 5 }, 0), /tensor "w": its header entry must be an object/, 'w');
  });

  it('overlapping tensors, gaps, trailing bytes, duplicate names', () => {
    assertInvalid(
      craft('overlap.safetensors', { a: t('F32', [4], [0, 16]), b: t('F32', [2], [8, 16]) }, 16),
      /tensors "a" \(bytes \[0, 16\)\) and "b" \(bytes \[8, 16\)\) overlap/,
      'b',
    );
    assertInvalid(
      craft('gap.safetensors', { a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, 12),
      /4 unused bytes after tensor "a", which ends at byte 4, before tensor "b"/,
      'b',
    );
    assertInvalid(
      craft('start.safetensors', { b: t('U8', [2], [2, 4]) }, 4),
      /2 unused bytes at the start of the data section, before tensor "b"/,
      'b',
    );
    assertInvalid(
      craft('trailing.safetensors', { a: t('U8', [4], [0, 4]) }, 9),
      /holds 9 bytes but the last tensor, "a", ends at byte 4; 5 trailing bytes/,
      'a',
    );
    assertInvalid(
      craft(
        'dup.safetensors',
        '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
        2,
      ),
      /tensor "w" appears more than once in the header/,
      'w',
    );
  });

  it('offsets past the data section: a truncated file names the tensor and the bytes it needs', () => {
    assertInvalid(
      craft('short.safetensors', { a: t('F32', [4], [0, 16]), b: t('F32', [4], [16, 32]) }, 20),
      /short\.safetensors is truncated: tensor "b" needs bytes \[16, 32\) of the data section but only 20 are present/,
      'b',
    );
    // a real checkpoint cut short
    const src = fs.readFileSync(path.join(FIXTURES, 'olmo2', 'model', 'model.safetensors'));
    const cut = path.join(tmp, 'cut.safetensors');
    fs.writeFileSync(cut, src.subarray(0, src.length - 1000));
    const h = readSafetensorsHeader(path.join(FIXTURES, 'olmo2', 'model', 'model.safetensors'));
    const present = h.fileSize - 1000 - h.dataStart;
    const first = h.tensors.find((x) => x.dataOffsets[1] > present)!;
    const [b, e] = first.dataOffsets;
    const msg = `${cut} is truncated: tensor "${first.name}" needs bytes [${b}, ${e}) of the data section but only ${present} are present`;
    assertInvalid(cut, new RegExp(msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), first.name);
  });

  it('asking for a tensor that is not there names the file and the tensor', () => {
    const f = openSafetensors(path.join(FIXTURES, 'olmo', 'greedy.safetensors'));
    try {
      assert.throws(
        () => f.read('logits'),
        (e: unknown) =>
          e instanceof SafetensorsError &&
          /greedy\.safetensors: no tensor "logits"; it holds "greedy", "prompt"/.test(e.message) &&
          e.tensor === 'logits',
      );
    } finally {
      f.close();
    }
    assert.throws(() => f.read('greedy'), /was closed/);
  });

  it('sharded: a missing shard, a tensor missing from its shard, a bad index', () => {
    const dir = path.join(tmp, 'bad-shards');
    saveShardedSafetensors(
      dir,
      { a: sampleTensor('F32', [100], 1), b: sampleTensor('F32', [50], 2), c: sampleTensor('F32', [50], 3) },
      { maxShardSize: 500 },
    );
    const indexPath = path.join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
    assert.deepEqual(index.weight_map, {
      a: 'model-00001-of-00002.safetensors',
      b: 'model-00002-of-00002.safetensors',
      c: 'model-00002-of-00002.safetensors',
    });
    const expectError = (re: RegExp, tensor?: string) =>
      assert.throws(
        () => openCheckpointTensors(dir),
        (e: unknown) => {
          assert.ok(e instanceof SafetensorsError);
          assert.match(e.message, re);
          assert.ok(e.message.includes(indexPath), e.message);
          if (tensor) assert.equal(e.tensor, tensor);
          return true;
        },
      );

    fs.writeFileSync(
      indexPath,
      JSON.stringify({ ...index, weight_map: { ...index.weight_map, d: 'model-00003-of-00003.safetensors' } }),
    );
    expectError(/shard "model-00003-of-00003\.safetensors" \(holding tensor "d"\) does not exist/, 'd');
    fs.writeFileSync(
      indexPath,
      JSON.stringify({ ...index, weight_map: { ...index.weight_map, a: 'model-00002-of-00002.safetensors' } }),
    );
    expectError(
      /weight_map puts tensor "a" in shard "model-00002-of-00002\.safetensors", but .* has no such tensor/,
      'a',
    );
    fs.writeFileSync(
      indexPath,
      JSON.stringify({ ...index, weight_map: { ...index.weight_map, a: '../elsewhere.safetensors' } }),
    );
    expectError(/outside the checkpoint folder/, 'a');
    fs.writeFileSync(indexPath, '{"weight_map": ');
    expectError(/shard index is not valid JSON/);
    fs.writeFileSync(indexPath, JSON.stringify({ metadata: {} }));
    expectError(/needs a "weight_map" object/);
    // a corrupt shard is reported with the shard's own path
    fs.writeFileSync(indexPath, JSON.stringify(index));
    const shard2 = path.join(dir, 'model-00002-of-00002.safetensors');
    fs.truncateSync(shard2, fs.statSync(shard2).size - 8);
    assert.throws(
      () => openCheckpointTensors(dir),
      (e: unknown) => e instanceof SafetensorsError && e.file === shard2 && /is truncated: tensor "c"/.test(e.message),
    );
    fs.rmSync(dir, { recursive: true });
    fs.mkdirSync(dir);
    assert.throws(
      () => openCheckpointTensors(dir),
      /no model\.safetensors or model\.safetensors\.index\.json in this folder/,
    );
    // a bad tensor destined for a later shard is refused before any shard is written
    assert.throws(
      () =>
        saveShardedSafetensors(
          dir,
          { a: sampleTensor('F32', [100], 1), b: { dtype: 'F32', shape: [50], data: new Float32Array(49) } },
          { maxShardSize: 500 },
        ),
      /tensor "b": data has 196 bytes/,
    );
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Lazy reading

describe('safetensors: lazy reading', () => {
  it('reads one tensor of a 2 GiB sparse file without reading the rest', () => {
    const big = 2 ** 31;
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      small: t('F32', [4], [0, 16]),
      big: t('U8', [2, 2 ** 30], [16, 16 + big]),
      tail: t('I64', [2], [16 + big, 32 + big]),
    });
    const json = Buffer.from(header);
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    const file = path.join(tmp, 'sparse.safetensors');
    const fd = fs.openSync(file, 'w');
    const dataStart = 8 + json.length;
    fs.writeSync(fd, prefix, 0, 8, 0);
    fs.writeSync(fd, json, 0, json.length, 8);
    fs.writeSync(fd, bytesOf(new Float32Array([1.5, -2, 3.25, 4])), 0, 16, dataStart);
    fs.writeSync(fd, bytesOf(new BigInt64Array([7n, -9n])), 0, 16, dataStart + 16 + big);
    fs.ftruncateSync(fd, dataStart + 32 + big);
    fs.closeSync(fd);

    // count the bytes read through fs.readSync while the file is opened and one tensor read
    let bytesRead = 0;
    const original = fs.readSync;
    (fs as { readSync: typeof fs.readSync }).readSync = ((...args: Parameters<typeof fs.readSync>) => {
      const n = original(...args);
      bytesRead += n;
      return n;
    }) as typeof fs.readSync;
    syncBuiltinESMExports();
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    let small: Float32Array;
    let tail: Int32Array;
    try {
      const f = openSafetensors(file);
      try {
        assert.deepEqual(f.names(), ['small', 'big', 'tail']);
        assert.deepEqual(f.info('big').shape, [2, 2 ** 30]);
        assert.equal(f.header.fileSize, dataStart + 32 + big);
        small = f.readFloat32('small');
        tail = f.readInt32('tail');
      } finally {
        f.close();
      }
    } finally {
      (fs as { readSync: typeof fs.readSync }).readSync = original;
      syncBuiltinESMExports();
    }
    const ms = performance.now() - t0;
    const grew = process.memoryUsage().rss - rss0;
    assert.deepEqual([...small], [1.5, -2, 3.25, 4]);
    assert.deepEqual([...tail], [7, -9]);
    assert.ok(bytesRead > 0, 'the readSync counter saw the reads');
    assert.equal(bytesRead, 8 + json.length + 16 + 16, 'read exactly the length prefix, the header and two tensors');
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
    assert.ok(grew < 256 * 2 ** 20, `rss grew by ${(grew / 2 ** 20).toFixed(0)} MiB`);
    fs.rmSync(file);
  });
});
