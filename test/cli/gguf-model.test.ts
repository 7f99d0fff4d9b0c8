// `--model FILE.gguf` on the commands: generate (as stored, with --quantize int8, with --align-weights) prints what it prints for
// the checkpoint folder the file was exported from, using the tokenizer inside the file; info reports the same
// model; a .gguf path that does not exist is a usage error naming it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/index.ts';
import { writeModelGguf } from '../../src/models/gguf-export.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';
import { olmo } from './cli-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'olmo-cli-gguf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('olmo --model FILE.gguf', () => {
  const folder = join(tmp, 'olmo2-bf16');
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'olmo2', 'model-bf16'), folder, { recursive: true });
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  const file = join(tmp, 'olmo2-bf16.gguf');
  writeModelGguf(loadModel(folder, { weights: 'stored' }), file, { tokenizer: folder });
  const generateArgs = ['--prompt', 'hello world', '--max-new-tokens', '6', '--no-stream'];

  for (const quantize of [[], ['--quantize', 'int8'], ['--align-weights']]) {
    it(`generate ${quantize.join(' ') || '(as stored)'} prints the folder's text, with the file's tokenizer`, () => {
      const want = olmo(['generate', '--model', folder, ...generateArgs, ...quantize]);
      assert.equal(want.code, 0, want.stderr);
      const got = olmo(['generate', '--model', file, ...generateArgs, ...quantize]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, want.stdout);
      assert.ok(got.stdout.trim().length > 0);
    });
  }

  it('info --json reports the same model', () => {
    const want = olmo(['info', '--model', folder, '--json']);
    const got = olmo(['info', '--model', file, '--json']);
    assert.equal(got.code, 0, got.stderr);
    const a = JSON.parse(got.stdout) as { model: Record<string, unknown> };
    const b = JSON.parse(want.stdout) as { model: Record<string, unknown> };
    assert.equal(a.model.path, file);
    // free memory moves between the two runs; the rest is the model's
    // (and where each file's tensors fall against cache lines)
    const fixed = (m: Record<string, unknown>) => ({
      ...m,
      path: null,
      availableBytes: null,
      fits: null,
      alignment: null,
    });
    assert.deepEqual(fixed(a.model), fixed(b.model));
    assert.equal(a.model.storedDtype, 'bf16');
  });

  it('a .gguf path that does not exist is a usage error naming it', () => {
    const r = olmo(['generate', '--model', join(tmp, 'absent.gguf'), '--prompt', 'hi']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /GGUF model file .*absent\.gguf does not exist/);
  });
});
