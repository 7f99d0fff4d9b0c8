// The server's KV cache: one allocation of `slots` sequences × `capacity` tokens made at start-up, each slot
// holding one sequence's keys and values and remembering which tokens they belong to. Slots keep their contents
// after their sequence ends, so a later prompt that starts the same way (the next turn of a chat, the other
// choices of an n > 1 request) reuses them instead of recomputing. A step's packed forward names each sequence's
// slot, so a sequence keeps its slot from admission to the end.
//
// Reused keys and values are those a fresh prefill of the new prompt would compute bit for bit: the kernels give
// the same bits however a sequence's positions were split between forwards (see scheduler.ts).
import type { KVCache } from '../nn/index.ts';
import type { CausalLM } from '../models/index.ts';

export class SlotCache {
  readonly cache: KVCache;
  /** The tokens whose keys/values each slot holds (cache.lengths[slot] of them). */
  readonly tokens: number[][];
  /** Owner of each slot (null: free, its contents kept for reuse). */
  readonly owners: ({ slot: number } | null)[];
  /** When each slot was last freed (least recently freed slots are reused first). */
  private readonly freedAt: number[];
  private clock = 0;

  constructor(
    model: CausalLM,
    readonly slots: number,
    readonly capacity: number,
  ) {
    this.cache = model.createCache(slots, capacity);
    this.tokens = Array.from({ length: slots }, () => []);
    this.owners = new Array(slots).fill(null);
    this.freedAt = new Array(slots).fill(0);
  }

  get freeCount(): number {
    return this.owners.reduce((n, o) => n + (o === null ? 1 : 0), 0);
  }

  length(slot: number): number {
    return this.cache.lengths[slot];
  }

  /**
   * A free slot for `prompt`, holding the longest prefix of it that any slot (free or owned) has, at most
   * `maxReuse` tokens: a free slot's own contents are cut back to the shared prefix; a prefix held elsewhere is
   * copied in. Returns the slot and how many prompt tokens it already holds. Assumes a free slot.
   */
  claim(owner: { slot: number }, prompt: readonly number[], maxReuse: number): { slot: number; reused: number } {
    let bestFree = -1;
    let bestFreeLen = -1;
    let bestAny = -1;
    let bestAnyLen = 0;
    for (let s = 0; s < this.slots; s++) {
      const common = Math.min(commonPrefix(this.tokens[s], prompt), maxReuse);
      if (
        this.owners[s] === null &&
        (common > bestFreeLen || (common === bestFreeLen && this.freedAt[s] < this.freedAt[bestFree]))
      ) {
        bestFree = s;
        bestFreeLen = common;
      }
      if (common > bestAnyLen) {
        bestAny = s;
        bestAnyLen = common;
      }
    }
    if (bestFree < 0) throw new Error('SlotCache.claim: no free slot');
    let slot = bestFree;
    let reused = bestFreeLen;
    if (bestAnyLen > bestFreeLen) {
      // the prefix lives in a slot someone is using (or one worth keeping): copy it into the least useful free slot
      slot = this.leastRecentlyFreed();
      this.copyPrefix(bestAny, slot, bestAnyLen);
      reused = bestAnyLen;
    }
    this.truncate(slot, reused);
    this.owners[slot] = owner;
    owner.slot = slot;
    return { slot, reused };
  }

  release(slot: number): void {
    this.owners[slot] = null;
    this.freedAt[slot] = ++this.clock;
  }

  /** Records tokens just written into a slot by a forward through a view (the cache lengths moved already). */
  appended(slot: number, ids: readonly number[]): void {
    const t = this.tokens[slot];
    for (const id of ids) t.push(id);
    if (t.length !== this.cache.lengths[slot]) {
      throw new Error(
        `SlotCache: slot ${slot} holds ${this.cache.lengths[slot]} positions but ${t.length} tokens are recorded`,
      );
    }
  }

  dispose(): void {
    this.cache.dispose();
  }

  private leastRecentlyFreed(): number {
    let best = -1;
    for (let s = 0; s < this.slots; s++) {
      if (this.owners[s] === null && (best < 0 || this.freedAt[s] < this.freedAt[best])) best = s;
    }
    return best;
  }

  private copyPrefix(from: number, to: number, len: number): void {
    for (const layer of this.cache.layers) {
      const row = layer.kvHeads * layer.headDim;
      for (const t of [layer.k.f32(), layer.v.f32()]) {
        const src = from * layer.capacity * row;
        t.copyWithin(to * layer.capacity * row, src, src + len * row);
      }
    }
    this.tokens[to] = this.tokens[from].slice(0, len);
    this.cache.lengths[to] = len;
  }

  private truncate(slot: number, len: number): void {
    this.tokens[slot].length = len;
    this.cache.lengths[slot] = len;
  }
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
