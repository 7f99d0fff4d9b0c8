// A training loop (forward, backward, AdamW update) must not grow memory: tensors a step creates are
// released by its scope and their buffers reused. 1,000 steps on a small OLMo 2; the bound is generous
// (the exact curve is in `npm run bench -- memory`).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backward, crossEntropy, Generator, tensor, tidy, zeroGrad } from '../../src/tensor/index.ts';
import { initModel, parseConfig } from '../../src/models/index.ts';
import { truncatedNormalInit } from '../../src/nn/index.ts';
import { AdamW, clipFactor, gradNorm } from '../../src/train/optim.ts';
import { randInts } from '../helpers.ts';

it('1,000 training steps keep resident memory flat', () => {
  const cfg = parseConfig({
    model_type: 'olmo2',
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 128,
    max_position_embeddings: 64,
  });
  const model = initModel(cfg, truncatedNormalInit(new Generator(1)));
  const params = [...model.namedParameters()];
  const opt = new AdamW(
    params.map(([name, param]) => ({ name, param })),
    { lr: 1e-3, weightDecay: 0.1 },
  );
  const ids = tensor(randInts(2 * 16, 0, 128, 3), [2, 16], 'i32');
  const targets = tensor(randInts(2 * 16, 0, 128, 4), [2, 16], 'i32');
  const rss: number[] = [];
  let first = 0;
  let last = 0;
  for (let step = 0; step < 1000; step++) {
    zeroGrad(params.map(([, p]) => p));
    const loss = tidy(() => {
      const { loss } = crossEntropy(model.forward(ids).logits, targets);
      backward(loss);
      return loss.item();
    });
    opt.update(1e-3, clipFactor(gradNorm(params.map(([, p]) => p)), 1));
    if (step === 0) first = loss;
    last = loss;
    if (step % 100 === 99) rss.push(process.memoryUsage().rss);
  }
  assert.ok(last < first, `the loss should fall on a fixed batch (${first} → ${last})`);
  const growth = rss[rss.length - 1] - rss[1];
  assert.ok(
    growth < 48 * 1024 * 1024,
    `resident memory grew by ${(growth / 1048576).toFixed(1)} MiB from step 200 to 1000: ${rss.map((r) => (r / 1048576).toFixed(1)).join(', ')} MiB`,
  );
});
