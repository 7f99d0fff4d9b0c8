// Byte-level BPE over mergeable ranks (tiktoken-style rank table), with Hugging Face merge semantics.

const INF = Number.MAX_SAFE_INTEGER;

/**
 * A byte-level BPE model defined by a rank table: `rank(bytes)` is both a token's id and the priority of the
 * merge that forms it (lower merges first). Pieces are handled as "binary strings" (one char per byte,
 * latin1), which makes slicing and Map look-ups cheap.
 *
 * Merging always starts from single bytes — the Hugging Face `tokenizers` BPE behaviour (no `ignore_merges`),
 * which is what the dolma2 tokenizer.json does. tiktoken instead returns a whole piece at once when it is in
 * the vocabulary; the two agree whenever merging a vocabulary entry's bytes rebuilds that entry, which
 * `firstUnreachableToken` checks for a table.
 */
export class ByteBpe {
  /** binary string → rank */
  private readonly ranks: Map<string, number>;
  /** rank → binary string */
  private readonly pieces: string[];
  private cache = new Map<string, number[]>();
  private static readonly CACHE_LIMIT = 200_000;

  constructor(ranks: Map<string, number>) {
    this.ranks = ranks;
    this.pieces = [];
    for (const [piece, rank] of ranks) this.pieces[rank] = piece;
    for (let b = 0; b < 256; b++) {
      if (!ranks.has(String.fromCharCode(b)))
        throw new Error(`BPE rank table lacks the single byte 0x${b.toString(16)}`);
    }
  }

  get size(): number {
    return this.pieces.length;
  }

  rankOf(piece: string): number | undefined {
    return this.ranks.get(piece);
  }

  /** The binary string of a rank (one char per byte), or undefined. */
  pieceOf(rank: number): string | undefined {
    return this.pieces[rank];
  }

  /** Encodes one pre-tokenised piece given as a binary string; appends ids to `out`. */
  encodePiece(piece: string, out: number[]): void {
    const cached = this.cache.get(piece);
    if (cached !== undefined) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids = this.merge(piece);
    if (this.cache.size >= ByteBpe.CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    for (const id of ids) out.push(id);
  }

  /** Runs the merges on a binary string and returns the resulting ids. */
  merge(piece: string): number[] {
    if (piece.length === 1) return [this.ranks.get(piece)!];
    return piece.length <= 48 ? this.mergeLinear(piece) : this.mergeHeap(piece);
  }

  /** Quadratic merge loop (tiktoken's): fastest for the short pieces that make up almost all text. */
  mergeLinear(piece: string): number[] {
    const n = piece.length;
    if (n === 0) return [];
    if (n === 1) return [this.ranks.get(piece)!];
    // bounds[i] .. bounds[i+1] is part i; pairRanks[i] is the rank of part i joined with part i+1.
    const bounds: number[] = new Array(n + 1);
    for (let i = 0; i <= n; i++) bounds[i] = i;
    const pairRanks: number[] = new Array(n - 1);
    for (let i = 0; i < n - 1; i++) pairRanks[i] = this.ranks.get(piece.slice(i, i + 2)) ?? INF;
    for (;;) {
      let best = INF;
      let at = -1;
      for (let i = 0; i < pairRanks.length; i++) {
        if (pairRanks[i] < best) {
          best = pairRanks[i];
          at = i;
        }
      }
      if (at < 0) break;
      bounds.splice(at + 1, 1);
      pairRanks.splice(at, 1);
      // Parts at-1|at and at|at+1 changed.
      if (at > 0) pairRanks[at - 1] = this.pairRank(piece, bounds, at - 1);
      if (at < pairRanks.length) pairRanks[at] = this.pairRank(piece, bounds, at);
    }
    const ids: number[] = new Array(bounds.length - 1);
    for (let i = 0; i + 1 < bounds.length; i++) {
      const id = this.ranks.get(piece.slice(bounds[i], bounds[i + 1]));
      if (id === undefined) throw new Error('BPE produced a piece that is not in the rank table');
      ids[i] = id;
    }
    return ids;
  }

  /**
   * The same merges in O(n log n) for long pieces (a run of 100 000 letters is one pre-token): a heap of
   * candidate pairs keyed by (rank, start), so ties go to the leftmost pair exactly as in `mergeLinear`.
   */
  mergeHeap(piece: string): number[] {
    const n = piece.length;
    if (n === 0) return [];
    const next = new Int32Array(n); // next part's start, n at the end
    const prev = new Int32Array(n); // previous part's start, -1 at the beginning
    const version = new Uint32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    const heap = new PairHeap();
    const push = (i: number): void => {
      const j = next[i];
      if (j >= n) return;
      const rank = this.ranks.get(piece.slice(i, next[j]));
      if (rank !== undefined) heap.push(rank * (n + 1) + i, i, j, version[i], version[j]);
    };
    for (let i = 0; i < n - 1; i++) push(i);
    while (heap.size > 0) {
      const [, i, j, vi, vj] = heap.pop();
      if (!alive[i] || !alive[j] || next[i] !== j || version[i] !== vi || version[j] !== vj) continue;
      // Merge part j into part i.
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] < n) prev[next[j]] = i;
      version[i]++;
      if (prev[i] >= 0) push(prev[i]);
      push(i);
    }
    const ids: number[] = [];
    for (let i = 0; i < n; i = next[i]) {
      const id = this.ranks.get(piece.slice(i, next[i]));
      if (id === undefined) throw new Error('BPE produced a piece that is not in the rank table');
      ids.push(id);
    }
    return ids;
  }

  private pairRank(piece: string, bounds: number[], i: number): number {
    return this.ranks.get(piece.slice(bounds[i], bounds[i + 2])) ?? INF;
  }

  /**
   * The first rank whose bytes do not merge back into that single token (where HF-style merging and
   * tiktoken's whole-piece shortcut could disagree), or -1 when every entry is reachable.
   */
  firstUnreachableToken(): number {
    for (let r = 0; r < this.pieces.length; r++) {
      const p = this.pieces[r];
      if (p === undefined) continue;
      const ids = this.merge(p);
      if (ids.length !== 1 || ids[0] !== r) return r;
    }
    return -1;
  }
}

/** UTF-8 bytes of a (well-formed) string as a binary string. */
export function utf8Binary(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Binary string → bytes. */
export function binaryBytes(piece: string): Uint8Array {
  return new Uint8Array(Buffer.from(piece, 'latin1'));
}

/** A binary min-heap of merge candidates (key, left part, right part, their versions). */
class PairHeap {
  private keys: number[] = [];
  private data: [number, number, number, number, number][] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, i: number, j: number, vi: number, vj: number): void {
    const keys = this.keys;
    const data = this.data;
    let at = keys.length;
    keys.push(key);
    data.push([key, i, j, vi, vj]);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[at] = keys[parent];
      data[at] = data[parent];
      at = parent;
    }
    keys[at] = key;
    data[at] = [key, i, j, vi, vj];
  }

  pop(): [number, number, number, number, number] {
    const keys = this.keys;
    const data = this.data;
    const top = data[0];
    const lastKey = keys.pop()!;
    const last = data.pop()!;
    const n = keys.length;
    if (n > 0) {
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= n) break;
        if (child + 1 < n && keys[child + 1] < keys[child]) child++;
        if (keys[child] >= lastKey) break;
        keys[at] = keys[child];
        data[at] = data[child];
        at = child;
      }
      keys[at] = lastKey;
      data[at] = last;
    }
    return top;
  }
}
