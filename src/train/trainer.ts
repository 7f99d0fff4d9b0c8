// The pretraining loop with the OLMo 2 recipe: stages (each with its mix, budget and LR schedule) read from
// token files in a deterministic order, global batches split into micro-batches with gradient accumulation,
// cross-entropy with z-loss (plus OLMoE's load-balancing and router z-losses), global-norm clipping, AdamW,
// spike skipping, periodic validation, metrics.jsonl, and checkpoints that resume bit-identically.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { DataLoader, type Batch, type DataPosition } from '../data/index.ts';
import { initModel, loadModel, parseConfig, saveModel, type CausalLM } from '../models/index.ts';
import { truncatedNormalInit } from '../nn/index.ts';
import { add, backward, crossEntropy, Generator, scale, tensor, tidy, zeroGrad, type Tensor } from '../tensor/index.ts';
import { SpikeSkipper } from './bad-steps.ts';
import type { ResolvedTrainConfig } from './config.ts';
import { runTrainingLoop, type TrainingStage } from './loop.ts';
import { moeLosses } from './moe-losses.ts';
import { AdamW, clipFactor, gradNorm } from './optim.ts';
import { openRun, type OpenedRun, type RunStartOptions } from './resume.ts';
import { lrAt, type Schedule } from './schedule.ts';
import { nextTokenTargets, tokenIdsFor, validationLoss } from './validation.ts';

export interface StepMetrics {
  step: number;
  stage: string;
  lr: number;
  loss: number;
  z_loss: number;
  lb_loss?: number;
  router_z_loss?: number;
  grad_norm: number;
  tokens: number;
  tokens_per_s: number;
  skipped: boolean;
  skipped_steps: number;
  expert_load?: number[][];
}

export interface TrainOptions extends RunStartOptions {
  /** Stop (after saving a checkpoint) when this signal fires. */
  signal?: AbortSignal;
  /** Stop after this many steps of this invocation (tests, benchmarks). */
  maxSteps?: number;
  log?: (line: string) => void;
  progress?: boolean;
}

export interface TrainResult {
  steps: number;
  finalValLoss: number | null;
  stageValLoss: Record<string, number>;
  outputDir: string;
  stopped: boolean;
}

/** The pretraining stage's own checkpoint state: where it is in the data stages and their schedules. */
export interface PretrainState {
  /** The data stage's index, and the steps completed in it. */
  stage: number;
  stageStep: number;
  /** LR the previous stage ended at (for a stage whose LR starts from it). */
  previousStageFinalLr: number | null;
  data: DataPosition;
  tokensSeen: number;
}

/** Config fields a resumed pretraining run can change (with --allow-config-change). */
export const PRETRAIN_CHANGEABLE = [
  'schedules',
  'stageSchedules',
  'data.stages.*.optim',
  'checkpoint',
  'validation',
  'logEvery',
  'spikes',
  'optimizer.maxGradNorm',
];

export class Trainer {
  readonly model: CausalLM;
  readonly opt: AdamW;
  readonly loader: DataLoader;
  readonly seqLen: number;
  readonly globalInstances: number;
  readonly microBatches: number;
  private state: PretrainState;
  private readonly log: (line: string) => void;
  private readonly opened: OpenedRun<PretrainState>;
  private readonly badSteps: SpikeSkipper;

  constructor(
    readonly cfg: ResolvedTrainConfig,
    private readonly opts: TrainOptions = {},
  ) {
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.seqLen = cfg.dataConfig.sequenceLength;
    this.globalInstances = cfg.globalBatchTokens / this.seqLen;
    this.microBatches = this.globalInstances / cfg.microBatchInstances;
    this.badSteps = new SpikeSkipper(cfg.spikes);
    this.opened = openRun<PretrainState>(
      {
        kind: 'pretrain',
        output: cfg.output,
        config: this.serializableConfig(),
        source: cfg.source,
        changeable: PRETRAIN_CHANGEABLE,
        log: this.log,
      },
      opts,
    );
    const ckpt = this.opened.resumed;
    if (ckpt) {
      this.model = ckpt.model;
      this.state = ckpt.state.stage;
      this.opt = this.makeOptimizer();
      this.opt.loadState(ckpt.state.optimizerStep, ckpt.moments);
      this.loader = new DataLoader(cfg.dataConfig, {
        batchSize: this.globalInstances,
        position: ckpt.state.stage.data,
      });
    } else {
      this.model = cfg.initFrom
        ? loadModel(cfg.initFrom)
        : initModel(parseConfig(cfg.model, 'model'), truncatedNormalInit(new Generator(cfg.seed), cfg.init.std));
      this.opt = this.makeOptimizer();
      this.loader = new DataLoader(cfg.dataConfig, { batchSize: this.globalInstances });
      this.state = { stage: 0, stageStep: 0, previousStageFinalLr: null, data: this.loader.state(), tokensSeen: 0 };
    }
    if (this.model.config.vocabSize < 2) throw new Error('model vocabulary is empty');
  }

