// The `olmo` command: help, version, unknown commands and options, and the engine/model subcommands on the
// tiny fixture checkpoints.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '../../src/io/safetensors.ts';
import { toFloat32 } from '../../src/io/dtypes.ts';
import { assertClose } from '../helpers.ts';
import { readReference } from '../models/reference.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';
import { olmo } from './cli-helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'olmo-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('olmo', () => {
  it('prints help, version, and rejects unknown commands and options', () => {
    const help = olmo(['--help']);
    assert.equal(help.code, 0);
    for (const c of ['forward', 'generate', 'chat', 'pddl', 'info'])
      assert.match(help.stdout, new RegExp(`\\n  ${c}\\s`));
    const version = olmo(['--version']);
    assert.equal(
      version.stdout.trim(),
      JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')).version,
    );
    const unknown = olmo(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const badOption = olmo(['info', '--frob']);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /olmo info: Unknown option '--frob'/);
    assert.match(olmo(['generate', '--help']).stdout, /--temperature/);
  });

  it('forward writes logits and hidden states equal to the transformers reference', () => {
    const ref = readReference('olmo2');
    const ids = ref.ids('input_ids');
    const input = join(tmp, 'ids.json');
    writeFileSync(
      input,
      JSON.stringify({ input_ids: [[...ids.i32().subarray(0, 16)], [...ids.i32().subarray(16, 32)]] }),
    );
    const out = join(tmp, 'out.safetensors');
    const r = olmo(['forward', '--model', join(FIXTURES, 'olmo2', 'model'), '--input', input, '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    const { tensors } = loadSafetensors(out);
    const logits = tensors.get('logits')!;
    assertClose(toFloat32(logits.dtype, logits.data as never), ref.f32('logits').data, {
      atol: 1e-4,
      rtol: 0,
      label: 'cli logits',
    });
    for (let i = 0; i <= 2; i++) assert.ok(tensors.has(`hidden_states.${i}`));
    const bad = olmo([
      'forward',
      '--model',
      join(FIXTURES, 'olmo2', 'model'),
      '--input',
      join(tmp, 'missing.json'),
      '--output',
      out,
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /missing\.json/);
  });

  it('generate continues a prompt greedily and reports bad options', () => {
    const model = join(tmp, 'olmo2-with-tokenizer');
    cpSync(join(FIXTURES, 'olmo2', 'model'), model, { recursive: true });
    writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    const a = olmo(['generate', '--model', model, '--prompt', 'hello world', '--max-new-tokens', '5', '--no-stream']);
    assert.equal(a.code, 0, a.stderr);
    const b = olmo(['generate', '--model', model, '--prompt', 'hello world', '--max-new-tokens', '5']);
    assert.equal(b.stdout, a.stdout, 'streamed and buffered output agree');
    assert.match(a.stderr, /\[\d+ tokens, finished by (length|eos)\]/);
    const bad = olmo(['generate', '--model', model, '--prompt', 'x', '--temperature=-1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--temperature must be a number ≥ 0, got '-1'/);
    const noTok = olmo(['generate', '--model', join(FIXTURES, 'olmo2', 'model'), '--prompt', 'x']);
    assert.equal(noTok.code, 2);
    assert.match(noTok.stderr, /has no tokenizer\.json; pass --tokenizer/);
  });

  it('chat answers each input line through the chat template', () => {
    const model = join(tmp, 'olmo2-with-tokenizer');
    const r = olmo(['chat', '--model', model, '--max-new-tokens', '3'], { input: 'hello\n/reset\nworld\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l !== '').length <= 2, true);
  });

  it('info reports the backend', () => {
    const r = olmo(['info', '--json']);
    assert.equal(r.code, 0);
    const info = JSON.parse(r.stdout);
    assert.ok(['js', 'native'].includes(info.backend));
    if (info.backend === 'native') {
      // The fast modes' kernels as this CPU runs them; forcing the AVX2 path leaves both without their instructions.
      assert.ok(['avx512-bf16', 'exact'].includes(info.cpuPaths.fastModes.bf16), JSON.stringify(info.cpuPaths));
      assert.ok(['avx512-vnni', 'reference'].includes(info.cpuPaths.fastModes.int8), JSON.stringify(info.cpuPaths));
      const avx2 = olmo(['info'], { env: { OLMO_CPU_PATH: 'avx2' } });
      assert.match(avx2.stdout, /OLMO_BF16_FAST=1 unavailable here .*OLMO_INT8_FAST=1 reference loop/);
    }
    const js = olmo(['info', '--json'], { env: { OLMO_BACKEND: 'js' } });
    assert.equal(JSON.parse(js.stdout).backend, 'js');
    const bad = olmo(['info'], { env: { OLMO_BACKEND: 'cuda' } });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /OLMO_BACKEND must be "js" or "native", got "cuda"/);
  });
});
