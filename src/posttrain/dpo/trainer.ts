// Preference tuning with DPO as Tülu 3 runs it (Lambert et al., https://arxiv.org/abs/2411.15124):
// each side of a pair is a full conversation encoded
// with the SFT masking; reference log-probs are computed once from the reference model (the starting policy by
// default), with the same length averaging, and cached next to the run (reference_logprobs.json, checked against
// a fingerprint of the reference weights, the encoded data and the settings); the policy's chosen and rejected
// replies go through one forward per micro-batch; the loss is averaged over the pairs of the global batch.
import { writeTextAtomically } from '../../io/atomic.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { permutation } from '../../data/index.ts';
import { loadModel, type CausalLM } from '../../models/index.ts';
import { backward, noGrad, scale, slice, sum, tensor, tidy } from '../../tensor/index.ts';
import type { Tokenizer } from '../../tokenizers/index.ts';
import type { AdamW } from '../../train/index.ts';
import { loadRows, parsePreferenceRow, type JsonlRow, type PreferencePair } from '../common/conversations.ts';
import {
  encodeForTraining,
  formatEncodeReport,
  newEncodeReport,
  noteOutcome,
  type EncodeReport,
  type EncodedExample,
} from '../common/encode.ts';
import { sequenceLogProbs } from '../common/logprobs.ts';
import type { EpochPlan } from '../common/loop.ts';
import { openRun, PosttrainRun, type PosttrainOptions } from '../common/run.ts';
import type { DpoConfig } from './config.ts';
import {
  averagesLogProbs,
  dpoLoss,
  dpoLossValues,
  summarizePairs,
  type DpoBatchMetrics,
  type DpoPairValues,
} from './loss.ts';

export interface EncodedPair {
  chosen: EncodedExample;
  rejected: EncodedExample;
}

/** Reference log-probs of a pair: [chosen sum, chosen label tokens, rejected sum, rejected label tokens]. */
export type ReferenceLogProbs = [number, number, number, number];

export type DpoOptions = PosttrainOptions;

export interface DpoEval extends DpoBatchMetrics {
  step: number;
  /**
   * How often the policy itself ranks the chosen reply above the rejected one by its log-prob (per-token mean for
   * dpo_norm, sum for dpo), no reference involved; a tie counts ½.
   */
  policy_accuracy: number;
}

export interface DpoResult {
  steps: number;
  before: DpoEval | null;
  after: DpoEval | null;
  outputDir: string;
  stopped: boolean;
  data: { train: EncodeReport; test: EncodeReport | null };
  referenceCache: 'computed' | 'loaded';
}

export const REFERENCE_CACHE_FILE = 'reference_logprobs.json';

/** Encodes preference pairs; a pair is dropped when either side is (too long, or nothing to train on). */
export function encodePairs(
  rows: readonly JsonlRow<PreferencePair>[],
  tokenizer: Tokenizer,
  opts: { maxLength: number; overlong: 'drop' | 'truncate'; template?: string },
  file: string,
): { pairs: EncodedPair[]; report: EncodeReport } {
  const report = newEncodeReport(file, 'pairs');
  const pairs: EncodedPair[] = [];
  for (const r of rows) {
    const c = encodeForTraining(tokenizer, r.value.chosen, opts);
    const rj = encodeForTraining(tokenizer, r.value.rejected, opts);
    const where = `${r.file}:${r.line}`;
    if (!c.ok) noteOutcome(report, c, `${where} (chosen)`, opts.maxLength);
    else if (!rj.ok) noteOutcome(report, rj, `${where} (rejected)`, opts.maxLength);
    else {
      noteOutcome(
        report,
        { ...c, truncated: c.truncated || rj.truncated, length: Math.max(c.length, rj.length) },
        where,
        opts.maxLength,
      );
      pairs.push({ chosen: c.example, rejected: rj.example });
    }
  }
  return { pairs, report };
}

/** FNV-1a over 32-bit words. */
function fnv(h: number, word: number): number {
  for (let s = 0; s < 32; s += 8) h = Math.imul(h ^ ((word >>> s) & 0xff), 0x01000193) >>> 0;
  return h;
}

