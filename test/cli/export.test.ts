// `olmo export gguf`: writes the file and says what it wrote; usage errors name the flag; a refusal is a usage
// error naming the option, with no file left.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { olmo } from './cli-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'olmo-cli-export-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = (name: string) => join(import.meta.dirname, '..', 'fixtures', name, 'model');

describe('olmo export gguf', () => {
  it('writes a GGUF and reports architecture, dtype and tensor count', () => {
    const out = join(tmp, 'olmoe.gguf');
    const r = olmo([
      'export',
      'gguf',
      '--model',
      fixture('olmoe'),
      '--out',
      out,
      '--dtype',
      'bf16',
      '--tokenizer',
      'none',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*olmoe\.gguf has no tokenizer; llama\.cpp .* cannot load it/);
    assert.match(r.stdout, /wrote .*olmoe\.gguf: olmoe, bf16, 27 tensors, .* MB, no tokenizer/);
    assert.ok(existsSync(out));
  });

  it('usage errors name the flag or format; a refusal names the option and leaves no file', () => {
    const out = join(tmp, 'bad.gguf');
    const cases: [string[], RegExp][] = [
      [
        ['export', 'onnx', '--model', fixture('olmo2'), '--out', out],
        /give the format first .*got 'onnx'; formats: gguf/,
      ],
      [['export', 'gguf', '--model', fixture('olmo2')], /--out FILE\.gguf is required/],
      [
        ['export', 'gguf', '--model', fixture('olmo2'), '--out', out],
        /has no tokenizer\.json, and llama\.cpp cannot load a GGUF without a tokenizer; name a folder .*--tokenizer none/,
      ],
      [
        ['export', 'gguf', '--model', fixture('olmo2'), '--out', out, '--dtype', 'q4_0'],
        /--dtype must be one of f32, f16, bf16, q8_0, got 'q4_0'/,
      ],
      [
        ['export', 'gguf', '--model', fixture('olmo'), '--out', out, '--dtype', 'q8_0', '--tokenizer', 'none'],
        /cannot export .*ffn_down\.weight \[64, 176\]: q8_0 needs rows/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = olmo(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(existsSync(out), false);
    }
  });
});
