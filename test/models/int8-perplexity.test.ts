// `--quantize int8` (loadModel weights 'int8': q8_0, 32-element blocks with an f16 scale) against the bf16 weights
// it was made from, on a model that has learnt something: a quickstart-tiny-shaped OLMo 2 trained for a few hundred
// steps (AdamW, cross-entropy, the library's own) on text of the quickstart corpus (src/data/synth), tokenized
// with a BPE trained on that text as `olmo data synth` does. Perplexity on held-out documents of the same
// generators must be within 1% of bf16's, with activations kept in f32 and in the int8 fast mode (quantised too). A random model would make the comparison vacuous (its perplexity is the
// vocabulary size whatever the rounding), so the test first checks that training took perplexity far below that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/data/random.ts';
import { buildWorld, type World } from '../../src/data/synth/index.ts';
import { storyDoc, worldFactsDoc } from '../../src/data/synth/text.ts';
import { initModel, loadModel, parseConfig, saveModel, type CausalLM } from '../../src/models/index.ts';
import { truncatedNormalInit } from '../../src/nn/index.ts';
import {
  Generator,
  backward,
  crossEntropy,
  noGrad,
  setInt8Fast,
  tensor,
  tidy,
  zeroGrad,
} from '../../src/tensor/index.ts';
import { loadTokenizer, saveTrainedTokenizer, trainByteLevelBpeSync } from '../../src/tokenizers/index.ts';
import { AdamW, clipFactor, gradNorm } from '../../src/train/optim.ts';

const SEQ = 64;
const BATCH = 16;
const STEPS = 300;
const VOCAB = 1280; // the synth tokenizer's vocabulary (SYNTH_TOKENIZER_VOCAB_SIZE)

/** Documents of the corpus's world-facts and stories generators, from their own random stream. */
function documents(world: World, stream: string, count: number): string[] {
  const rng = Rng.from(1234, stream);
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? worldFactsDoc(world, rng) : storyDoc(world, rng)));
}

/** Token ids of the documents, each ended by EOS (id 0), cut into rows of SEQ + 1 (inputs and shifted targets). */
function rows(ids: number[]): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i + SEQ + 1 <= ids.length; i += SEQ) out.push(Int32Array.from(ids.slice(i, i + SEQ + 1)));
  return out;
}

function batchTensors(batch: Int32Array[]) {
  const ids = new Int32Array(batch.length * SEQ);
  const targets = new Int32Array(batch.length * SEQ);
  batch.forEach((r, b) => {
    ids.set(r.subarray(0, SEQ), b * SEQ);
    targets.set(r.subarray(1), b * SEQ);
  });
  return { ids: tensor(ids, [batch.length, SEQ], 'i32'), targets: tensor(targets, [batch.length, SEQ], 'i32') };
}

/** exp of the mean next-token cross-entropy over every held-out row. */
function perplexity(model: CausalLM, heldOut: Int32Array[]): number {
  let sum = 0;
  for (let i = 0; i < heldOut.length; i += BATCH) {
    const batch = heldOut.slice(i, i + BATCH);
    sum += noGrad(() =>
      tidy(() => {
        const { ids, targets } = batchTensors(batch);
        return crossEntropy(model.forward(ids).logits, targets, { reduction: 'sum' }).loss.item();
      }),
    );
  }
  return Math.exp(sum / (heldOut.length * SEQ));
}

