// The request cache is keyed by content, not by path: replacing the weights in the same folder and evaluating into
// the same output recomputes every request (and gives the new model's scores); a relative and an absolute path to
// one model share the cache; with and without checksums.json the fingerprint follows the weights.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { after, test } from 'node:test';
import { LocalHfFolderSource } from '../../src/eval/data/source.ts';
import { runEval } from '../../src/eval/runner/run.ts';
import { cacheIdentityOf } from '../../src/eval/runner/cache.ts';
import { LocalBackend } from '../../src/eval/backends/local.ts';
import { loadModel, saveModel } from '../../src/models/index.ts';
import { setBackend } from '../../src/tensor/index.ts';
import { loadTokenizer } from '../../src/tokenizers/index.ts';
import { randomModel } from '../models/variants.ts';
import { tinyCheckpoint, tmp } from './backends/helpers.ts';
import { writeSyntheticData } from './fixtures.ts';

setBackend('js');
const root = tmp('content-cache');
after(() => rmSync(root, { recursive: true, force: true }));
const tokDir = tinyCheckpoint();
const dataRoot = join(root, 'data');
mkdirSync(dataRoot);
writeSyntheticData(dataRoot, 3, []);
const TASKS = ['arc_easy:rc::olmes'];
const ARCH = {
  model_type: 'olmo2',
  hidden_size: 32,
  intermediate_size: 40,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 320,
  max_position_embeddings: 128,
  rope_theta: 10000,
};

function backendFor(dir: string): LocalBackend {
  return new LocalBackend({
    model: loadModel(dir, { trainable: false }),
    tokenizer: loadTokenizer(dir),
    name: dir,
    checkpointDir: dir,
  });
}
const evalInto = (out: string, dir: string) =>
  runEval({
    tasks: TASKS,
    source: new LocalHfFolderSource(dataRoot),
    outputDir: out,
    backend: backendFor(dir),
    overrides: { num_shots: 0 },
  });
const scores = (r: Awaited<ReturnType<typeof runEval>>) => r.tasks.map((t) => t.metrics);

for (const withManifest of [true, false]) {
  test(`new weights saved into the same folder are re-evaluated, not served from the cache (checksums.json ${withManifest ? 'present' : 'absent'})`, async () => {
    const dir = join(root, `final-${withManifest}`);
    const out = join(root, `out-${withManifest}`);
    const save = (seed: number) => {
      saveModel(randomModel(ARCH, seed), dir, { tokenizerFrom: tokDir });
      if (!withManifest) rmSync(join(dir, 'checksums.json'));
    };
    save(1);
    const first = await evalInto(out, dir);
    assert.ok(first.computed > 0);
    assert.equal(first.cached, 0);
    const again = await evalInto(out, dir);
    assert.equal(again.computed, 0, 'the same weights are answered from the cache');

    save(2); // "retrain into the same final/"
    const second = await evalInto(out, dir);
    assert.equal(second.cached, 0, 'no request of the old weights may answer for the new ones');
    assert.equal(second.computed, first.computed);
    const fresh = await evalInto(join(root, `fresh-${withManifest}`), dir);
    assert.deepEqual(scores(second), scores(fresh), "the scores are the new model's");
    assert.notDeepEqual(
      second.tasks[0].metrics.acc_per_token ?? second.tasks[0].metrics,
      first.tasks[0].metrics,
      'the two models score differently',
    );
  });
}

test('a relative and an absolute path to the same model hit the same cache', async () => {
  const dir = join(root, 'paths');
  saveModel(randomModel(ARCH, 3), dir, { tokenizerFrom: tokDir });
  const out = join(root, 'out-paths');
  const abs = await evalInto(out, resolve(dir));
  assert.ok(abs.computed > 0);
  const rel = relative(process.cwd(), dir);
  assert.notEqual(rel, resolve(dir));
  const viaRelative = await evalInto(out, rel);
  assert.equal(viaRelative.computed, 0);
  assert.equal(viaRelative.cached, abs.computed);
  assert.deepEqual(scores(viaRelative), scores(abs));
});

test('the cache identity names weights, tokenizer and numerics by content, never the path', async () => {
  const dir = join(root, 'ident');
  saveModel(randomModel(ARCH, 4), dir, { tokenizerFrom: tokDir });
  const id = await cacheIdentityOf(backendFor(dir));
  const text = JSON.stringify(id);
  assert.ok(!text.includes(root), `no path in ${text}`);
  const content = id.content as Record<string, unknown>;
  assert.match(String(content.weights), /^files:[0-9a-f]{64}$/);
  assert.match(String(content.tokenizer), /^[0-9a-f]{64}$/);
  assert.equal(content.kernels, 'js');
  assert.equal(content.compute_dtype, 'float32');
  // the in-memory fallback (no checkpointDir) fingerprints the same weights the same way across loads
  const noDir = () =>
    new LocalBackend({
      model: loadModel(dir, { trainable: false }),
      tokenizer: loadTokenizer(dir),
      name: 'x',
    }).cacheIdentity();
  const [a, b] = [await noDir(), await noDir()];
  assert.match(String(a.weights), /^params:[0-9a-f]{64}$/);
  assert.deepEqual(a, b);
});
