// Source mixtures, stages and the resumable data position.
//
// A stage concatenates its sources into one FslDataset (sources in mix order). Its instance list is built
// deterministically from the stage seed:
//   N = floor(tokens / L) instances in total (or, without a token budget, the largest N that repeats no source);
//   source i gets n_i = its normalised proportion × N (largest-remainder rounding, so Σ n_i = N exactly);
//   a source with a_i < n_i instances contributes floor(n_i / a_i) full copies plus the first (n_i mod a_i) of a
//   seeded permutation of its instances (up-sampling, as Dolmino repeats FLAN ×2 / math ×4); with a_i ≥ n_i, the
//   first n_i of that permutation (down-sampling);
//   the concatenated selection is shuffled with Fisher–Yates seeded by (seed, stage name).
// Reading past the end of the list continues into epoch e = 1, 2, … with the same selection reshuffled under seed
// + e (OLMo seeds each epoch's permutation with seed + epoch). The list is a Uint32Array of global instance indices
// (4 bytes per instance: 16 MB for 4M instances).
//
// The data position is {stage, position in stage}, plus a fingerprint of the files, seeds and budgets, so a resumed
// run produces exactly the instances an uninterrupted one would, and a run resumed on different data is refused.
import type { DataConfig, StageData } from './config.ts';
import { FslDataset, sha256Json, type FslDatasetOptions } from './dataset.ts';
import { Rng, permutation, shuffleU32 } from './random.ts';

export interface SourceSelection {
  name: string;
  /** Instances the source has. */
  available: number;
  /** Instances the stage takes from it (may exceed `available`: repetition). */
  selected: number;
  /** selected / available. */
  repetition: number;
  /** Global index range [start, end) of the source inside the stage dataset. */
  start: number;
  end: number;
}

/** Splits `total` into integer parts proportional to `weights` (largest remainder; ties to the earlier part). */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * total);
  const out = exact.map((x) => Math.floor(x));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k][1]]++;
  return out;
}

export class StageInstances {
  readonly stage: StageData;
  readonly dataset: FslDataset;
  readonly sources: SourceSelection[];
  /** Instances per epoch of the stage (after trimming to a multiple of `batchInstances`). */
  readonly length: number;
  /** The epoch-0 selection, in source order, before shuffling. */
  private readonly selection: Uint32Array;
  private cachedEpoch = -1;
  private cachedOrder: Uint32Array | null = null;

  constructor(stage: StageData, sequenceLength: number, options: FslDatasetOptions & { batchInstances?: number } = {}) {
    this.stage = stage;
    const paths: string[] = [];
    const ranges: { name: string; start: number; end: number }[] = [];
    // One dataset over all sources; a source's range is found by building the datasets per source first.
    let start = 0;
    for (const src of stage.mix) {
      const ds = new FslDataset(src.paths, sequenceLength, options);
      ranges.push({ name: src.name, start, end: start + ds.numInstances });
      start += ds.numInstances;
      ds.close();
      paths.push(...ds.files.map((f) => f.path));
    }
    this.dataset = new FslDataset(paths, sequenceLength, options);
    if (this.dataset.numInstances > 0xffffffff) throw new Error(`stage ${stage.name}: more than 2^32 instances`);
    ranges.forEach((r, i) => {
      if (r.end === r.start) {
        throw new Error(
          `stage ${stage.name}: source "${r.name}" has no instance of ${sequenceLength} tokens ` +
            `(files: ${stage.mix[i].paths.join(', ')})`,
        );
      }
    });
    const weights = stage.mix.map((m) => m.proportion);
    const wsum = weights.reduce((a, b) => a + b, 0);
    let total: number;
    if (stage.tokens !== undefined) total = Math.floor(stage.tokens / sequenceLength);
    else total = Math.floor(Math.min(...ranges.map((r, i) => (r.end - r.start) / (weights[i] / wsum))) + 1e-9);
    const b = options.batchInstances ?? 1;
    total = Math.floor(total / b) * b;
    if (total === 0) {
      throw new Error(
        `stage ${stage.name}: budget of ${stage.tokens ?? 'all'} tokens gives no full batch of ${b}×${sequenceLength} tokens`,
      );
    }
    const counts = apportion(total, weights);
    const selection = new Uint32Array(total);
    let pos = 0;
    this.sources = ranges.map((r, i) => {
      const a = r.end - r.start;
      const n = counts[i];
      for (let c = 0; c + a <= n; c += a) for (let k = 0; k < a; k++) selection[pos++] = r.start + k;
      const rest = n % a;
      if (rest > 0) {
        const perm = permutation(a, stage.seed, `${stage.name}/${r.name}/subset`);
        for (let k = 0; k < rest; k++) selection[pos++] = r.start + perm[k];
      }
      return { name: r.name, available: a, selected: n, repetition: n / a, start: r.start, end: r.end };
    });
    this.selection = selection;
    this.length = total;
  }

