// The training loop every stage runs on (pretraining, SFT, DPO, RLVR), after OLMo-core's trainer and callbacks
// (https://github.com/allenai/OLMo-core, olmo_core/train/trainer.py and olmo_core/train/callbacks/): the stage
// supplies its step (forward, backward, its bad-step policy, the update) and its records; the loop runs the steps
// and its callbacks do the rest — stop requests, metrics.jsonl, evaluation, checkpoints, progress. Every stage
// thereby gets the same guarantees: checkpoints at the same points with the same typed state, the evaluation
// before training kept across a resume, a stopped run checkpointed, a finished one saved to OUTPUT/final.
import { join } from 'node:path';
import { saveModel, type CausalLM } from '../models/index.ts';
import type { BadStepPolicy } from './bad-steps.ts';
import {
  saveCheckpoint,
  type CheckpointState,
  type LoadedCheckpoint,
  type RunInfo,
  type StageKind,
} from './checkpoint.ts';
import type { MetricsLog } from './metrics-log.ts';
import type { AdamW } from './optim.ts';
import { Progress } from './progress.ts';

/** What one step reports. */
export interface StepReport {
  /** Its metrics.jsonl record. */
  record: object;
  /** Text after the progress bar, and the line logged every logEvery steps when there is no bar. */
  progress: string;
  logLine: string;
  /** The step ends a part of the run (a pretraining data stage): evaluate and checkpoint after it. */
  boundary?: boolean;
}

export interface StepInfo {
  /** Steps completed before this one (the step taken is step + 1). */
  step: number;
  stepsThisRun: number;
  /** Seconds since this invocation's loop started (read after the step's work). */
  seconds(): number;
}

/** A stage as the loop sees it. */
export interface TrainingStage<E> {
  readonly kind: StageKind;
  /** Progress-bar label. */
  readonly label: string;
  readonly model: CausalLM;
  readonly opt: AdamW;
  /** Tokenizer files copied into saved models. */
  readonly tokenizerDir?: string;
  readonly badSteps: BadStepPolicy;
  readonly totalSteps: number;
  step(info: StepInfo): StepReport;
  /** Held-out evaluation (null: nothing to evaluate), and its metrics.jsonl record. */
  evaluate?(): E | null;
  evalRecord?(e: E, step: number): object;
  /** The stage's own checkpoint state, and files it adds to a checkpoint folder. */
  state(): unknown;
  extraFiles?(dir: string): void;
  /** Stage callbacks, run after evaluation and before the checkpoint of a step (pretraining saves stage models). */
  callbacks?: Callback<E>[];
}

export interface LoopOptions {
  output: string | null;
  metrics: MetricsLog;
  run: RunInfo;
  resumed: LoadedCheckpoint | null;
  checkpoint: { every: number; keepLast: number };
  /** Evaluate every `every` steps (0: only at the end) and, on a fresh run, before the first step. */
  eval: { every: number; atStart: boolean };
  logEvery: number;
  signal?: AbortSignal;
  /** Stop after this many steps of this invocation (tests, benchmarks). */
  maxSteps?: number;
  progress: boolean;
  log: (line: string) => void;
}

/** The loop's state as callbacks see it. */
export interface LoopContext<E> {
  readonly stage: TrainingStage<E>;
  readonly opts: LoopOptions;
  /** Steps completed in the whole run. */
  step: number;
  stepsThisRun: number;
  stopped: boolean;
  before: E | null;
  /** The latest evaluation of this invocation. */
  last: E | null;
  /** The step last checkpointed (−1: none in this invocation). */
  checkpointedAt: number;
  readonly finished: boolean;
}

/** Hooks at the loop's points (OLMo-core's Callback: pre_train, pre_step, post_step, post_train). */
export interface Callback<E> {
  preTrain?(ctx: LoopContext<E>): void;
  /** true: stop before taking the next step. */
  stopBeforeStep?(ctx: LoopContext<E>): boolean;
  postStep?(ctx: LoopContext<E>, report: StepReport): void;
  postTrain?(ctx: LoopContext<E>): void;
}

export interface LoopResult<E> {
  steps: number;
  stopped: boolean;
  before: E | null;
  last: E | null;
  progress: Progress | null;
}

