// `--quantize int8` on the inference commands: generate runs on q8_0 weights and gives the same text as the
// library with loadModel({ weights: 'int8' }); an unknown value is a usage error.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, loadModel, loadTokenizer } from '../../src/index.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';
import { olmo } from './cli-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'olmo-cli-quantize-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('olmo --quantize', () => {
  const model = join(tmp, 'olmo2-bf16');
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'olmo2', 'model-bf16'), model, { recursive: true });
  writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));

  it('generate --quantize int8 decodes greedily with q8_0 weights, as the library does', () => {
    const r = olmo([
      'generate',
      '--model',
      model,
      '--prompt',
      'hello world',
      '--max-new-tokens',
      '6',
      '--no-stream',
      '--quantize',
      'int8',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const tok = loadTokenizer(model);
    const m = loadModel(model, { weights: 'int8' });
    const want = generate(m, [tok.encode('hello world')], {
      maxNewTokens: 6,
      eosTokenIds: tok.eosTokenId !== null ? [tok.eosTokenId] : undefined,
      vocabLimit: tok.vocabSize,
      decode: (ids) => tok.decode(ids, { skipSpecialTokens: true }),
    });
    assert.equal(r.stdout.trimEnd(), want.texts[0].trimEnd());
  });

  it('an unknown --quantize value is a usage error naming it', () => {
    const r = olmo(['generate', '--model', model, '--prompt', 'hi', '--quantize', 'int4']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--quantize must be int8, got "int4"/);
  });
});
