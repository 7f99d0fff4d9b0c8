// The CLI within the model's limits: `olmo info --model` reports memory from config.json alone, `olmo generate`
// caps its token budget at the model's context, `olmo forward` refuses inputs longer than the context.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimateMemory, parameterCount, readConfig, weightBytes } from '../../src/models/index.ts';
import { cpuPaths } from '../../src/tensor/index.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';
import { olmo } from './cli-helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const OLMO2 = join(FIXTURES, 'olmo2', 'model');
const tmp = mkdtempSync(join(tmpdir(), 'olmo-cli-limits-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('olmo within limits', () => {
  it('info --model prints parameters, weights, KV cache, activations and whether they fit, from config.json', () => {
    const cfg = readConfig(OLMO2);
    const need = estimateMemory(cfg, { weightDtype: 'f32', batch: 2, context: 64, tokens: 64, logitsPerSequence: 1 });
    const r = olmo(['info', '--model', OLMO2, '--context', '64', '--batch', '2', '--json'], {
      env: { OLMO_MEMORY_LIMIT: '1GiB' },
    });
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout).model;
    assert.equal(m.parameters, parameterCount(cfg).total);
    assert.equal(m.storedDtype, 'f32');
    assert.equal(m.storedWeightBytes, weightBytes(cfg, 'f32'));
    assert.equal(m.kvCacheBytes, 2 * cfg.numLayers * 2 * 64 * cfg.numKvHeads * cfg.headDim * 4);
    assert.equal(m.activationBytes, need.activationBytes);
    assert.equal(m.totalBytes, need.totalBytes);
    assert.deepEqual([m.availableBytes, m.memorySource, m.fits], [2 ** 30, 'OLMO_MEMORY_LIMIT', true]);

    // Text, a bf16 checkpoint (stored at half the bytes), the context defaulting to max_position_embeddings, and a
    // machine too small for it.
    const text = olmo(['info', '--model', join(FIXTURES, 'olmo2', 'model-bf16')], {
      env: { OLMO_MEMORY_LIMIT: '1000' },
    });
    assert.equal(text.code, 0, text.stderr);
    const bf16 = readConfig(join(FIXTURES, 'olmo2', 'model-bf16'));
    assert.match(text.stdout, new RegExp(`parameters: ${parameterCount(bf16).total.toLocaleString('en-US')} `));
    assert.match(text.stdout, /weights: ([\d.]+) KiB stored \(bf16\); \1 KiB in memory \(bf16\)/);
    assert.match(text.stdout, new RegExp(`KV cache: [\\d.]+ KiB for 1 × ${bf16.maxPositionEmbeddings} tokens`));
    assert.match(text.stdout, /total: .*; available 1000 B of 1000 B \(OLMO_MEMORY_LIMIT\): does NOT fit/);
    // Its matrices start off a 64-byte line (transformers' writer): the AVX-512 kernels read bf16 rows from aligned
    // loads, so info advises --align-weights only for other paths (forced here) and other dtypes (the f32 model).
    const advice = /weight alignment: (\d+) of \1 float matrices .*faster with --align-weights/;
    if (cpuPaths()?.active === 'avx512')
      assert.match(text.stdout, /weight alignment: (\d+) of \1 float matrices .*--align-weights gains nothing here/);
    assert.match(
      olmo(['info', '--model', join(FIXTURES, 'olmo2', 'model-bf16')], { env: { OLMO_CPU_PATH: 'avx2' } }).stdout,
      advice,
    );
    assert.match(olmo(['info', '--model', OLMO2]).stdout, advice);

    // --quantize int8: the weights counted as q8_0 (a byte and 2/32 of a scale per matrix weight).
    const q = olmo(['info', '--model', OLMO2, '--context', '64', '--quantize', 'int8', '--json']);
    assert.equal(q.code, 0, q.stderr);
    const qm = JSON.parse(q.stdout).model;
    assert.deepEqual([qm.storedDtype, qm.loadedDtype], ['f32', 'int8']);
    assert.equal(qm.loadedWeightBytes, weightBytes(cfg, 'int8'));
    assert.ok(qm.loadedWeightBytes < qm.storedWeightBytes / 3, `${qm.loadedWeightBytes} vs ${qm.storedWeightBytes}`);

    const bad = olmo(['info', '--model', OLMO2, '--context', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--context/);
    const badQuant = olmo(['info', '--model', OLMO2, '--quantize', 'int4']);
    assert.equal(badQuant.code, 2);
    assert.match(badQuant.stderr, /--quantize must be int8, got "int4"/);
  });

  it('generate caps --max-new-tokens at the context and refuses a prompt that fills it', () => {
    const model = join(tmp, 'olmo2-with-tokenizer');
    cpSync(OLMO2, model, { recursive: true });
    writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    const context = readConfig(model).maxPositionEmbeddings;
    const r = olmo([
      'generate',
      '--model',
      model,
      '--prompt',
      'hello world',
      '--max-new-tokens',
      '1000000',
      '--no-stream',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const capped =
      /--max-new-tokens 1000000 capped to (\d+): the model's context is (\d+) positions and the prompt takes (\d+)/.exec(
        r.stderr,
      );
    assert.ok(capped, r.stderr);
    assert.equal(Number(capped[2]), context);
    assert.equal(Number(capped[1]) + Number(capped[3]), context);
    const made = Number(/\[(\d+) tokens, finished by/.exec(r.stderr)?.[1]);
    assert.ok(made <= Number(capped[1]), r.stderr);

    const long = olmo(['generate', '--model', model, '--prompt', 'hello world '.repeat(200), '--max-new-tokens', '5']);
    assert.equal(long.code, 2);
    assert.match(long.stderr, new RegExp(`the prompt is \\d+ tokens, the model's context is ${context} positions`));
  });

  it('forward refuses inputs longer than the context (100k tokens on a 128-position model used to hang)', () => {
    const input = join(tmp, 'long.json');
    writeFileSync(input, JSON.stringify({ input_ids: [Array.from({ length: 100_000 }, (_, i) => i % 300)] }));
    const t0 = performance.now();
    const r = olmo(['forward', '--model', OLMO2, '--input', input, '--output', join(tmp, 'out.safetensors')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /long\.json has 100000 tokens per row, the model's context \(max_position_embeddings in .*config\.json\) is 128/,
    );
    assert.ok(performance.now() - t0 < 60_000);
  });
});