  private serializableConfig(): Record<string, unknown> {
    const { dataConfig: _d, source: _s, ...rest } = this.cfg;
    return { ...rest, data: this.cfg.dataConfig };
  }

  private makeOptimizer(): AdamW {
    const o = this.cfg.optimizer;
    const groups = [...this.model.namedParameters()].map(([name, param]) => ({
      name,
      param,
      weightDecay: !o.decayEmbeddings && name === 'model.embed_tokens.weight' ? 0 : o.weightDecay,
    }));
    return new AdamW(groups, { lr: 1, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay });
  }

  private schedule(stage: number): Schedule {
    const s = this.cfg.stageSchedules[stage];
    const steps = this.loader.stageBatches(stage);
    const peak = s.lr === 'previous' ? (this.state.previousStageFinalLr ?? 0) : s.lr;
    return {
      kind: s.schedule,
      peak,
      warmupSteps: s.warmupSteps,
      alphaF: s.alphaF ?? (s.schedule === 'cosine' ? 0.1 : 0),
      horizon: s.horizonSteps ?? Math.round(steps * (s.horizonScale ?? 1)),
      decaySteps: s.decaySteps ?? Math.round(steps * 0.2),
      warmupMinLr: s.warmupMinLr,
    };
  }

  /** Forward and backward of one global batch; gradients accumulate into the parameters. */
  private accumulate(batch: Batch): { loss: number; zLoss: number; lb: number; rz: number; expertLoad: number[][] } {
    const L = this.seqLen;
    const micro = this.cfg.microBatchInstances;
    const ids = tokenIdsFor(this.model, batch.tokens);
    const targets = nextTokenTargets(ids, batch.batchSize, this.seqLen);
    let validTotal = 0;
    for (const t of targets) if (t !== -100) validTotal++;
    const sums = { loss: 0, zLoss: 0, lb: 0, rz: 0 };
    const expertLoad: number[][] = [];
    const isMoE = this.model.config.modelType === 'olmoe';
    for (let m = 0; m < this.microBatches; m++) {
      tidy(() => {
        const idsT = tensor(ids.slice(m * micro * L, (m + 1) * micro * L), [micro, L], 'i32');
        const tgtT = tensor(targets.slice(m * micro * L, (m + 1) * micro * L), [micro, L], 'i32');
        const out = this.model.forward(idsT);
        // Sums over the micro-batch, divided by the global batch's target count: the token-weighted mean.
        const ce = crossEntropy(out.logits, tgtT, { reduction: 'sum', zLoss: this.cfg.zLoss || undefined });
        let total: Tensor = scale(ce.loss, 1 / validTotal);
        sums.loss += ce.loss.item() / validTotal;
        if (ce.zLoss) {
          total = add(total, scale(ce.zLoss, 1 / validTotal));
          sums.zLoss += ce.zLoss.item() / validTotal;
        }
        if (isMoE) {
          const c = this.model.config;
          const { lb, rz } = moeLosses(
            out.moe,
            c.numExperts,
            c.numExpertsPerTok,
            this.cfg.moe.loadBalancing,
            this.cfg.moe.routerZLoss,
          );
          total = add(total, scale(add(lb, rz), 1 / this.microBatches));
          sums.lb += lb.item() / this.microBatches;
          sums.rz += rz.item() / this.microBatches;
          out.moe.forEach((layer, i) => {
            expertLoad[i] ??= new Array<number>(c.numExperts).fill(0);
            layer.expertLoad.forEach((n, e) => (expertLoad[i][e] += n));
          });
        }
        backward(total);
      });
    }
    return { ...sums, expertLoad };
  }

  validationLoss(): number | null {
    const v = this.cfg.dataConfig.validation;
    if (!v) return null;
    return validationLoss(this.model, {
      paths: v.paths,
      sequenceLength: this.seqLen,
      batchInstances: this.cfg.microBatchInstances,
      maxBatches: this.cfg.validation.batches,
    });
  }

