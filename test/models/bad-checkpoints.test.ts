// Bad checkpoints fail with a message naming the file and what is wrong: a truncated weights file, wrong
// byte counts, an unknown dtype, a missing tensor, a wrong shape, a broken or unsupported config.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/models/index.ts';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'olmo2', 'model');
const root = mkdtempSync(join(tmpdir(), 'olmo-badckpt-'));
after(() => rmSync(root, { recursive: true, force: true }));

function copy(name: string): string {
  const dir = join(root, name);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** Rewrites the header JSON of model.safetensors through `edit` (keeping the data section). */
function editHeader(
  dir: string,
  edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void,
): void {
  const path = join(dir, 'model.safetensors');
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  edit(header);
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([head, Buffer.from(json), bytes.subarray(8 + n)]));
}

describe('bad checkpoints', () => {
  it('truncated weights file', () => {
    const dir = copy('truncated');
    const path = join(dir, 'model.safetensors');
    truncateSync(path, statSync(path).size - 100);
    assert.throws(() => loadModel(dir), /model\.safetensors.*truncated/);
  });

  it('wrong byte count for a tensor', () => {
    const dir = copy('bytes');
    editHeader(dir, (h) => {
      h['model.norm.weight'].shape = [65];
    });
    assert.throws(() => loadModel(dir), /model\.safetensors.*model\.norm\.weight/);
  });

  it('unknown dtype', () => {
    const dir = copy('dtype');
    editHeader(dir, (h) => {
      h['model.norm.weight'].dtype = 'F31';
    });
    assert.throws(() => loadModel(dir), /model\.safetensors.*model\.norm\.weight.*F31/);
  });

  it('missing tensor', () => {
    const dir = copy('missing');
    const { tensors } = loadSafetensors(join(dir, 'model.safetensors'));
    tensors.delete('model.layers.1.self_attn.k_norm.weight');
    saveSafetensors(join(dir, 'model.safetensors'), tensors as never);
    assert.throws(
      () => loadModel(dir),
      /missing 1 tensor\(s\) for a olmo2 model: model\.layers\.1\.self_attn\.k_norm\.weight/,
    );
  });

  it('wrong shape against the config', () => {
    const dir = copy('shape');
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 128 }));
    for (const weights of ['f32', 'stored', 'int8'] as const)
      assert.throws(
        () => loadModel(dir, { weights, trainable: false }),
        /(shape|model\.safetensors): tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[160,64\], the config implies \[128,64\]/,
        weights,
      );
  });

  it('broken, unsupported or missing config', () => {
    const a = copy('config-json');
    writeFileSync(join(a, 'config.json'), '{ not json');
    assert.throws(() => loadModel(a), /config\.json: not valid JSON/);
    const b = copy('config-type');
    writeFileSync(
      join(b, 'config.json'),
      JSON.stringify({ ...JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')), model_type: 'llama' }),
    );
    assert.throws(() => loadModel(b), /unsupported model_type "llama"; supported: olmo, olmo2, olmoe/);
    const c = copy('config-heads');
    writeFileSync(
      join(c, 'config.json'),
      JSON.stringify({ ...JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')), num_key_value_heads: 3 }),
    );
    assert.throws(() => loadModel(c), /num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/);
    assert.throws(() => loadModel(join(root, 'nowhere')), /not a checkpoint folder \(config\.json is missing\)/);
  });
});
