// Memory benchmark: resident memory over 1,000 training steps (forward, backward, AdamW) of a small OLMo 2,
// printed every 100 steps. A flat curve means scopes release every step's tensors and buffers are reused.
import { Generator, backward, crossEntropy, tensor, tidy, zeroGrad } from '../src/tensor/index.ts';
import { initModel, parseConfig } from '../src/models/index.ts';
import { truncatedNormalInit } from '../src/nn/index.ts';
import { AdamW, clipFactor, gradNorm } from '../src/train/optim.ts';
import type { BenchOptions, Measurement } from './run.ts';

export async function run(opts: BenchOptions): Promise<Measurement[]> {
  const cfg = parseConfig({
    model_type: 'olmo2',
    hidden_size: 128,
    intermediate_size: 320,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 1024,
    max_position_embeddings: 256,
  });
  const model = initModel(cfg, truncatedNormalInit(new Generator(1)));
  const params = [...model.namedParameters()];
  const opt = new AdamW(
    params.map(([name, param]) => ({ name, param })),
    { lr: 1e-3, weightDecay: 0.1 },
  );
  const gen = new Generator(2);
  const ids = tensor(
    Int32Array.from({ length: 4 * 64 }, () => gen.int(1024)),
    [4, 64],
    'i32',
  );
  const targets = tensor(
    Int32Array.from({ length: 4 * 64 }, () => gen.int(1024)),
    [4, 64],
    'i32',
  );
  const out: Measurement[] = [];
  const t0 = performance.now();
  for (let step = 1; step <= 1000; step++) {
    zeroGrad(model.parameters());
    tidy(() => backward(crossEntropy(model.forward(ids).logits, targets).loss));
    opt.update(1e-3, clipFactor(gradNorm(model.parameters()), 1));
    if (step % 100 === 0)
      out.push({ name: `rss after step ${step}`, value: process.memoryUsage().rss / 1048576, unit: 'MiB' });
  }
  opts.log(
    `1000 steps in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(model.numParameters() / 1e6).toFixed(2)}M parameters, batch 4×64)`,
  );
  const growth = out[out.length - 1].value - out[1].value;
  out.push({ name: 'rss growth, step 200 → 1000', value: growth, unit: 'MiB' });
  return out;
}