/** A digest of a model's weights (config, shapes, and a strided sample of every parameter). */
export function modelDigest(model: CausalLM): string {
  let h = 0x811c9dc5;
  for (const ch of JSON.stringify(model.config)) h = fnv(h, ch.charCodeAt(0));
  for (const [name, p] of model.namedParameters()) {
    for (const ch of name) h = fnv(h, ch.charCodeAt(0));
    const bits = new Uint32Array(p.f32().buffer, p.f32().byteOffset, p.size);
    const stride = Math.max(1, Math.floor(bits.length / 4096));
    for (let i = 0; i < bits.length; i += stride) h = fnv(h, bits[i]);
    h = fnv(h, bits[bits.length - 1] ?? 0);
  }
  return h.toString(16).padStart(8, '0');
}

function pairsDigest(pairs: readonly EncodedPair[]): string {
  let h = 0x811c9dc5;
  for (const p of pairs) {
    for (const e of [p.chosen, p.rejected]) {
      h = fnv(h, e.ids.length);
      for (let i = 0; i < e.ids.length; i++) h = fnv(fnv(h, e.ids[i]), e.labels[i]);
    }
  }
  return h.toString(16).padStart(8, '0');
}

/** Runs the pairs through a model in groups of `micro` (index order); per pair [Σc, nc, Σr, nr] or means. */
export function pairLogProbs(
  model: CausalLM,
  pairs: readonly EncodedPair[],
  micro: number,
  padId?: number,
): ReferenceLogProbs[] {
  const out: ReferenceLogProbs[] = [];
  noGrad(() => {
    for (let i = 0; i < pairs.length; i += micro) {
      tidy(() => {
        const g = pairs.slice(i, i + micro);
        const { logps, counts } = sequenceLogProbs(model, [...g.map((p) => p.chosen), ...g.map((p) => p.rejected)], {
          padId,
        });
        const v = logps.f32();
        g.forEach((_, j) => out.push([v[j], counts[j], v[g.length + j], counts[g.length + j]]));
      });
    }
  });
  return out;
}

/** The log-prob the loss uses: the sum, or the per-token mean for length-normalised DPO. */
function used(sumLp: number, count: number, average: boolean): number {
  return average ? (count > 0 ? sumLp / count : 0) : sumLp;
}

export class DpoTrainer {
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly opt: AdamW;
  readonly plan: EpochPlan;
  readonly train: EncodedPair[];
  readonly test: EncodedPair[];
  readonly reports: { train: EncodeReport; test: EncodeReport | null };
  trainRef: ReferenceLogProbs[] = [];
  testRef: ReferenceLogProbs[] = [];
  referenceCache: 'computed' | 'loaded' = 'computed';
  private readonly log: (line: string) => void;
  private readonly average: boolean;
  private readonly training: PosttrainRun<DpoEval>;

  constructor(
    readonly cfg: DpoConfig,
    opts: DpoOptions = {},
  ) {
    const opened = openRun(cfg, opts);
    const { tokenizer, encodeOpts } = opened;
    this.log = opened.log;
    this.average = averagesLogProbs(cfg.loss);
    this.tokenizer = tokenizer;
    let trainRows = loadRows(cfg.data.train, parsePreferenceRow, cfg.data.badRows, this.log).rows;
    let testRows: JsonlRow<PreferencePair>[] = [];
    let testSource = cfg.data.test ?? null;
    if (cfg.data.test) testRows = loadRows(cfg.data.test, parsePreferenceRow, cfg.data.badRows, this.log).rows;
    else if (cfg.data.testFraction > 0) {
      const perm = permutation(trainRows.length, cfg.seed, 'dpo-heldout-split');
      const k = Math.max(1, Math.round(trainRows.length * cfg.data.testFraction));
      const held = new Set(Array.from(perm.subarray(0, k)));
      testRows = trainRows.filter((_, i) => held.has(i));
      trainRows = trainRows.filter((_, i) => !held.has(i));
      testSource = `${cfg.data.train} (held-out ${k} rows, seed ${cfg.seed})`;
    }
    const train = encodePairs(trainRows, tokenizer, encodeOpts, cfg.data.train);
    const test = testSource ? encodePairs(testRows, tokenizer, encodeOpts, testSource) : null;
    this.train = train.pairs;
    this.test = test?.pairs ?? [];
    this.reports = { train: train.report, test: test?.report ?? null };
    for (const r of [train.report, test?.report]) if (r) for (const l of formatEncodeReport(r)) this.log(l);
    if (this.train.length === 0)
      throw new Error(`${cfg.data.train}: no preference pair left to train on (see the report above)`);

    this.training = new PosttrainRun<DpoEval>(cfg, 'dpo', this.train.length, opened, opts);
    ({ model: this.model, opt: this.opt, plan: this.plan } = this.training);
    this.prepareReference(this.training.resumeFrom === null);
  }

