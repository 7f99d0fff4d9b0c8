// PPO's value model: a scalar head (AutoModelForSequenceClassification's `score`, one label) on the final hidden
// state of either the policy itself ('head': shared trunk, the value loss trains it too) or a separate model
// (Tülu 3 loads it from a reward model; any HF checkpoint folder works here). The head starts from
// N(0, 1/(d_model + 1)) as Tülu 3's reward-model head does (the Tülu 3 paper, https://arxiv.org/abs/2411.15124).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.ts';
import { loadModel, saveModel, type CausalLM } from '../../models/index.ts';
import { Linear, Module, truncatedNormalInit } from '../../nn/index.ts';
import { Generator as TensorGenerator, reshape, tensor, type Tensor } from '../../tensor/index.ts';
import type { RolloutBatch } from './logprobs.ts';

export const VALUE_HEAD_FILE = 'value_head.safetensors';

class ValueHead extends Module {
  readonly score: Linear;
  constructor(hidden: number, seed: number) {
    super();
    this.score = this.child(
      'score',
      new Linear(hidden, 1, truncatedNormalInit(new TensorGenerator(seed), 1 / Math.sqrt(hidden + 1))),
    );
  }
}

export class ValueModel {
  private readonly head: ValueHead;

  /** backbone null: the head sits on the policy's hidden states (passed to `values`). */
  constructor(
    readonly backbone: CausalLM | null,
    hidden: number,
    seed: number,
  ) {
    this.head = new ValueHead(hidden, seed);
  }

  get shared(): boolean {
    return this.backbone === null;
  }

  /** Trainable parameters: the head's (`value.score.weight`) and, for a separate model, its backbone's (`value.model.…`). */
  *namedParameters(): Generator<[string, Tensor]> {
    for (const [n, t] of this.head.namedParameters()) yield [`value.${n}`, t];
    if (this.backbone) for (const [n, t] of this.backbone.namedParameters()) yield [`value.backbone.${n}`, t];
  }

  /** Values [rows, length] at the log-prob positions; `policyHidden` is required for a shared head. */
  values(batch: RolloutBatch, policyHidden: Tensor | null): Tensor {
    let hidden = policyHidden;
    if (this.backbone) {
      const out = this.backbone.forward(tensor(batch.ids, [batch.rows, batch.length], 'i32'), {
        outputHiddenStates: true,
      });
      hidden = out.hiddenStates[out.hiddenStates.length - 1];
    }
    if (!hidden) throw new Error('ValueModel.values: a value head on the policy needs the policy hidden states');
    return reshape(this.head.score.forward(hidden), [batch.rows, batch.length]);
  }

  /** Writes the head (and a separate backbone as an HF folder `value_model/`) into a checkpoint folder. */
  save(dir: string): void {
    const w = this.head.score.weight;
    saveSafetensors(
      join(dir, VALUE_HEAD_FILE),
      { 'score.weight': { dtype: 'F32', shape: [...w.shape], data: w.f32() } },
      { format: 'olmo-ts-value-head' },
    );
    if (this.backbone) saveModel(this.backbone, join(dir, 'value_model'));
  }

  /** Restores the head (and backbone) written by `save`. */
  static load(dir: string, policyHidden: number, seed: number): ValueModel {
    const backbone = existsSync(join(dir, 'value_model')) ? loadModel(join(dir, 'value_model')) : null;
    const vm = new ValueModel(backbone, backbone ? backbone.config.hiddenSize : policyHidden, seed);
    const t = loadSafetensors(join(dir, VALUE_HEAD_FILE)).tensors.get('score.weight');
    const w = vm.head.score.weight;
    if (!t || t.data.length !== w.size)
      throw new Error(
        `${join(dir, VALUE_HEAD_FILE)}: score.weight is missing or has the wrong size (expected ${w.size})`,
      );
    w.f32().set(t.data as Float32Array);
    return vm;
  }
}
