// The decoder-only skeleton every OLMo family shares: token embedding, a stack of blocks, a final norm and
// the LM head (tied to the embedding or not), under Hugging Face's parameter names (model.embed_tokens,
// model.layers.i, model.norm, lm_head). Each family supplies its block and final norm.
import { embedding, gatherRows, isGradEnabled, linear, reshape, tensor, tidy, type Tensor } from '../tensor/index.ts';
import {
  checkPackedRows,
  Embedding,
  KVCache,
  Linear,
  Module,
  type AttentionContext,
  type Init,
  type MoEOutput,
  type PackedRows,
} from '../nn/index.ts';
import type { ModelConfig } from './config.ts';

export interface BlockOutput {
  x: Tensor;
  moe?: MoEOutput;
}

export interface DecoderBlock extends Module {
  forward(x: Tensor, ctx: AttentionContext): BlockOutput;
}

export interface FinalNorm extends Module {
  forward(x: Tensor): Tensor;
}

export interface ForwardOptions {
  /** Decode with this cache: new tokens go after each sequence's cached ones, and the cache advances. */
  cache?: KVCache;
  /** Also return hidden states: the embeddings, each block's output, and the final norm's output last. */
  outputHiddenStates?: boolean;
  /**
   * Real tokens in each row of the input; the rest of a row is right padding. The real tokens' outputs are
   * then exactly those of the row without its padding, whatever the batch's width (batch invariance; padding
   * is invisible to them anyway, causally, but a kernel may round differently). Default: no padding.
   */
  lengths?: readonly number[];
  /**
   * Logits at one position per row only (an index into the input's width): logits are then [B, 1, vocab].
   * A prefill needs only its last token's, and the LM head is the largest matmul of a small model; each row's
   * numbers are those of the full logits (the head treats rows independently).
   */
  logitsAt?: readonly number[];
  /**
   * Several sequences' new tokens packed into the input's one row (ids [1, T]), each continuing its own row of
   * `cache` (required) at that row's length: a server step that decodes some sequences and prefills others in
   * one forward, so every matrix multiplies all their tokens at once. Each token's outputs are those of a forward
   * of its sequence alone. Not with `lengths` or `logitsAt`.
   */
  packed?: PackedInput;
}

export interface PackedInput extends PackedRows {
  /** Positions in the packed row whose logits to compute, in this order (default all): logits [1, R, vocab]. */
  logitsAt?: readonly number[];
}

export interface ForwardOutput {
  /** [B, T, vocab] */
  logits: Tensor;
  hiddenStates: Tensor[];
  /** MoE routing per layer (OLMoE); empty for dense models. */
  moe: MoEOutput[];
}

class LayerList extends Module {
  constructor(readonly blocks: DecoderBlock[]) {
    super();
    blocks.forEach((b, i) => this.child(String(i), b));
  }
}

class DecoderBody extends Module {
  readonly embedTokens: Embedding;
  readonly layers: LayerList;
  readonly norm: FinalNorm;
  constructor(cfg: ModelConfig, init: Init, makeBlock: (i: number) => DecoderBlock, norm: FinalNorm) {
    super();
    this.embedTokens = this.child('embed_tokens', new Embedding(cfg.vocabSize, cfg.hiddenSize, init));
    this.layers = this.child('layers', new LayerList(Array.from({ length: cfg.numLayers }, (_, i) => makeBlock(i))));
    this.norm = this.child('norm', norm);
  }
}

export class CausalLM extends Module {
  readonly body: DecoderBody;
  readonly lmHead: Linear | null;

  constructor(
    readonly config: ModelConfig,
    init: Init,
    makeBlock: (i: number) => DecoderBlock,
    finalNorm: FinalNorm,
  ) {
    super();
    this.body = this.child('model', new DecoderBody(config, init, makeBlock, finalNorm));
    this.lmHead = config.tieWordEmbeddings
      ? null
      : this.child('lm_head', new Linear(config.hiddenSize, config.vocabSize, init));
  }

  get blocks(): DecoderBlock[] {
    return this.body.layers.blocks;
  }

  /** A KV cache for `batch` sequences of up to `capacity` tokens. */
  createCache(batch: number, capacity: number): KVCache {
    const c = this.config;
    return new KVCache(c.numLayers, batch, capacity, c.numKvHeads, c.headDim);
  }

