// Batches of encoded conversations for the model, and the per-sequence log-probability of their label tokens
// (open-instruct `_get_batch_logps`): Σ_t log p(label_t | ids_<t) over the tokens whose label is not −100,
// optionally divided by their count (`average`, as length-normalised DPO and SimPO use it).
//
// Sequences are right-padded to the longest in the batch, one sequence per row. Attention is causal, so padding
// after a sequence never influences it, and no two conversations share a row (our attention kernel masks only
// causally, so packing several documents into a row would let them attend to each other).
import type { CausalLM } from '../../models/index.ts';
import { crossEntropy, crossEntropyRows, mul, scale, sum, tensor, type Tensor } from '../../tensor/index.ts';
import { IGNORE_INDEX, type EncodedExample } from './encode.ts';

export interface PaddedBatch {
  batch: number;
  length: number;
  /** [batch × length] input ids, padded with padId. */
  ids: Int32Array;
  /** [batch × length] next-token targets: targets[b, t] = labels[b][t + 1], IGNORE_INDEX past the end. */
  targets: Int32Array;
  /** Label tokens per sequence. */
  counts: number[];
}

/** Right-pads a batch and shifts the labels into next-token targets. */
export function padBatch(examples: readonly EncodedExample[], padId: number, vocabSize?: number): PaddedBatch {
  if (examples.length === 0) throw new Error('padBatch: empty batch');
  const length = Math.max(...examples.map((e) => e.ids.length));
  const batch = examples.length;
  const ids = new Int32Array(batch * length).fill(padId);
  const targets = new Int32Array(batch * length).fill(IGNORE_INDEX);
  const counts: number[] = [];
  examples.forEach((e, b) => {
    if (e.labels.length !== e.ids.length)
      throw new Error(`padBatch: sequence ${b} has ${e.ids.length} ids but ${e.labels.length} labels`);
    let n = 0;
    for (let t = 0; t < e.ids.length; t++) {
      const id = e.ids[t];
      if (vocabSize !== undefined && (id < 0 || id >= vocabSize)) {
        throw new Error(
          `token id ${id} is outside the model's vocabulary (vocab_size ${vocabSize}); was the data tokenized with another tokenizer?`,
        );
      }
      ids[b * length + t] = id;
      if (t + 1 < e.ids.length && e.labels[t + 1] !== IGNORE_INDEX) {
        targets[b * length + t] = e.labels[t + 1];
        n++;
      }
    }
    counts.push(n);
  });
  return { batch, length, ids, targets, counts };
}

function padIdOf(model: CausalLM, padId?: number): number {
  return padId ?? model.config.padTokenId ?? model.config.eosTokenId ?? 0;
}

export interface SequenceLogProbs {
  /** [batch] Σ (or mean, with `average`) of label-token log-probs; differentiable unless under noGrad. */
  logps: Tensor;
  /** Label tokens per sequence. */
  counts: number[];
}

/**
 * Per-sequence log-probabilities of the label tokens, with gradients to the model. `average` divides each sum
 * by its label count (length normalisation). A sequence with no label tokens gets 0.
 */
export function sequenceLogProbs(
  model: CausalLM,
  examples: readonly EncodedExample[],
  opts: { average?: boolean; padId?: number } = {},
): SequenceLogProbs {
  const b = padBatch(examples, padIdOf(model, opts.padId), model.config.vocabSize);
  const { logits } = model.forward(tensor(b.ids, [b.batch, b.length], 'i32'));
  const { loss } = crossEntropyRows(logits, tensor(b.targets, [b.batch, b.length], 'i32'), IGNORE_INDEX);
  let logps = scale(sum(loss, 1), -1);
  if (opts.average)
    logps = mul(
      logps,
      tensor(
        Float32Array.from(b.counts, (n) => (n > 0 ? 1 / n : 0)),
        [b.batch],
      ),
    );
  return { logps, counts: b.counts };
}

/** Summed cross-entropy over all label tokens of a batch (the SFT loss before reduction) and the token count. */
export function labelCrossEntropy(
  model: CausalLM,
  examples: readonly EncodedExample[],
  opts: { padId?: number } = {},
): { loss: Tensor; count: number } {
  const b = padBatch(examples, padIdOf(model, opts.padId), model.config.vocabSize);
  const { logits } = model.forward(tensor(b.ids, [b.batch, b.length], 'i32'));
  const ce = crossEntropy(logits, tensor(b.targets, [b.batch, b.length], 'i32'), {
    reduction: 'sum',
    ignoreIndex: IGNORE_INDEX,
  });
  return { loss: ce.loss, count: ce.count };
}
