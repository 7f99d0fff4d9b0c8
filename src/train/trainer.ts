// The pretraining loop with the OLMo 2 recipe: stages (each with its mix, budget and LR schedule) read from
// token files in a deterministic order, global batches split into micro-batches with gradient accumulation,
// cross-entropy with z-loss (plus OLMoE's load-balancing and router z-losses), global-norm clipping, AdamW,
// spike skipping, periodic validation, metrics.jsonl, and checkpoints that resume bit-identically.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { packageInfo } from '../io/package-info.ts';
import { DataLoader, type Batch } from '../data/index.ts';
import { initModel, loadModel, parseConfig, saveModel, type CausalLM } from '../models/index.ts';
import { truncatedNormalInit } from '../nn/index.ts';
import { add, backward, crossEntropy, Generator, noGrad, scale, tensor, tidy, zeroGrad, numThreads, type Tensor } from '../tensor/index.ts';
import { listCheckpoints, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.ts';
import type { ResolvedTrainConfig } from './config.ts';
import { moeLosses } from './moe-losses.ts';
import { AdamW, clipFactor, gradNorm } from './optim.ts';
import { Progress } from './progress.ts';
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

export interface TrainOptions {
  /** Continue from the latest complete checkpoint of the run folder (or this checkpoint folder). */
  resume?: string | boolean;
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

export class TrainingAborted extends Error {
  override name = 'TrainingAborted';
}


export class Trainer {
  readonly model: CausalLM;
  readonly opt: AdamW;
  readonly loader: DataLoader;
  readonly seqLen: number;
  readonly globalInstances: number;
  readonly microBatches: number;
  private state: TrainState;
  private readonly log: (line: string) => void;
  private readonly metricsPath: string;

  constructor(
    readonly cfg: ResolvedTrainConfig,
    private readonly opts: TrainOptions = {},
  ) {
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.seqLen = cfg.dataConfig.sequenceLength;
    this.globalInstances = cfg.globalBatchTokens / this.seqLen;
    this.microBatches = this.globalInstances / cfg.microBatchInstances;
    mkdirSync(cfg.output, { recursive: true });
    this.metricsPath = join(cfg.output, 'metrics.jsonl');

    const resumeFrom = this.findResume();
    const info = packageInfo();
    const run = { config: this.serializableConfig(), version: info.version, commit: info.commit, threads: numThreads() };
    if (resumeFrom) {
      const ckpt = loadCheckpoint(resumeFrom);
      this.model = ckpt.model;
      this.state = ckpt.state;
      this.opt = this.makeOptimizer();
      this.opt.loadState(ckpt.state.optimizerStep, ckpt.moments);
      this.loader = new DataLoader(cfg.dataConfig, { batchSize: this.globalInstances, position: ckpt.state.data });
      this.truncateMetrics(ckpt.state.step);
      this.log(`resumed from ${resumeFrom} at step ${ckpt.state.step}`);
    } else {
      this.model = cfg.initFrom
        ? loadModel(cfg.initFrom)
        : initModel(parseConfig(cfg.model, 'model'), truncatedNormalInit(new Generator(cfg.seed), cfg.init.std));
      this.opt = this.makeOptimizer();
      this.loader = new DataLoader(cfg.dataConfig, { batchSize: this.globalInstances });
      this.state = {
        version: 1,
        step: 0,
        stage: 0,
        stageStep: 0,
        previousStageFinalLr: null,
        data: this.loader.state(),
        tokensSeen: 0,
        skippedSteps: 0,
        consecutiveSkips: 0,
        history: { loss: [], gradNorm: [] },
        optimizerStep: 0,
        run,
      };
      writeFileSync(this.metricsPath, '');
    }
    this.state.run = run;
    writeFileSync(join(cfg.output, 'config.resolved.json'), `${JSON.stringify(run, null, 2)}\n`);
    if (this.model.config.vocabSize < 2) throw new Error('model vocabulary is empty');
  }

  private serializableConfig(): Record<string, unknown> {
    const { dataConfig: _d, ...rest } = this.cfg;
    return { ...rest, data: this.cfg.dataConfig };
  }

  private findResume(): string | null {
    const r = this.opts.resume;
    if (!r) return null;
    if (typeof r === 'string' && existsSync(join(r, 'train_state.json'))) return r;
    const runDir = typeof r === 'string' ? r : this.cfg.output;
    const all = listCheckpoints(runDir);
    if (all.length === 0) {
      if (typeof r === 'string') throw new Error(`--resume ${r}: no complete checkpoint found (looked in ${join(runDir, 'checkpoints')})`);
      return null;
    }
    return all[all.length - 1];
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

  /** Keeps only the metric lines up to `step` (a resumed run rewrites what came after). */
  private truncateMetrics(step: number): void {
    if (!existsSync(this.metricsPath)) return;
    const kept = readFileSync(this.metricsPath, 'utf8')
      .split('\n')
      .filter((l) => {
        if (!l.trim()) return false;
        try {
          return (JSON.parse(l) as { step: number }).step <= step;
        } catch {
          return false;
        }
      });
    writeFileSync(this.metricsPath, kept.map((l) => `${l}\n`).join(''));
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
          const { lb, rz } = moeLosses(out.moe, c.numExperts, c.numExpertsPerTok, this.cfg.moe.loadBalancing, this.cfg.moe.routerZLoss);
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

  private isSpike(loss: number, norm: number): boolean {
    const { window, sigmas, minHistory } = this.cfg.spikes;
    const h = this.state.history;
    if (h.loss.length < minHistory) return false;
    const beyond = (values: number[], x: number) => {
      const recent = values.slice(-window);
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      const sd = Math.sqrt(recent.reduce((a, b) => a + (b - mean) ** 2, 0) / recent.length);
      return x > mean + sigmas * sd;
    };
    return beyond(h.loss, loss) || beyond(h.gradNorm, norm);
  }

  validationLoss(): number | null {
    const v = this.cfg.dataConfig.validation;
    if (!v) return null;
    return validationLoss(this.model, { paths: v.paths, sequenceLength: this.seqLen, batchInstances: this.cfg.microBatchInstances, maxBatches: this.cfg.validation.batches });
  }

  /** The tokenizer folder of the data (copied into every saved model), or undefined for the built-in dolma2. */
  private tokenizerDir(): string | undefined {
    const t = this.cfg.dataConfig.tokenizer;
    if (t === 'dolma2') return undefined;
    const dir = isAbsolute(t) ? t : join(this.cfg.baseDir, t);
    return existsSync(join(dir, 'tokenizer.json')) ? dir : undefined;
  }

  private writeMetrics(record: Record<string, unknown>): void {
    appendFileSync(this.metricsPath, `${JSON.stringify(record)}\n`);
  }

  private checkpoint(): string {
    this.state.data = this.loader.state();
    this.state.optimizerStep = this.opt.step;
    return saveCheckpoint(this.cfg.output, this.model, this.opt, this.state, this.cfg.checkpoint.keepLast, this.tokenizerDir());
  }

  /** Runs every remaining step of every stage (or until maxSteps / the abort signal). */
  train(): TrainResult {
    const totalSteps = this.cfg.dataConfig.stages.reduce((n, _, i) => n + this.loader.stageBatches(i), 0);
    const progress = this.opts.progress === false ? null : new Progress({ label: 'train', total: totalSteps, unit: 'steps' });
    const stageValLoss: Record<string, number> = {};
    let finalValLoss: number | null = null;
    let stepsThisRun = 0;
    let stopped = false;
    const t0 = performance.now();
    let tokensThisRun = 0;
    while (!this.loader.done) {
      if (this.opts.signal?.aborted || (this.opts.maxSteps !== undefined && stepsThisRun >= this.opts.maxSteps)) {
        stopped = true;
        break;
      }
      const batch = this.loader.nextBatch();
      if (batch.stage !== this.state.stage) {
        this.state.stage = batch.stage;
        this.state.stageStep = 0;
        // A new stage's mix has another loss level: its first steps are not spikes against the last stage's.
        this.state.history = { loss: [], gradNorm: [] };
      }
      const sched = this.schedule(batch.stage);
      const lr = lrAt(sched, this.state.stageStep);
      zeroGrad(this.model.parameters());
      const r = this.accumulate(batch);
      const norm = gradNorm(this.model.parameters());
      const lossTotal = r.loss + r.zLoss;
      const skip = !Number.isFinite(lossTotal) || !Number.isFinite(norm) || this.isSpike(lossTotal, norm);
      if (skip) {
        this.state.skippedSteps++;
        this.state.consecutiveSkips++;
        if (this.state.consecutiveSkips >= this.cfg.spikes.maxConsecutiveSkips) {
          throw new TrainingAborted(
            `aborting at step ${this.state.step + 1}: ${this.state.consecutiveSkips} consecutive steps skipped (loss ${lossTotal}, grad norm ${norm}); the run is diverging — lower the learning rate or check the data`,
          );
        }
      } else {
        this.state.consecutiveSkips = 0;
        this.opt.update(lr, clipFactor(norm, this.cfg.optimizer.maxGradNorm));
        const h = this.state.history;
        h.loss.push(lossTotal);
        h.gradNorm.push(norm);
        const keep = this.cfg.spikes.window;
        if (h.loss.length > keep) h.loss.splice(0, h.loss.length - keep);
        if (h.gradNorm.length > keep) h.gradNorm.splice(0, h.gradNorm.length - keep);
      }
      const tokens = batch.batchSize * this.seqLen;
      this.state.step++;
      this.state.stageStep++;
      this.state.tokensSeen += tokens;
      tokensThisRun += tokens;
      stepsThisRun++;
      const metrics: StepMetrics = {
        step: this.state.step,
        stage: batch.stageName,
        lr,
        loss: r.loss,
        z_loss: r.zLoss,
        grad_norm: norm,
        tokens: this.state.tokensSeen,
        tokens_per_s: tokensThisRun / ((performance.now() - t0) / 1000),
        skipped: skip,
        skipped_steps: this.state.skippedSteps,
      };
      if (this.model.config.modelType === 'olmoe') {
        metrics.lb_loss = r.lb;
        metrics.router_z_loss = r.rz;
        metrics.expert_load = r.expertLoad;
      }
      this.writeMetrics(metrics as unknown as Record<string, unknown>);
      if (batch.lastOfStage) this.state.previousStageFinalLr = lr;
      const validateNow = this.state.step % this.cfg.validation.every === 0 || batch.lastOfStage;
      if (validateNow) {
        const val = this.validationLoss();
        if (val !== null) {
          finalValLoss = val;
          this.writeMetrics({ step: this.state.step, stage: batch.stageName, val_loss: val });
          if (batch.lastOfStage) stageValLoss[batch.stageName] = val;
        }
      }
      if (batch.lastOfStage) saveModel(this.model, join(this.cfg.output, 'stages', batch.stageName), { tokenizerFrom: this.tokenizerDir() });
      if (this.state.step % this.cfg.checkpoint.every === 0 || batch.lastOfStage) this.checkpoint();
      progress?.update(this.state.step, `loss ${r.loss.toFixed(3)}${finalValLoss !== null ? ` · val ${finalValLoss.toFixed(3)}` : ''}`);
      if (this.state.step % this.cfg.logEvery === 0 && this.opts.progress === false) {
        this.log(`step ${this.state.step}/${totalSteps} ${batch.stageName} loss ${r.loss.toFixed(4)} lr ${lr.toExponential(2)} grad ${norm.toFixed(3)}`);
      }
    }
    if (stopped && stepsThisRun > 0) this.checkpoint();
    if (!stopped) saveModel(this.model, join(this.cfg.output, 'final'), { tokenizerFrom: this.tokenizerDir() });
    progress?.finish(`trained ${this.state.step} steps${finalValLoss !== null ? `, validation loss ${finalValLoss.toFixed(4)}` : ''}`);
    return { steps: this.state.step, finalValLoss, stageValLoss, outputDir: this.cfg.output, stopped };
  }
}
