// Key/value cache for decoding: per layer, keys and values of every sequence in the batch laid out
// [batch, capacity, kvHeads, headDim], with each sequence's own length (sequences of a batch may differ).
import { constants as bufferConstants } from 'node:buffer';
import { Tensor } from '../tensor/index.ts';

/**
 * The most elements one typed array may hold in this Node.js (V8's limit, which `buffer.constants.MAX_LENGTH`
 * reports: 2^32 in Node 20); every tensor is one typed array.
 */
export const MAX_TENSOR_ELEMENTS: number = bufferConstants.MAX_LENGTH;

/** Refuses cache sizes that are not counts, or whose per-layer K/V tensor no typed array can hold. */
function checkCacheSize(sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`KV cache: ${name} must be a non-negative integer, got ${v}`);
  }
  const { batch, capacity, kvHeads, headDim } = sizes;
  const elements = batch * capacity * kvHeads * headDim;
  if (elements > MAX_TENSOR_ELEMENTS) {
    throw new RangeError(
      `KV cache: batch ${batch} × capacity ${capacity} × ${kvHeads} KV heads × head_dim ${headDim} = ${elements} elements per ` +
        `layer, more than the ${MAX_TENSOR_ELEMENTS} one typed array can hold; lower the batch or the tokens to generate`,
    );
  }
}

function checkRowRange(start: number, count: number, batch: number): void {
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1 && start + count <= batch))
    throw new Error(`KV cache rows: [${start}, ${start + count}) is not a range of sequences in [0, ${batch})`);
}

export class LayerKVCache {
  readonly k: Tensor;
  readonly v: Tensor;

  constructor(
    readonly batch: number,
    readonly capacity: number,
    readonly kvHeads: number,
    readonly headDim: number,
    /** Existing K/V storage to use instead of allocating (a view of another cache's rows). */
    storage?: { k: Tensor; v: Tensor },
  ) {
    this.k = storage?.k ?? Tensor.empty([batch, capacity, kvHeads, headDim], 'f32', true);
    this.v = storage?.v ?? Tensor.empty([batch, capacity, kvHeads, headDim], 'f32', true);
    this.k.kept = true;
    this.v.kept = true;
  }

  /**
   * Writes new keys/values [batch, T, kvHeads, headDim] for every sequence at its current length
   * (lengths[b]); the caller advances the lengths once every layer has written.
   */
  write(kNew: Tensor, vNew: Tensor, lengths: Int32Array): void {
    const [batch, t] = kNew.shape;
    const row = this.kvHeads * this.headDim;
    const kd = this.k.f32();
    const vd = this.v.f32();
    const kn = kNew.f32();
    const vn = vNew.f32();
    for (let b = 0; b < batch; b++) {
      if (lengths[b] + t > this.capacity) {
        throw new Error(
          `KV cache full: sequence ${b} has ${lengths[b]} tokens, adding ${t} exceeds capacity ${this.capacity}`,
        );
      }
      const dst = (b * this.capacity + lengths[b]) * row;
      kd.set(kn.subarray(b * t * row, (b + 1) * t * row), dst);
      vd.set(vn.subarray(b * t * row, (b + 1) * t * row), dst);
    }
  }

  /** Sequences [start, start + count) as a layer cache of their own over this one's memory (nothing copied). */
  rows(start: number, count: number): LayerKVCache {
    checkRowRange(start, count, this.batch);
    const per = this.capacity * this.kvHeads * this.headDim;
    const view = (t: Tensor) =>
      Tensor.fromStorage(
        [count, this.capacity, this.kvHeads, this.headDim],
        'f32',
        t.f32().subarray(start * per, (start + count) * per),
      );
    return new LayerKVCache(count, this.capacity, this.kvHeads, this.headDim, { k: view(this.k), v: view(this.v) });
  }

  /** Sequence `b` alone (a view made once and kept: a packed forward visits several rows every step). */
  row(b: number): LayerKVCache {
    this.rowViews ??= [];
    return (this.rowViews[b] ??= this.rows(b, 1));
  }

  private rowViews: LayerKVCache[] | undefined;

  dispose(): void {
    this.k.dispose();
    this.v.dispose();
  }
}

/**
 * Where the tokens of a packed batch go: the input's one row holds several sequences' new tokens back to back,
 * sequence i's `counts[i]` tokens continuing cache row `slots[i]` (a server step: some sequences' next token, other
 * sequences' prompt chunks, in one forward).
 */
export interface PackedRows {
  readonly slots: readonly number[];
  readonly counts: readonly number[];
}