  /** The instance order of `epoch` (global indices into `dataset`). */
  order(epoch = 0): Uint32Array {
    if (epoch !== this.cachedEpoch) {
      this.cachedOrder = shuffleU32(
        this.selection.slice(),
        Rng.from(this.stage.seed + epoch, `${this.stage.name}/order`),
      );
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder!;
  }

  /** Global dataset index of the instance at `position` (positions past `length` run into later epochs). */
  indexAt(position: number): number {
    const epoch = Math.floor(position / this.length);
    return this.order(epoch)[position - epoch * this.length];
  }

  /** Which source a global dataset index belongs to. */
  sourceOf(index: number): string {
    for (const s of this.sources) if (index >= s.start && index < s.end) return s.name;
    throw new Error(`index ${index} outside stage ${this.stage.name}`);
  }

  fingerprint(): string {
    return sha256Json({
      stage: this.stage.name,
      seed: this.stage.seed,
      tokens: this.stage.tokens ?? null,
      mix: this.stage.mix.map((m) => [m.name, m.proportion]),
      data: this.dataset.fingerprintParts(),
      length: this.length,
    });
  }

  close(): void {
    this.dataset.close();
  }
}

/** Where the data stream stands: serialise it into checkpoints and pass it back to resume. */
export interface DataPosition {
  /** Index of the current stage in the config. */
  stage: number;
  stageName: string;
  /** Instances of the current stage already handed out. */
  position: number;
  /** Instances handed out over all stages. */
  instancesSeen: number;
  /** Hash of the stage's data (file names, sizes, content hashes, seed, budget, L). */
  fingerprint: string;
}

export interface Batch {
  /** batchSize × sequenceLength token ids, row-major. */
  tokens: Uint32Array;
  batchSize: number;
  sequenceLength: number;
  stage: number;
  stageName: string;
  /** Global dataset indices of the rows within the stage dataset. */
  indices: number[];
  /** Source name of each row. */
  sources: string[];
  /** True when this batch is the last of its stage's budget. */
  lastOfStage: boolean;
}

export interface DataLoaderOptions extends FslDatasetOptions {
  /** Instances per (global) batch; each stage's instance count is trimmed to a multiple of it (OLMo drop_last). */
  batchSize: number;
  /** Resume from a saved position. */
  position?: DataPosition;
}

/**
 * Hands out batches stage after stage. Each stage provides `stageLength` instances (its budget); after the last
 * stage's budget, `done` is true and `nextBatch` keeps going into further epochs of the last stage only if
 * asked via `allowExtraEpochs`.
 */
export class DataLoader {
  readonly config: DataConfig;
  readonly batchSize: number;
  private readonly options: FslDatasetOptions;
  private stages: (StageInstances | null)[];
  private stageIndex = 0;
  private position = 0;
  private instancesSeen = 0;

  constructor(config: DataConfig, options: DataLoaderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.config = config;
    this.batchSize = options.batchSize;
    this.options = { dtype: options.dtype };
    this.stages = config.stages.map(() => null);
    if (options.position) this.restore(options.position);
  }

  /** The instances of stage `i` (built on first use). */
  stage(i: number): StageInstances {
    if (i < 0 || i >= this.stages.length) throw new Error(`stage ${i} outside [0, ${this.stages.length})`);
    this.stages[i] ??= new StageInstances(this.config.stages[i], this.config.sequenceLength, {
      ...this.options,
      batchInstances: this.batchSize,
    });
    return this.stages[i]!;
  }

