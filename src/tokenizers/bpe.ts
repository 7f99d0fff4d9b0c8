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
  /** Byte length of the longest token (sizes the part lengths of `mergeLong`). */
  private readonly maxTokenBytes: number;
  private cache = new Map<string, number[]>();
  private static readonly CACHE_LIMIT = 200_000;
  /** Longer pieces are neither cached (a cache entry would keep a document-sized key alive) nor copied. */
  private static readonly CACHE_MAX_BYTES = 256;

  constructor(ranks: Map<string, number>) {
    this.ranks = ranks;
    this.pieces = [];
    let maxTokenBytes = 1;
    for (const [piece, rank] of ranks) {
      this.pieces[rank] = piece;
      if (piece.length > maxTokenBytes) maxTokenBytes = piece.length;
    }
    this.maxTokenBytes = maxTokenBytes;
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
    if (piece.length > ByteBpe.CACHE_MAX_BYTES) {
      this.mergeLong(piece, out);
      return;
    }
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
    return piece.length <= 48 ? this.mergeLinear(piece) : this.mergeLong(piece);
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
   * The same merges for long pieces (a run of a million letters is one pre-token) in O(n log n) time and about
   * six bytes of memory per byte. The next merge is the candidate pair with the lowest (rank, start), so ties go
   * to the leftmost pair exactly as in `mergeLinear` (and as Hugging Face `tokenizers`' `Word::merge_all` and
   * tiktoken's `_byte_pair_merge` order them). Candidates live in flat typed arrays rather than a heap of
   * objects: `lens` holds each part's length at its first and its last byte (boundary tags, so both neighbours
   * are found in O(1)), `cand` the rank of the pair starting at each part, and a tournament tree over blocks
   * of `cand` gives the minimum; a merge only touches the blocks around it.
   */
  mergeLong(piece: string, out: number[] = []): number[] {
    const n = piece.length;
    if (n === 0) return out;
    if (this.size * n >= Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`BPE: a piece of ${n} bytes is too long to merge with a ${this.size}-token table`);
    }
    const lens = this.maxTokenBytes < 256 ? new Uint8Array(n) : new Uint32Array(n);
    lens.fill(1);
    const cand = new Uint32Array(n).fill(NO_PAIR);
    const pairAt = (i: number): number => {
      const j = i + lens[i];
      return j >= n ? NO_PAIR : (this.ranks.get(piece.slice(i, j + lens[j])) ?? NO_PAIR);
    };
    for (let i = 0; i < n - 1; i++) cand[i] = pairAt(i);
    const tree = new MinBlockTree(cand, n);
    for (let key = tree.min(); key !== Infinity; key = tree.min()) {
      const i = key % n;
      const j = i + lens[i];
      const e = j + lens[j];
      // Part j joins part i; the pairs starting at i and at i's left neighbour change.
      lens[i] = e - i;
      lens[e - 1] = e - i;
      cand[j] = NO_PAIR;
      cand[i] = pairAt(i);
      let from = i;
      if (i > 0) {
        from = i - lens[i - 1];
        cand[from] = pairAt(from);
      }
      tree.update(from, j);
    }
    for (let i = 0; i < n; i += lens[i]) {
      const id = this.ranks.get(piece.slice(i, i + lens[i]));
      if (id === undefined) throw new Error('BPE produced a piece that is not in the rank table');
      out.push(id);
    }
    return out;
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

/** `cand` value of a position that starts no mergeable pair (or no part). */
const NO_PAIR = 0xffffffff;

/** Positions per leaf of `MinBlockTree`: a rescan of one block costs little, and the tree stays small. */
const BLOCK = 32;

/**
 * The lowest (rank, position) over `cand`, as the key `rank * n + position`: a tournament tree whose leaves are
 * the minima of blocks of `BLOCK` positions. `update(from, to)` rescans the blocks holding positions from..to
 * and the tree paths above them, stopping where a node's minimum does not change.
 */
class MinBlockTree {
  private readonly cand: Uint32Array;
  private readonly n: number;
  private readonly leaves: number;
  private readonly tree: Float64Array;

  constructor(cand: Uint32Array, n: number) {
    this.cand = cand;
    this.n = n;
    const blocks = Math.ceil(n / BLOCK);
    let leaves = 1;
    while (leaves < blocks) leaves *= 2;
    this.leaves = leaves;
    this.tree = new Float64Array(2 * leaves).fill(Infinity);
    for (let b = 0; b < blocks; b++) this.tree[leaves + b] = this.blockMin(b);
    for (let k = leaves - 1; k >= 1; k--) this.tree[k] = Math.min(this.tree[2 * k], this.tree[2 * k + 1]);
  }

  min(): number {
    return this.tree[1];
  }

  update(from: number, to: number): void {
    for (let b = Math.floor(from / BLOCK); b <= Math.floor(to / BLOCK); b++) {
      const tree = this.tree;
      let k = this.leaves + b;
      tree[k] = this.blockMin(b);
      for (k >>= 1; k >= 1; k >>= 1) {
        const m = Math.min(tree[2 * k], tree[2 * k + 1]);
        if (tree[k] === m) break;
        tree[k] = m;
      }
    }
  }

  private blockMin(b: number): number {
    const cand = this.cand;
    const end = Math.min(this.n, (b + 1) * BLOCK);
    let best = Infinity;
    // Positions rise through the block, so the first lowest rank is the leftmost.
    let bestRank = NO_PAIR;
    for (let p = b * BLOCK; p < end; p++) {
      if (cand[p] < bestRank) {
        bestRank = cand[p];
        best = bestRank * this.n + p;
      }
    }
    return best;
  }
}