  /** Loads the cached reference log-probs when they match, else computes them with the reference model and caches them. */
  private prepareReference(fresh: boolean): void {
    const path = join(this.cfg.output, REFERENCE_CACHE_FILE);
    const refDir = this.cfg.reference ?? this.cfg.initFrom;
    // The starting policy is the reference unless another is named; its weights are in memory on a fresh run.
    const refModel = fresh && !this.cfg.reference ? this.model : loadModel(refDir);
    const fingerprint = {
      reference: refDir,
      weights: modelDigest(refModel),
      train: pairsDigest(this.train),
      test: pairsDigest(this.test),
      microBatchSize: this.cfg.microBatchSize,
    };
    // A run started over with --overwrite may reuse the moved-aside run's cache (the fingerprint decides).
    const aside = this.training.movedAside ? join(this.training.movedAside, REFERENCE_CACHE_FILE) : null;
    const source = existsSync(path) ? path : aside && existsSync(aside) ? aside : null;
    if (source) {
      try {
        const cached = JSON.parse(readFileSync(source, 'utf8')) as {
          fingerprint: typeof fingerprint;
          train: ReferenceLogProbs[];
          test: ReferenceLogProbs[];
        };
        if (
          JSON.stringify(cached.fingerprint) === JSON.stringify(fingerprint) &&
          cached.train.length === this.train.length &&
          cached.test.length === this.test.length
        ) {
          this.trainRef = cached.train;
          this.testRef = cached.test;
          this.referenceCache = 'loaded';
          if (source !== path) writeTextAtomically(path, readFileSync(source, 'utf8'));
          this.log(`reference log-probs loaded from ${source}`);
          return;
        }
        this.log(`${source} was computed for another reference model, data or settings: recomputing`);
      } catch (err) {
        this.log(`${source} is unreadable (${(err as Error).message}): recomputing`);
      }
    }
    const t0 = performance.now();
    this.trainRef = pairLogProbs(refModel, this.train, this.cfg.microBatchSize);
    this.testRef = pairLogProbs(refModel, this.test, this.cfg.microBatchSize);
    const body = JSON.stringify({
      format: 'olmo-dpo-reference-logprobs',
      version: 1,
      fingerprint,
      columns: ['chosen_sum', 'chosen_tokens', 'rejected_sum', 'rejected_tokens'],
      train: this.trainRef,
      test: this.testRef,
    });
    writeTextAtomically(path, body);
    this.referenceCache = 'computed';
    this.log(
      `reference log-probs of ${this.train.length + this.test.length} pairs computed in ${((performance.now() - t0) / 1000).toFixed(1)}s and cached in ${path}`,
    );
  }

  private refValues(ref: ReferenceLogProbs): [number, number] {
    return [used(ref[0], ref[1], this.average), used(ref[2], ref[3], this.average)];
  }