  /** The tokenizer folder of the data (copied into every saved model), or undefined for the built-in dolma2. */
  private tokenizerDir(): string | undefined {
    const t = this.cfg.dataConfig.tokenizer;
    if (t === 'dolma2') return undefined;
    const dir = isAbsolute(t) ? t : join(this.cfg.baseDir, t);
    return existsSync(join(dir, 'tokenizer.json')) ? dir : undefined;
  }

  /** Runs every remaining step of every stage (or until maxSteps / the abort signal). */
  train(): TrainResult {
    const totalSteps = this.cfg.dataConfig.stages.reduce((n, _, i) => n + this.loader.stageBatches(i), 0);
    const stageValLoss: Record<string, number> = {};
    let finalValLoss: number | null = null;
    let tokensThisRun = 0;
    let current: Batch | null = null;
    const stage: TrainingStage<number> = {
      kind: 'pretrain',
      label: 'train',
      model: this.model,
      opt: this.opt,
      tokenizerDir: this.tokenizerDir(),
      badSteps: this.badSteps,
      totalSteps,
      step: (info) => {
        current = this.loader.nextBatch();
        const r = this.step(current, info.step);
        tokensThisRun += current.batchSize * this.seqLen;
        r.metrics.tokens_per_s = tokensThisRun / info.seconds();
        if (current.lastOfStage) this.state.previousStageFinalLr = r.metrics.lr;
        const m = r.metrics;
        return {
          record: m,
          boundary: current.lastOfStage,
          progress: `loss ${m.loss.toFixed(3)}${finalValLoss !== null ? ` · val ${finalValLoss.toFixed(3)}` : ''}`,
          logLine: `step ${m.step}/${totalSteps} ${m.stage} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)} grad ${m.grad_norm.toFixed(3)}`,
        };
      },
      evaluate: () => {
        const val = this.validationLoss();
        if (val === null) return null;
        finalValLoss = val;
        if (current?.lastOfStage) stageValLoss[current.stageName] = val;
        return val;
      },
      evalRecord: (val, step) => ({ step, stage: current?.stageName, val_loss: val }),
      state: () => ({ ...this.state, data: this.loader.state() }),
      callbacks: [
        {
          postStep: (_ctx, report) => {
            if (report.boundary && current)
              saveModel(this.model, join(this.cfg.output, 'stages', current.stageName), {
                tokenizerFrom: this.tokenizerDir(),
              });
          },
        },
      ],
    };
    const r = runTrainingLoop(stage, {
      ...this.opened,
      output: this.cfg.output,
      checkpoint: this.cfg.checkpoint,
      eval: { every: this.cfg.validation.every, atStart: false },
      logEvery: this.cfg.logEvery,
      signal: this.opts.signal,
      maxSteps: this.opts.maxSteps,
      progress: this.opts.progress !== false,
      log: this.log,
    });
    r.progress?.finish(
      `trained ${r.steps} steps${finalValLoss !== null ? `, validation loss ${(finalValLoss as number).toFixed(4)}` : ''}`,
    );
    return { steps: r.steps, finalValLoss, stageValLoss, outputDir: this.cfg.output, stopped: r.stopped };
  }

  /** One optimizer step on a global batch (step: the steps completed before it); the update is skipped on a spike. */
  private step(batch: Batch, step: number): { metrics: StepMetrics } {
    if (batch.stage !== this.state.stage) {
      this.state.stage = batch.stage;
      this.state.stageStep = 0;
      this.badSteps.resetHistory();
    }
    const lr = lrAt(this.schedule(batch.stage), this.state.stageStep);
    zeroGrad(this.model.parameters());
    const r = this.accumulate(batch);
    const norm = gradNorm(this.model.parameters());
    const lossTotal = r.loss + r.zLoss;
    const skip = !this.badSteps.accept(step + 1, lossTotal, norm);
    if (!skip) this.opt.update(lr, clipFactor(norm, this.cfg.optimizer.maxGradNorm));
    this.state.stageStep++;
    this.state.tokensSeen += batch.batchSize * this.seqLen;
    const metrics: StepMetrics = {
      step: step + 1,
      stage: batch.stageName,
      lr,
      loss: r.loss,
      z_loss: r.zLoss,
      grad_norm: norm,
      tokens: this.state.tokensSeen,
      tokens_per_s: 0,
      skipped: skip,
      skipped_steps: this.badSteps.skippedSteps,
    };
    if (this.model.config.modelType === 'olmoe') {
      metrics.lb_loss = r.lb;
      metrics.router_z_loss = r.rz;
      metrics.expert_load = r.expertLoad;
    }
    return { metrics };
  }
}
