// Validation loss: mean next-token cross-entropy (nats per token) of a model on held-out token files, read as
// fixed-length instances. The trainer measures it periodically; the quickstart measures every stage's model with
// the same function, so the numbers are comparable across stages.
import { validationBatches } from '../data/index.ts';
import type { CausalLM } from '../models/index.ts';
import { crossEntropy, noGrad, tensor, tidy } from '../tensor/index.ts';

export interface ValidationOptions {
  /** Token files or folders of them. */
  paths: readonly string[];
  sequenceLength: number;
  /** Instances per forward pass. */
  batchInstances: number;
  /** Stop after this many batches (default: all of the data). */
  maxBatches?: number;
}

/** Token ids as the model's input, refusing ids outside its vocabulary (data made with another tokenizer). */
export function tokenIdsFor(model: CausalLM, batch: Uint32Array): Int32Array {
  const vocab = model.config.vocabSize;
  const ids = new Int32Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    if (batch[i] >= vocab) {
      throw new Error(
        `token id ${batch[i]} in the data is outside the model's vocabulary (vocab_size ${vocab}); was the data tokenized with another tokenizer?`,
      );
    }
    ids[i] = batch[i];
  }
  return ids;
}

/** Next-token targets of `rows` instances of length L (the last position of each row has none: -100). */
export function nextTokenTargets(tokens: Int32Array, rows: number, L: number): Int32Array {
  const out = new Int32Array(rows * L).fill(-100);
  for (let r = 0; r < rows; r++) out.set(tokens.subarray(r * L + 1, (r + 1) * L), r * L);
  return out;
}

/** Mean cross-entropy per predicted token, or null when there is no validation data. */
export function validationLoss(model: CausalLM, opts: ValidationOptions): number | null {
  const L = opts.sequenceLength;
  let sum = 0;
  let count = 0;
  noGrad(() => {
    for (const b of validationBatches([...opts.paths], L, opts.batchInstances, { maxBatches: opts.maxBatches })) {
      tidy(() => {
        const ids = tokenIdsFor(model, b.tokens);
        const out = model.forward(tensor(ids, [b.batchSize, L], 'i32'));
        const ce = crossEntropy(out.logits, tensor(nextTokenTargets(ids, b.batchSize, L), [b.batchSize, L], 'i32'), {
          reduction: 'sum',
        });
        sum += ce.loss.item();
        count += ce.count;
      });
    }
  });
  return count > 0 ? sum / count : null;
}