/** Refuses a packing that does not cover `tokens` exactly or names a cache row twice or outside [0, batch). */
export function checkPackedRows(packed: PackedRows, batch: number, tokens: number): void {
  const { slots, counts } = packed;
  if (slots.length !== counts.length || slots.length === 0)
    throw new Error(`packed rows: ${slots.length} slots and ${counts.length} counts (expected equal, at least one)`);
  const seen = new Set<number>();
  let total = 0;
  slots.forEach((slot, i) => {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < batch))
      throw new Error(`packed rows: slots[${i}] = ${slot} is not a cache row in [0, ${batch})`);
    if (seen.has(slot)) throw new Error(`packed rows: cache row ${slot} appears twice`);
    seen.add(slot);
    if (!(Number.isInteger(counts[i]) && counts[i] >= 1))
      throw new Error(`packed rows: counts[${i}] = ${counts[i]} is not a positive integer`);
    total += counts[i];
  });
  if (total !== tokens) throw new Error(`packed rows: counts add up to ${total} tokens, the input has ${tokens}`);
}

/** The whole model's cache: one LayerKVCache per layer plus the shared per-sequence lengths. */
export class KVCache {
  readonly layers: LayerKVCache[];
  /** Tokens cached so far, per sequence. */
  readonly lengths: Int32Array;

  constructor(
    numLayers: number,
    batch: number,
    capacity: number,
    kvHeads: number,
    headDim: number,
    shared?: { layers: LayerKVCache[]; lengths: Int32Array },
  ) {
    checkCacheSize({ numLayers, batch, capacity, kvHeads, headDim });
    this.layers =
      shared?.layers ?? Array.from({ length: numLayers }, () => new LayerKVCache(batch, capacity, kvHeads, headDim));
    this.lengths = shared?.lengths ?? new Int32Array(batch);
  }

  /**
   * Sequences [start, start + count) of this cache as a cache of their own that shares its memory: a forward
   * through the view writes keys, values and lengths straight into these rows, without copying them out.
   * Disposing the view frees nothing.
   */
  rows(start: number, count: number): KVCache {
    checkRowRange(start, count, this.batch);
    const first = this.layers[0];
    return new KVCache(this.layers.length, count, this.capacity, first?.kvHeads ?? 0, first?.headDim ?? 0, {
      layers: this.layers.map((l) => l.rows(start, count)),
      lengths: this.lengths.subarray(start, start + count),
    });
  }

  get batch(): number {
    return this.lengths.length;
  }

  get capacity(): number {
    return this.layers[0]?.capacity ?? 0;
  }

  /** Moves every sequence forward by `count` tokens (or by per-sequence counts). */
  advance(count: number | Int32Array): void {
    for (let b = 0; b < this.lengths.length; b++) this.lengths[b] += typeof count === 'number' ? count : count[b];
  }

  /** Moves the rows of a packed batch forward by their token counts. */
  advancePacked(packed: PackedRows): void {
    packed.slots.forEach((slot, i) => (this.lengths[slot] += packed.counts[i]));
  }

  /**
   * A cache of `copies` sequences that each start with sequence `index` of `src` (a shared prompt prefilled
   * once, continued several ways), with room for `capacity` tokens.
   */
  static forkFrom(src: KVCache, index: number, copies: number, capacity: number): KVCache {
    const len = src.lengths[index];
    if (capacity < len) throw new Error(`KV cache fork: capacity ${capacity} is below the prefix length ${len}`);
    const first = src.layers[0];
    const out = new KVCache(src.layers.length, copies, capacity, first?.kvHeads ?? 0, first?.headDim ?? 0);
    src.layers.forEach((layer, l) => {
      const row = layer.kvHeads * layer.headDim;
      const from = index * layer.capacity * row;
      const kPrefix = layer.k.f32().subarray(from, from + len * row);
      const vPrefix = layer.v.f32().subarray(from, from + len * row);
      for (let c = 0; c < copies; c++) {
        out.layers[l].k.f32().set(kPrefix, c * capacity * row);
        out.layers[l].v.f32().set(vPrefix, c * capacity * row);
      }
    });
    out.lengths.fill(len);
    return out;
  }

  /**
   * A new cache holding only the given sequences, in that order, with their cached tokens and lengths (decoding
   * drops the sequences that have finished, so later steps do not compute rows nobody reads).
   */
  select(rows: readonly number[]): KVCache {
    for (const src of rows) {
      if (!(Number.isInteger(src) && src >= 0 && src < this.batch))
        throw new Error(`KV cache select: row ${src} is not in [0, ${this.batch})`);
    }
    const first = this.layers[0];
    const out = new KVCache(this.layers.length, rows.length, this.capacity, first?.kvHeads ?? 0, first?.headDim ?? 0);
    this.layers.forEach((layer, l) => {
      const row = layer.kvHeads * layer.headDim;
      const [k, v] = [layer.k.f32(), layer.v.f32()];
      const [outK, outV] = [out.layers[l].k.f32(), out.layers[l].v.f32()];
      rows.forEach((src, dst) => {
        const from = src * layer.capacity * row;
        const used = this.lengths[src] * row;
        outK.set(k.subarray(from, from + used), dst * layer.capacity * row);
        outV.set(v.subarray(from, from + used), dst * layer.capacity * row);
      });
    });
    rows.forEach((src, dst) => (out.lengths[dst] = this.lengths[src]));
    return out;
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}
