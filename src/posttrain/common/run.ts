// The run skeleton the SFT and DPO trainers share: the chat tokenizer and encoding options, a fresh or resumed
// model / optimizer / state with the epoch plan and LR schedule, checkpoints, and the optimizer-step loop
// (stop requests, finiteness check, clipping, metrics, periodic evaluation and checkpoints, the final model).
// The stage supplies the batch forward/backward, its metrics and its evaluation through hooks.
import { join } from 'node:path';
import { saveModel, type CausalLM } from '../../models/index.ts';
import { zeroGrad } from '../../tensor/index.ts';
import type { Tokenizer } from '../../tokenizers/index.ts';
import { AdamW, clipFactor, gradNorm, lrAt, Progress, type Schedule } from '../../train/index.ts';
import type { OptimizerConfig } from './config.ts';
import { EpochPlan, findResume, loadStateCheckpoint, makeOptimizer, MetricsLog, saveStateCheckpoint, warmupRatioSchedule, writeRunInfo, type PosttrainState } from './loop.ts';
import { loadChatTokenizer, loadPolicy } from './setup.ts';

export interface PosttrainOptions {
  /** Continue from the latest checkpoint of the run folder (true) or from this run / checkpoint folder. */
  resume?: string | boolean;
  signal?: AbortSignal;
  /** Stop after this many steps of this invocation (tests). */
  maxSteps?: number;
  log?: (line: string) => void;
  progress?: boolean;
}

/** The config fields the shared run skeleton reads. */
export interface PosttrainRunConfig {
  output: string;
  initFrom: string;
  tokenizer?: string;
  chatTemplate?: string;
  data: { maxLength: number; overlong: 'drop' | 'truncate' };
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  schedule: 'linear' | 'cosine' | 'constant';
  warmupRatio: number;
  optimizer: OptimizerConfig;
  checkpoint: { every: number; keepLast: number };
  eval: { every: number; atStart: boolean };
  logEvery: number;
}

export interface OpenedRun {
  log: (line: string) => void;
  tokenizer: Tokenizer;
  tokenizerDir: string;
  encodeOpts: { maxLength: number; overlong: 'drop' | 'truncate'; template: string | undefined };
}

/** The log (stderr by default), the chat tokenizer and the encoding options of a run's data. */
export function openRun(cfg: PosttrainRunConfig, opts: PosttrainOptions): OpenedRun {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { tokenizer, dir } = loadChatTokenizer(cfg.initFrom, cfg.tokenizer);
  return { log, tokenizer, tokenizerDir: dir, encodeOpts: { maxLength: cfg.data.maxLength, overlong: cfg.data.overlong, template: cfg.chatTemplate } };
}

/** One optimizer step as the stage's hooks see it. */
export interface StepInfo {
  epoch: number;
  lr: number;
  norm: number;
  indices: number[];
  stepsThisRun: number;
  /** Seconds since the loop of this invocation started. */
  seconds: number;
}

export interface TrainingHooks<E, R> {
  /** Progress-bar label. */
  label: string;
  /** Forward and backward of one global batch (gradients accumulate into the zeroed parameters). */
  accumulate(indices: number[]): R;
  /** The loss checked for finiteness, how the error names it, and the advice it ends with. */
  loss(r: R): number;
  lossName: string;
  hint: string;
  /** The metrics.jsonl record of the step. */
  record(r: R, s: StepInfo): Record<string, unknown>;
  progressText(r: R): string;
  /** The line logged every logEvery steps when there is no progress bar. */
  logLine(r: R, s: StepInfo, total: number): string;
  evaluate(): E | null;
  /** The metrics.jsonl record of an evaluation. */
  evalRecord(e: E): Record<string, unknown>;
}

/** A post-training run: the model, optimizer, plan, schedule, state and metrics, fresh or resumed. */
export class PosttrainRun<E> {
  readonly model: CausalLM;
  readonly opt: AdamW;
  readonly plan: EpochPlan;
  readonly schedule: Schedule;
  readonly metrics: MetricsLog;
  readonly resumeFrom: string | null;
  state: PosttrainState;
  /** The evaluation before training (kept in checkpoints). */
  before: E | null = null;