/** Runs the stage's remaining steps with the standard callbacks (and the stage's own). */
export function runTrainingLoop<E>(stage: TrainingStage<E>, opts: LoopOptions): LoopResult<E> {
  const resumed = opts.resumed?.state as CheckpointState | undefined;
  const ctx: LoopContext<E> = {
    stage,
    opts,
    step: resumed?.step ?? 0,
    stepsThisRun: 0,
    stopped: false,
    before: (resumed?.loop.before as E | null | undefined) ?? null,
    last: null,
    checkpointedAt: -1,
    get finished() {
      return this.step >= stage.totalSteps;
    },
  };
  if (resumed?.loop.callbacks.badSteps !== undefined) stage.badSteps.load?.(resumed.loop.callbacks.badSteps);
  const progress = opts.progress ? new Progress({ label: stage.label, total: stage.totalSteps, unit: 'steps' }) : null;
  const callbacks: Callback<E>[] = [
    stopRequests(),
    metricsWriter(),
    evaluator(),
    ...(stage.callbacks ?? []),
    checkpointer(),
    progressReporter(progress),
  ];
  for (const c of callbacks) c.preTrain?.(ctx);
  const t0 = performance.now();
  while (!ctx.finished) {
    if (callbacks.some((c) => c.stopBeforeStep?.(ctx))) {
      ctx.stopped = true;
      break;
    }
    const report = stage.step({
      step: ctx.step,
      stepsThisRun: ctx.stepsThisRun,
      seconds: () => (performance.now() - t0) / 1000,
    });
    ctx.step++;
    ctx.stepsThisRun++;
    for (const c of callbacks) c.postStep?.(ctx, report);
  }
  for (const c of callbacks) c.postTrain?.(ctx);
  return { steps: ctx.step, stopped: ctx.stopped, before: ctx.before, last: ctx.last, progress };
}

/** Stop requests: the abort signal (Ctrl-C) and maxSteps. */
function stopRequests<E>(): Callback<E> {
  return {
    stopBeforeStep: (ctx) =>
      ctx.opts.signal?.aborted === true || (ctx.opts.maxSteps !== undefined && ctx.stepsThisRun >= ctx.opts.maxSteps),
  };
}

function metricsWriter<E>(): Callback<E> {
  return { postStep: (ctx, report) => ctx.opts.metrics.write(report.record) };
}

/** Evaluation: before the first step of a fresh run, every `every` steps, at part boundaries and at the last step. */
function evaluator<E>(): Callback<E> {
  const evaluate = (ctx: LoopContext<E>): E | null => {
    const e = ctx.stage.evaluate?.() ?? null;
    if (e !== null && ctx.stage.evalRecord) ctx.opts.metrics.write(ctx.stage.evalRecord(e, ctx.step));
    return e;
  };
  return {
    preTrain(ctx) {
      if (ctx.step === 0 && ctx.opts.eval.atStart) ctx.before = evaluate(ctx);
    },
    postStep(ctx, report) {
      const every = ctx.opts.eval.every;
      if ((every > 0 && ctx.step % every === 0) || report.boundary || ctx.finished)
        ctx.last = evaluate(ctx) ?? ctx.last;
    },
  };
}

/** Checkpoints every `every` steps, at part boundaries, at the last step and when stopped; OUTPUT/final when finished. */
function checkpointer<E>(): Callback<E> {
  const save = (ctx: LoopContext<E>) => {
    const { stage, opts } = ctx;
    if (!opts.output) return;
    const state: CheckpointState = {
      format: 'olmo-ts-train-state',
      version: 2,
      kind: stage.kind,
      step: ctx.step,
      optimizerStep: stage.opt.step,
      run: opts.run,
      loop: { before: ctx.before, callbacks: { badSteps: stage.badSteps.state?.() } },
      stage: stage.state(),
    };
    saveCheckpoint(
      opts.output,
      {
        model: stage.model,
        opt: stage.opt,
        state,
        tokenizerFrom: stage.tokenizerDir,
        extraFiles: stage.extraFiles?.bind(stage),
      },
      opts.checkpoint.keepLast,
    );
    ctx.checkpointedAt = ctx.step;
  };
  return {
    postStep(ctx, report) {
      if (ctx.step % ctx.opts.checkpoint.every === 0 || report.boundary || ctx.finished) save(ctx);
    },
    postTrain(ctx) {
      if (ctx.stopped && ctx.stepsThisRun > 0 && ctx.checkpointedAt !== ctx.step) save(ctx);
      if (!ctx.stopped && ctx.opts.output)
        saveModel(ctx.stage.model, join(ctx.opts.output, 'final'), { tokenizerFrom: ctx.stage.tokenizerDir });
    },
  };
}

/** The progress bar on a terminal; without one, a log line every logEvery steps. */
function progressReporter<E>(progress: Progress | null): Callback<E> {
  return {
    postStep(ctx, report) {
      progress?.update(ctx.step, report.progress);
      if (!progress && ctx.step % ctx.opts.logEvery === 0) ctx.opts.log(report.logLine);
    },
  };
}