  get currentStage(): number {
    return this.stageIndex;
  }

  /** True when every stage's budget has been handed out. */
  get done(): boolean {
    return this.stageIndex === this.stages.length - 1 && this.position >= this.stage(this.stageIndex).length;
  }

  /** Batches per stage (stage budget / batch). */
  stageBatches(i: number): number {
    return this.stage(i).length / this.batchSize;
  }

  state(): DataPosition {
    const st = this.stage(this.stageIndex);
    return {
      stage: this.stageIndex,
      stageName: st.stage.name,
      position: this.position,
      instancesSeen: this.instancesSeen,
      fingerprint: st.fingerprint(),
    };
  }

  restore(pos: DataPosition): void {
    if (!Number.isInteger(pos.stage) || pos.stage < 0 || pos.stage >= this.stages.length) {
      throw new Error(`data position: stage ${pos.stage} not in this config (${this.stages.length} stages)`);
    }
    const st = this.stage(pos.stage);
    if (st.stage.name !== pos.stageName) {
      throw new Error(
        `data position: stage ${pos.stage} is "${st.stage.name}" here but "${pos.stageName}" in the saved state`,
      );
    }
    if (st.fingerprint() !== pos.fingerprint) {
      throw new Error(
        `data position: the data of stage "${pos.stageName}" differs from the saved run's (files, sizes, seed, ` +
          `budget or sequence length changed); resume with the original data or start a new run`,
      );
    }
    if (!Number.isInteger(pos.position) || pos.position < 0)
      throw new Error(`data position: bad position ${pos.position}`);
    this.stageIndex = pos.stage;
    this.position = pos.position;
    this.instancesSeen = pos.instancesSeen;
  }

  /**
   * The next batch. Moves to the next stage when the current one's budget is used up; past the last stage's
   * budget it throws unless `allowExtraEpochs` (then it continues with the last stage's next epoch).
   */
  nextBatch(out?: Uint32Array, allowExtraEpochs = false): Batch {
    let st = this.stage(this.stageIndex);
    if (this.position >= st.length && this.stageIndex < this.stages.length - 1) {
      this.stageIndex++;
      this.position = 0;
      st = this.stage(this.stageIndex);
    }
    if (this.position >= st.length && !allowExtraEpochs) {
      throw new Error(`data exhausted: all ${this.stages.length} stage budgets have been used`);
    }
    const L = this.config.sequenceLength;
    const B = this.batchSize;
    const tokens = out ?? new Uint32Array(B * L);
    const indices: number[] = [];
    const sources: string[] = [];
    for (let r = 0; r < B; r++) {
      const idx = st.indexAt(this.position + r);
      st.dataset.instance(idx, tokens, r * L);
      indices.push(idx);
      sources.push(st.sourceOf(idx));
    }
    this.position += B;
    this.instancesSeen += B;
    return {
      tokens,
      batchSize: B,
      sequenceLength: L,
      stage: this.stageIndex,
      stageName: st.stage.name,
      indices,
      sources,
      lastOfStage: this.position % st.length === 0,
    };
  }

  close(): void {
    for (const s of this.stages) s?.close();
  }
}

/** Validation instances: the files in order, unshuffled, in batches (the last one may be short). */
export function* validationBatches(
  paths: readonly string[],
  sequenceLength: number,
  batchSize: number,
  options: FslDatasetOptions & { maxBatches?: number } = {},
): Generator<{ tokens: Uint32Array; batchSize: number }> {
  const ds = new FslDataset(paths, sequenceLength, options);
  try {
    const max = options.maxBatches ?? Infinity;
    for (let b = 0, i = 0; i < ds.numInstances && b < max; b++) {
      const n = Math.min(batchSize, ds.numInstances - i);
      const tokens = new Uint32Array(n * sequenceLength);
      for (let r = 0; r < n; r++) ds.instance(i + r, tokens, r * sequenceLength);
      i += n;
      yield { tokens, batchSize: n };
    }
  } finally {
    ds.close();
  }
}