test('int8 (q8_0) perplexity on held-out quickstart-corpus text is within 1% of bf16 for a trained model', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'olmo-int8-ppl-'));
  try {
    const world = buildWorld(1234);
    const train = documents(world, 'int8-ppl-train', 600);
    const held = documents(world, 'int8-ppl-held-out', 60);
    saveTrainedTokenizer(trainByteLevelBpeSync({ texts: train, vocabSize: VOCAB }), join(tmp, 'tokenizer'));
    const tok = loadTokenizer(join(tmp, 'tokenizer'));
    const encode = (docs: string[]) => docs.flatMap((d) => [...tok.encode(d), 0]);
    const trainRows = rows(encode(train));
    const heldOut = rows(encode(held));
    assert.ok(trainRows.length >= 4 * BATCH && heldOut.length >= BATCH, `${trainRows.length}, ${heldOut.length} rows`);

    // configs/quickstart/pretrain.yaml's model at the tiny quickstart's size (src/quickstart/sizes.ts).
    const cfg = parseConfig({
      model_type: 'olmo2',
      hidden_size: 64,
      intermediate_size: 160,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      vocab_size: VOCAB,
      max_position_embeddings: 256,
      rms_norm_eps: 1e-6,
      rope_theta: 500000,
      tie_word_embeddings: false,
      eos_token_id: 0,
      pad_token_id: 1,
    });
    const model = initModel(cfg, truncatedNormalInit(new Generator(1)));
    const untrained = perplexity(model, heldOut);
    const opt = new AdamW(
      [...model.namedParameters()].map(([name, param]) => ({ name, param })),
      { lr: 3e-3, weightDecay: 0.1 },
    );
    const order = new Generator(2);
    for (let step = 0; step < STEPS; step++) {
      const batch = Array.from({ length: BATCH }, () => trainRows[order.int(trainRows.length)]);
      zeroGrad(model.parameters());
      tidy(() => {
        const { ids, targets } = batchTensors(batch);
        backward(crossEntropy(model.forward(ids).logits, targets).loss);
      });
      // Linear warmup over 20 steps, then linear decay to 10%.
      const lr = 3e-3 * Math.min((step + 1) / 20, 1 - (0.9 * step) / STEPS);
      opt.update(lr, clipFactor(gradNorm(model.parameters()), 1));
    }

    saveModel(model, join(tmp, 'model'), { dtype: 'bfloat16' });
    const bf16 = loadModel(join(tmp, 'model'), { trainable: false, weights: 'stored', verify: 'size' });
    const int8 = loadModel(join(tmp, 'model'), { trainable: false, weights: 'int8', verify: 'size' });
    const matrixDtypes = (m: CausalLM) =>
      new Set([...m.namedParameters()].filter(([, t]) => t.rank === 2).map(([, t]) => t.dtype));
    assert.deepEqual(matrixDtypes(bf16), new Set(['bf16']));
    assert.deepEqual(matrixDtypes(int8), new Set(['q8_0']));

    const pBf16 = perplexity(bf16, heldOut);
    const pInt8 = perplexity(int8, heldOut);
    setInt8Fast(true); // activations quantised to q8_0 as well (the int8 fast mode)
    let pInt8Fast: number;
    try {
      pInt8Fast = perplexity(int8, heldOut);
    } finally {
      setInt8Fast(undefined);
    }
    const summary =
      `untrained ${untrained.toFixed(1)}, bf16 ${pBf16.toFixed(4)}, int8 ${pInt8.toFixed(4)}, ` +
      `int8 fast mode ${pInt8Fast.toFixed(4)}`;
    t.diagnostic(summary);
    assert.ok(untrained > VOCAB / 2, `untrained perplexity near the vocabulary size: ${summary}`);
    assert.ok(pBf16 < untrained / 20, `training must have taught the model the corpus: ${summary}`);
    assert.ok(Math.abs(pInt8 / pBf16 - 1) <= 0.01, `int8 perplexity within 1% of bf16: ${summary}`);
    assert.ok(Math.abs(pInt8Fast / pBf16 - 1) <= 0.01, `int8 fast-mode perplexity within 1% of bf16: ${summary}`);
    assert.notEqual(pInt8Fast, pInt8, `the fast mode must change the numbers: ${summary}`);
    // q8_0 rounds every matrix: the numbers do change (the comparison is not of two identical models).
    assert.notEqual(pInt8, pBf16, summary);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