  constructor(
    readonly cfg: PosttrainRunConfig,
    kind: string,
    examples: number,
    private readonly opened: OpenedRun,
    private readonly opts: PosttrainOptions,
  ) {
    this.plan = new EpochPlan(examples, cfg.batchSize, cfg.epochs, cfg.seed);
    this.schedule = warmupRatioSchedule(cfg, this.plan.totalSteps);
    this.resumeFrom = findResume(cfg.output, opts.resume);
    const run = writeRunInfo(cfg.output, cfg);
    if (this.resumeFrom) {
      const ckpt = loadStateCheckpoint(this.resumeFrom, kind);
      this.model = ckpt.model;
      this.state = { ...ckpt.state, run };
      this.opt = makeOptimizer(this.model, cfg.optimizer);
      this.opt.loadState(ckpt.state.optimizerStep, ckpt.moments);
      this.before = (ckpt.state.extra?.before as E | null | undefined) ?? null;
      this.metrics = new MetricsLog(cfg.output, ckpt.state.step);
      opened.log(`resumed from ${this.resumeFrom} at step ${ckpt.state.step}`);
    } else {
      this.model = loadPolicy(cfg.initFrom, opened.tokenizer);
      this.opt = makeOptimizer(this.model, cfg.optimizer);
      this.state = { version: 1, kind, step: 0, optimizerStep: 0, run };
      this.metrics = new MetricsLog(cfg.output, null);
    }
  }

  checkpoint(): string {
    this.state.optimizerStep = this.opt.step;
    this.state.extra = { before: this.before };
    return saveStateCheckpoint(this.cfg.output, this.model, this.opt, this.state, this.cfg.checkpoint.keepLast, this.opened.tokenizerDir);
  }

  /**
   * Trains to the end of the plan (or until stopped): evaluates first on a fresh run, then per step zeroes the
   * gradients, accumulates, checks, clips and updates, logs, evaluates and checkpoints. A stopped run is
   * checkpointed; a finished one saves OUTPUT/final.
   */
  train<R>(h: TrainingHooks<E, R>): { stopped: boolean; last: E | null; progress: Progress | null } {
    const { cfg, opts } = this;
    const total = this.plan.totalSteps;
    if (this.state.step === 0 && cfg.eval.atStart) {
      this.before = h.evaluate();
      if (this.before) this.metrics.write(h.evalRecord(this.before));
    }
    const progress = opts.progress === false ? null : new Progress({ label: h.label, total, unit: 'steps' });
    const t0 = performance.now();
    let stepsThisRun = 0;
    let stopped = false;
    let last: E | null = null;
    while (this.state.step < total) {
      if (opts.signal?.aborted || (opts.maxSteps !== undefined && stepsThisRun >= opts.maxSteps)) {
        stopped = true;
        break;
      }
      const { epoch, indices } = this.plan.batch(this.state.step);
      const lr = lrAt(this.schedule, this.state.step);
      zeroGrad(this.model.parameters());
      const r = h.accumulate(indices);
      const norm = gradNorm(this.model.parameters());
      const loss = h.loss(r);
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        throw new Error(`step ${this.state.step + 1}: the loss or gradient is not finite (${h.lossName} ${loss}, grad norm ${norm}); ${h.hint}`);
      }
      const maxNorm = cfg.optimizer.maxGradNorm;
      this.opt.update(lr, maxNorm > 0 ? clipFactor(norm, maxNorm) : 1);
      this.state.step++;
      stepsThisRun++;
      const info: StepInfo = { epoch, lr, norm, indices, stepsThisRun, seconds: (performance.now() - t0) / 1000 };
      this.metrics.write(h.record(r, info));
      const isLast = this.state.step === total;
      if ((cfg.eval.every > 0 && this.state.step % cfg.eval.every === 0) || isLast) {
        last = h.evaluate();
        if (last) this.metrics.write(h.evalRecord(last));
      }
      if (this.state.step % cfg.checkpoint.every === 0 || isLast) this.checkpoint();
      progress?.update(this.state.step, h.progressText(r));
      if (opts.progress === false && this.state.step % cfg.logEvery === 0) this.opened.log(h.logLine(r, info, total));
    }
    if (stopped && stepsThisRun > 0) this.checkpoint();
    if (!stopped) saveModel(this.model, join(cfg.output, 'final'), { tokenizerFrom: this.opened.tokenizerDir });
    return { stopped, last, progress };
  }
}

