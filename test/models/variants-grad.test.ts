// Gradients of whole models in shapes the fixtures do not cover (MQA/GQA, tying, clip_qkv, other expert counts,
// top-k and renormalisation) against central finite differences of the loss.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backward, crossEntropy, noGrad, tensor, tidy, Generator } from '../../src/tensor/index.ts';
import type { CausalLM } from '../../src/models/index.ts';
import { VARIANTS, randomModel } from './variants.ts';

function lossOf(model: CausalLM, ids: Int32Array, targets: Int32Array, seq: number): number {
  return tidy(() =>
    crossEntropy(model.forward(tensor(ids, [2, seq], 'i32')).logits, tensor(targets, [2, seq], 'i32')).loss.item(),
  );
}

describe('model gradients beyond the fixtures', () => {
  for (const [name, raw] of Object.entries(VARIANTS)) {
    it(`${name}: backward agrees with finite differences`, () => {
      const model = randomModel(raw, 11);
      const seq = 6;
      const gen = new Generator(5);
      const vocab = model.config.vocabSize;
      const ids = Int32Array.from({ length: 2 * seq }, () => gen.int(vocab));
      const targets = Int32Array.from({ length: 2 * seq }, () => gen.int(vocab));
      tidy(() =>
        backward(
          crossEntropy(model.forward(tensor(ids, [2, seq], 'i32')).logits, tensor(targets, [2, seq], 'i32')).loss,
        ),
      );
      const params = [...model.namedParameters()];
      // The embedding rows in use, a projection, a norm weight and (MoE) the router and an expert.
      const picks = params.filter(([n]) =>
        /embed_tokens|layers\.0\.self_attn\.(q|v)_proj|layers\.1\..*norm|mlp\.gate\.weight|experts\.1\.down_proj|lm_head/.test(
          n,
        ),
      );
      assert.ok(picks.length >= 3, `${name}: parameters to check`);
      // Small steps: a larger one can flip an expert choice or cross a clip_qkv kink, where the loss is not smooth.
      const h = 1e-3;
      for (const [pname, p] of picks) {
        const data = p.f32();
        const grad = p.grad!.f32();
        let scale = 0;
        for (const g of grad) scale = Math.max(scale, Math.abs(g));
        // Elements with the largest gradients (those that matter) plus a spread of others.
        const order = Array.from(grad.keys()).sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a]));
        for (const i of [
          ...order.slice(0, 3),
          ...order.filter((_, k) => k % Math.max(1, Math.floor(order.length / 3)) === 0).slice(0, 3),
        ]) {
          const orig = data[i];
          data[i] = orig + h;
          const up = noGrad(() => lossOf(model, ids, targets, seq));
          data[i] = orig - h;
          const down = noGrad(() => lossOf(model, ids, targets, seq));
          data[i] = orig;
          const numeric = (up - down) / (2 * h);
          const tol = 2e-3 + 3e-2 * Math.max(Math.abs(numeric), scale);
          assert.ok(
            Math.abs(numeric - grad[i]) <= tol,
            `${name} ${pname}[${i}]: analytic ${grad[i]}, numeric ${numeric} (tol ${tol})`,
          );
        }
      }
    });
  }
});