  /** Runs the model on token ids (i32 [B, T]). */
  forward(inputIds: Tensor, opts: ForwardOptions = {}): ForwardOutput {
    if (inputIds.dtype !== 'i32' || inputIds.rank !== 2) {
      throw new Error(`forward: input ids must be i32 [batch, seq], got ${inputIds.describe()}`);
    }
    const [batch, seq] = inputIds.shape;
    const cache = opts.cache ?? null;
    const packed = opts.packed ?? null;
    if (packed) checkPacked(opts, cache, batch, seq);
    else if (cache && cache.batch !== batch)
      throw new Error(`forward: cache holds ${cache.batch} sequences, input has ${batch}`);
    const lengths = cache ? cache.lengths : null;
    const positions = packed ? packedPositions(packed, lengths!, seq) : lengths ? sequencePositions(lengths, seq) : 0;
    const validLens = opts.lengths ? validLengths(opts.lengths, lengths, batch, seq) : null;
    let x = embedding(this.body.embedTokens.weight, inputIds, this.config.padTokenId);
    const hiddenStates: Tensor[] = opts.outputHiddenStates ? [x] : [];
    const moe: MoEOutput[] = [];
    // Without a tape nothing needs a block's intermediates once it has returned: each block runs in its own
    // scope, so its buffers go back to the pool for the next block and a forward holds one block's activations
    // at a time, not every layer's until the caller's scope ends. (With a tape, backward needs them.)
    const scoped = !isGradEnabled();
    this.blocks.forEach((block, i) => {
      const ctx = { cache: cache ? cache.layers[i] : null, lengths, positions, validLens, packed };
      const run = () => block.forward(x, ctx);
      const out = scoped ? tidy(run) : run();
      // The block's input is garbage now too, unless it is returned as a hidden state.
      if (scoped && !opts.outputHiddenStates && out.x !== x) x.dispose();
      x = out.x;
      if (out.moe) moe.push(out.moe);
      if (opts.outputHiddenStates && i < this.blocks.length - 1) hiddenStates.push(x);
    });
    x = this.body.norm.forward(x);
    if (opts.outputHiddenStates) hiddenStates.push(x);
    if (opts.logitsAt) x = gatherRows(reshape(x, [batch * seq, x.shape[2]]), logitRows(opts.logitsAt, batch, seq));
    if (packed?.logitsAt) x = gatherRows(reshape(x, [seq, x.shape[2]]), packedLogitRows(packed.logitsAt, seq));
    const logits = linear(x, this.lmHead ? this.lmHead.weight : this.body.embedTokens.weight);
    if (packed) cache!.advancePacked(packed);
    else if (cache) cache.advance(seq);
    return { logits, hiddenStates, moe };
  }
}

/** Real positions per sequence, counting cached tokens: cached + real new tokens of each row. */
function validLengths(real: readonly number[], cached: Int32Array | null, batch: number, seq: number): Int32Array {
  if (real.length !== batch) throw new Error(`forward: lengths has ${real.length} entries for a batch of ${batch}`);
  return Int32Array.from(real, (n, b) => {
    if (!Number.isInteger(n) || n < 0 || n > seq)
      throw new Error(`forward: lengths[${b}] = ${n} is outside [0, ${seq}] (the input's width)`);
    return (cached ? cached[b] : 0) + n;
  });
}

/** Flat row indices [B, 1] of one position per sequence. */
function logitRows(at: readonly number[], batch: number, seq: number): Tensor {
  if (at.length !== batch) throw new Error(`forward: logitsAt has ${at.length} entries for a batch of ${batch}`);
  return tensor(
    Int32Array.from(at, (t, b) => {
      if (!Number.isInteger(t) || t < 0 || t >= seq)
        throw new Error(`forward: logitsAt[${b}] = ${t} is outside [0, ${seq})`);
      return b * seq + t;
    }),
    [batch, 1],
    'i32',
  );
}

/** Absolute positions [B, T]: each sequence continues from its cached length. */
function sequencePositions(lengths: Int32Array, seq: number): Tensor {
  const pos = new Int32Array(lengths.length * seq);
  lengths.forEach((len, b) => {
    for (let t = 0; t < seq; t++) pos[b * seq + t] = len + t;
  });
  return tensor(pos, [lengths.length, seq], 'i32');
}

function checkPacked(opts: ForwardOptions, cache: KVCache | null, batch: number, seq: number): void {
  if (!cache) throw new Error('forward: a packed input needs a cache (its rows are where the sequences continue)');
  if (batch !== 1) throw new Error(`forward: a packed input is one row of tokens [1, T], got ${batch} rows`);
  if (opts.lengths || opts.logitsAt)
    throw new Error('forward: a packed input takes neither lengths nor logitsAt (packed.logitsAt picks its rows)');
  checkPackedRows(opts.packed!, cache.batch, seq);
}

/** Positions [1, T] of a packed row: each sequence's tokens continue from its cache row's length. */
function packedPositions(packed: PackedRows, lengths: Int32Array, seq: number): Tensor {
  const pos = new Int32Array(seq);
  let at = 0;
  packed.slots.forEach((slot, i) => {
    for (let t = 0; t < packed.counts[i]; t++) pos[at++] = lengths[slot] + t;
  });
  return tensor(pos, [1, seq], 'i32');
}

/** Row indices [1, R] into a packed row of `seq` tokens. */
function packedLogitRows(at: readonly number[], seq: number): Tensor {
  return tensor(
    Int32Array.from(at, (t, i) => {
      if (!Number.isInteger(t) || t < 0 || t >= seq)
        throw new Error(`forward: packed.logitsAt[${i}] = ${t} is outside [0, ${seq})`);
      return t;
    }),
    [1, at.length],
    'i32',
  );
}
