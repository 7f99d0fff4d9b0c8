// The three families against the transformers fixtures: logits, hidden states, losses, router logits and
// every parameter gradient.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { readReference, referenceParam, shiftedTargets } from './reference.ts';
import { backward, crossEntropy, tidy, add, scale, type Tensor } from '../../src/tensor/index.ts';
import { loadModel, hfLoadBalancingLoss } from '../../src/models/index.ts';
import { assertClose } from '../helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** |a − e| ≤ tol · max|e| (the acceptance's "relative to the tensor's max"). */
function assertRelMax(actual: Float32Array, expected: Float32Array, tol: number, label: string) {
  let maxAbs = 0;
  for (const v of expected) maxAbs = Math.max(maxAbs, Math.abs(v));
  assertClose(actual, expected, { atol: tol * Math.max(maxAbs, 1e-12), rtol: 0, label });
}

for (const family of ['olmo', 'olmo2', 'olmoe']) {
  describe(`${family} matches transformers`, () => {
    it('logits, hidden states, loss and gradients from f32 weights', () => {
      const model = loadModel(join(FIXTURES, family, 'model'));
      const ref = readReference(family);
      const ids = ref.ids('input_ids');
      tidy(() => {
        const out = model.forward(ids, { outputHiddenStates: true });
        assertClose(out.logits.f32(), ref.f32('logits').data, { atol: 1e-4, rtol: 0, label: `${family} logits` });
        assert.equal(out.hiddenStates.length, model.config.numLayers + 1);
        out.hiddenStates.forEach((h, i) =>
          assertClose(h.f32(), ref.f32(`hidden_states.${i}`).data, {
            atol: 1e-4,
            rtol: 0,
            label: `${family} hidden_states.${i}`,
          }),
        );
        const { loss } = crossEntropy(out.logits, shiftedTargets(ids));
        assertClose([loss.item()], ref.f32('lm_loss').data, { atol: 1e-5, rtol: 1e-5, label: `${family} lm_loss` });
        let total: Tensor = loss;
        if (family === 'olmoe') {
          out.moe.forEach((m, i) =>
            assertClose(m.routerLogits.f32(), ref.f32(`router_logits.${i}`).data, {
              atol: 1e-4,
              rtol: 0,
              label: `router_logits.${i}`,
            }),
          );
          const aux = hfLoadBalancingLoss(out.moe, model.config.numExperts, model.config.numExpertsPerTok);
          assertClose([aux.item()], ref.f32('aux_loss').data, { atol: 1e-5, rtol: 1e-5, label: 'aux_loss' });
          total = add(loss, scale(aux, model.config.routerAuxLossCoef));
          assertClose([total.item()], ref.f32('total_loss').data, { atol: 1e-5, rtol: 1e-5, label: 'total_loss' });
        }
        backward(total);
      });
      const grads = new Map([...model.namedParameters()].map(([n, p]) => [n, p.grad!.f32()]));
      for (const [name] of model.namedParameters()) {
        assertRelMax(grads.get(name)!, referenceParam(ref, 'grad.', name), 1e-3, `grad.${name}`);
      }
    });

    it('bf16 weights reproduce reference-bf16 logits', () => {
      const model = loadModel(join(FIXTURES, family, 'model-bf16'), { trainable: false });
      const ref = readReference(family, 'reference-bf16.safetensors');
      tidy(() => {
        const out = model.forward(ref.ids('input_ids'));
        assertClose(out.logits.f32(), ref.f32('logits').data, { atol: 1e-4, rtol: 0, label: `${family} bf16 logits` });
      });
    });
  });
}
