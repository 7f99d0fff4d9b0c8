// The SFT and DPO stages on the shared training loop (src/train/loop.ts): the chat tokenizer and encoding
// options, a fresh or resumed model / optimizer with the epoch plan and LR schedule, and the step — zero the
// gradients, accumulate the batch, ask the bad-step policy (a non-finite loss stops the run), clip and update.
// The stage supplies the batch forward/backward, its records and its evaluation through hooks.
import type { CausalLM } from '../../models/index.ts';
import { zeroGrad } from '../../tensor/index.ts';
import type { Tokenizer } from '../../tokenizers/index.ts';
import {
  AdamW,
  clipFactor,
  failOnNonFinite,
  gradNorm,
  lrAt,
  openRun as openTrainingRun,
  runTrainingLoop,
  type OpenedRun as OpenedTrainingRun,
  type Progress,
  type RunStartOptions,
  type Schedule,
} from '../../train/index.ts';
import type { OptimizerConfig } from './config.ts';
import { EpochPlan, makeOptimizer, warmupRatioSchedule } from './loop.ts';
import { loadChatTokenizer, loadPolicy } from './setup.ts';

export interface PosttrainOptions extends RunStartOptions {
  signal?: AbortSignal;
  /** Stop after this many steps of this invocation (tests). */
  maxSteps?: number;
  log?: (line: string) => void;
  progress?: boolean;
}

/** Config fields a resumed SFT or DPO run can change (with --allow-config-change). */
export const POSTTRAIN_CHANGEABLE = [
  'lr',
  'schedule',
  'warmupRatio',
  'epochs',
  'checkpoint',
  'eval',
  'logEvery',
  'optimizer.maxGradNorm',
  'microBatchSize',
];

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
  return {
    log,
    tokenizer,
    tokenizerDir: dir,
    encodeOpts: { maxLength: cfg.data.maxLength, overlong: cfg.data.overlong, template: cfg.chatTemplate },
  };
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
  record(r: R, s: StepInfo): object;
  progressText(r: R): string;
  /** The line logged every logEvery steps when there is no progress bar. */
  logLine(r: R, s: StepInfo, total: number): string;
  evaluate(): E | null;
  /** The metrics.jsonl record of an evaluation. */
  evalRecord(e: E): object;
}

/** A post-training run: the model, optimizer, plan and schedule, fresh or resumed. */
export class PosttrainRun<E> {
  readonly model: CausalLM;
  readonly opt: AdamW;
  readonly plan: EpochPlan;
  readonly schedule: Schedule;
  readonly resumeFrom: string | null;
  /** Where --overwrite moved an earlier run of this folder. */
  readonly movedAside: string | null;
  /** Steps completed (kept current by the loop). */
  step: number;
  /** The evaluation before training (kept in checkpoints). */
  before: E | null = null;
  private readonly training: OpenedTrainingRun<null>;

  constructor(
    readonly cfg: PosttrainRunConfig,
    readonly kind: 'sft' | 'dpo',
    examples: number,
    private readonly opened: OpenedRun,
    private readonly opts: PosttrainOptions,
  ) {
    this.plan = new EpochPlan(examples, cfg.batchSize, cfg.epochs, cfg.seed);
    this.schedule = warmupRatioSchedule(cfg, this.plan.totalSteps);
    const config = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
    this.training = openTrainingRun<null>(
      {
        kind,
        output: cfg.output,
        config,
        source: `the ${kind} config of ${cfg.output}`,
        changeable: POSTTRAIN_CHANGEABLE,
        log: opened.log,
      },
      opts,
    );
    const ckpt = this.training.resumed;
    this.resumeFrom = ckpt?.dir ?? null;
    this.movedAside = this.training.movedAside;
    this.model = ckpt ? ckpt.model : loadPolicy(cfg.initFrom, opened.tokenizer);
    this.opt = makeOptimizer(this.model, cfg.optimizer);
    if (ckpt) this.opt.loadState(ckpt.state.optimizerStep, ckpt.moments);
    this.step = ckpt?.state.step ?? 0;
  }

  /**
   * Trains to the end of the plan (or until stopped) on the shared loop: evaluates first on a fresh run; per step
   * zeroes the gradients, accumulates, checks, clips and updates. A stopped run is checkpointed; a finished one
   * saves OUTPUT/final.
   */
  train<R>(h: TrainingHooks<E, R>): { stopped: boolean; last: E | null; progress: Progress | null } {
    const { cfg, opts } = this;
    const total = this.plan.totalSteps;
    const badSteps = failOnNonFinite(h.lossName, h.hint);
    const r = runTrainingLoop<E>(
      {
        kind: this.kind,
        label: h.label,
        model: this.model,
        opt: this.opt,
        tokenizerDir: this.opened.tokenizerDir,
        badSteps,
        totalSteps: total,
        step: (loop) => {
          const { epoch, indices } = this.plan.batch(loop.step);
          const lr = lrAt(this.schedule, loop.step);
          zeroGrad(this.model.parameters());
          const res = h.accumulate(indices);
          const norm = gradNorm(this.model.parameters());
          badSteps.accept(loop.step + 1, h.loss(res), norm);
          const maxNorm = cfg.optimizer.maxGradNorm;
          this.opt.update(lr, maxNorm > 0 ? clipFactor(norm, maxNorm) : 1);
          this.step = loop.step + 1;
          const info: StepInfo = {
            epoch,
            lr,
            norm,
            indices,
            stepsThisRun: loop.stepsThisRun + 1,
            seconds: loop.seconds(),
          };
          return { record: h.record(res, info), progress: h.progressText(res), logLine: h.logLine(res, info, total) };
        },
        evaluate: () => h.evaluate(),
        evalRecord: (e) => h.evalRecord(e),
        state: () => null,
      },
      {
        ...this.training,
        output: cfg.output,
        checkpoint: cfg.checkpoint,
        eval: cfg.eval,
        logEvery: cfg.logEvery,
        signal: opts.signal,
        maxSteps: opts.maxSteps,
        progress: opts.progress !== false,
        log: this.opened.log,
      },
    );
    this.before = r.before;
    return { stopped: r.stopped, last: r.last, progress: r.progress };
  }
}