  /** Loss, rewards, reward accuracy and margin on the held-out pairs, and the policy's own ranking accuracy. */
  evaluate(): DpoEval | null {
    if (this.test.length === 0) return null;
    const values: DpoPairValues[] = [];
    let policyAcc = 0;
    const policy = pairLogProbs(this.model, this.test, this.cfg.microBatchSize);
    policy.forEach((p, i) => {
      const pc = used(p[0], p[1], this.average);
      const pr = used(p[2], p[3], this.average);
      const [rc, rr] = this.refValues(this.testRef[i]);
      values.push(dpoLossValues(pc, pr, rc, rr, this.cfg.beta, this.cfg.labelSmoothing));
      policyAcc += pc > pr ? 1 : pc === pr ? 0.5 : 0;
    });
    const out: DpoEval = {
      step: this.training.step,
      ...summarizePairs(values),
      policy_accuracy: policyAcc / values.length,
    };
    this.log(
      `eval at step ${out.step}: loss ${out.loss.toFixed(4)}, reward accuracy ${(out.reward_accuracy * 100).toFixed(1)}%, margin ${out.reward_margin.toFixed(4)}, policy accuracy ${(out.policy_accuracy * 100).toFixed(1)}% (${out.pairs} pairs)`,
    );
    return out;
  }

  private accumulate(indices: number[]): DpoBatchMetrics & { logps_chosen: number; logps_rejected: number } {
    const micro = this.cfg.microBatchSize;
    const values: DpoPairValues[] = [];
    let lc = 0;
    let lr = 0;
    for (let i = 0; i < indices.length; i += micro) {
      tidy(() => {
        const g = indices.slice(i, i + micro);
        const m = g.length;
        const pairs = g.map((k) => this.train[k]);
        const { logps } = sequenceLogProbs(
          this.model,
          [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)],
          { average: this.average },
        );
        const refs = g.map((k) => this.refValues(this.trainRef[k]));
        const pc = slice(logps, 0, 0, m);
        const pr = slice(logps, 0, m, 2 * m);
        const losses = dpoLoss(
          pc,
          pr,
          tensor(
            Float32Array.from(refs, (r) => r[0]),
            [m],
          ),
          tensor(
            Float32Array.from(refs, (r) => r[1]),
            [m],
          ),
          this.cfg.beta,
          this.cfg.labelSmoothing,
        );
        backward(scale(sum(losses), 1 / indices.length));
        const v = logps.f32();
        for (let j = 0; j < m; j++) {
          values.push(dpoLossValues(v[j], v[m + j], refs[j][0], refs[j][1], this.cfg.beta, this.cfg.labelSmoothing));
          lc += v[j];
          lr += v[m + j];
        }
      });
    }
    return { ...summarizePairs(values), logps_chosen: lc / indices.length, logps_rejected: lr / indices.length };
  }

  run(): DpoResult {
    const { stopped, last, progress } = this.training.train({
      label: 'dpo',
      accumulate: (indices) => this.accumulate(indices),
      loss: (r) => r.loss,
      lossName: 'loss',
      hint: 'lower the learning rate or β',
      record: (r, s) => ({
        step: this.training.step,
        epoch: s.epoch,
        lr: s.lr,
        ...r,
        grad_norm: s.norm,
        pairs_per_s: (s.stepsThisRun * s.indices.length) / s.seconds,
      }),
      progressText: (r) => `loss ${r.loss.toFixed(3)} acc ${r.reward_accuracy.toFixed(2)}`,
      logLine: (r, s, total) =>
        `step ${this.training.step}/${total} loss ${r.loss.toFixed(4)} reward acc ${r.reward_accuracy.toFixed(3)} margin ${r.reward_margin.toFixed(4)} lr ${s.lr.toExponential(2)} grad ${s.norm.toFixed(3)}`,
      evaluate: () => this.evaluate(),
      evalRecord: prefixed,
    });
    const before = this.training.before;
    const steps = this.training.step;
    writeFileSync(
      join(this.cfg.output, 'eval.json'),
      `${JSON.stringify({ before, after: last, data: this.reports, loss: this.cfg.loss, beta: this.cfg.beta }, null, 2)}\n`,
    );
    progress?.finish(
      `DPO: ${steps} steps${last ? `, held-out reward accuracy ${(last.reward_accuracy * 100).toFixed(1)}%` : ''}`,
    );
    return {
      steps,
      before,
      after: last,
      outputDir: this.cfg.output,
      stopped,
      data: this.reports,
      referenceCache: this.referenceCache,
    };
  }
}

/** Held-out metrics go to metrics.jsonl as eval_* fields. */
function prefixed(e: DpoEval): Record<string, unknown> {
  const { step, ...rest } = e;
  return { step, ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [`eval_${k}`, v])) };
}
