// Supervised fine-tuning as Tülu 3 runs it (spec 3.2): conversations rendered with the chat template, loss on
// assistant tokens only, sum (or mean) reduction over the global batch, gradient accumulation over
// micro-batches (optionally length-packed), AdamW with a linear schedule from a warmup ratio, checkpoints that
// resume exactly, metrics.jsonl, and held-out assistant loss / exact match before, during and after training.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveModel, type CausalLM } from '../../models/index.ts';
import { backward, scale, tidy, zeroGrad } from '../../tensor/index.ts';
import type { Tokenizer } from '../../tokenizers/index.ts';
import { AdamW, clipFactor, gradNorm, lrAt, Progress, type Schedule } from '../../train/index.ts';
import { loadRows, parseSftRow, type SftExample } from '../common/conversations.ts';
import { formatEncodeReport, type EncodeReport, type EncodedExample } from '../common/encode.ts';
import { labelCrossEntropy } from '../common/logprobs.ts';
import { EpochPlan, findResume, loadStateCheckpoint, makeOptimizer, MetricsLog, microBatches, saveStateCheckpoint, warmupRatioSchedule, writeRunInfo, type PosttrainState } from '../common/loop.ts';
import { encodeConversations, loadChatTokenizer, loadPolicy } from '../common/setup.ts';
import type { SftConfig } from './config.ts';
import { assistantLoss, exactMatch, exactMatchItem, type ExactMatchItem } from './eval.ts';

export interface SftOptions {
  /** Continue from the latest checkpoint of the run folder (true) or from this run / checkpoint folder. */
  resume?: string | boolean;
  signal?: AbortSignal;
  /** Stop after this many steps of this invocation (tests). */
  maxSteps?: number;
  log?: (line: string) => void;
  progress?: boolean;
}

export interface SftEval {
  step: number;
  /** Mean cross-entropy per held-out assistant token. */
  eval_loss: number;
  eval_tokens: number;
  exact_match?: number;
  exact_match_n?: number;
}

export interface SftStepMetrics {
  step: number;
  epoch: number;
  lr: number;
  /** Mean cross-entropy per assistant token of the batch (whatever the reduction). */
  loss: number;
  /** The optimised quantity (the reduction applied). */
  objective: number;
  grad_norm: number;
  sequences: number;
  label_tokens: number;
  tokens_per_s: number;
}

export interface SftResult {
  steps: number;
  before: SftEval | null;
  after: SftEval | null;
  outputDir: string;
  stopped: boolean;
  data: { train: EncodeReport; test: EncodeReport | null };
}

export class SftTrainer {
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly opt: AdamW;
  readonly plan: EpochPlan;
  readonly train: EncodedExample[];
  readonly test: EncodedExample[];
  readonly exactMatchItems: ExactMatchItem[];
  readonly reports: { train: EncodeReport; test: EncodeReport | null };
  private readonly tokenizerDir: string;
  private readonly schedule: Schedule;
  private readonly metrics: MetricsLog;
  private readonly log: (line: string) => void;
  private state: PosttrainState;
  private before: SftEval | null = null;

  constructor(
    readonly cfg: SftConfig,
    private readonly opts: SftOptions = {},
  ) {
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    const { tokenizer, dir } = loadChatTokenizer(cfg.initFrom, cfg.tokenizer);
    this.tokenizer = tokenizer;
    this.tokenizerDir = dir;
    const encodeOpts = { maxLength: cfg.data.maxLength, overlong: cfg.data.overlong, template: cfg.chatTemplate };
    const trainRows = loadRows(cfg.data.train, parseSftRow, cfg.data.badRows, this.log).rows;
    const train = encodeConversations(trainRows, (r: SftExample) => r.messages, tokenizer, encodeOpts, cfg.data.train);
    this.train = train.examples.map((e) => e.example);
    let testReport: EncodeReport | null = null;
    this.test = [];
    this.exactMatchItems = [];
    if (cfg.data.test) {
      const testRows = loadRows(cfg.data.test, parseSftRow, cfg.data.badRows, this.log).rows;
      const test = encodeConversations(testRows, (r: SftExample) => r.messages, tokenizer, encodeOpts, cfg.data.test);
      testReport = test.report;
      this.test = test.examples.map((e) => e.example);
      for (const { index } of test.examples) {
        if (this.exactMatchItems.length >= cfg.eval.exactMatchExamples) break;
        const item = exactMatchItem(tokenizer, testRows[index].value.messages, cfg.chatTemplate);
        if (item) this.exactMatchItems.push(item);
      }
    }
    this.reports = { train: train.report, test: testReport };
    for (const r of [train.report, testReport]) if (r) for (const l of formatEncodeReport(r)) this.log(l);
    if (this.train.length === 0) throw new Error(`${cfg.data.train}: no conversation left to train on (see the report above)`);

    this.plan = new EpochPlan(this.train.length, cfg.batchSize, cfg.epochs, cfg.seed);
    this.schedule = warmupRatioSchedule(cfg, this.plan.totalSteps);
    const resumeFrom = findResume(cfg.output, opts.resume);
    const run = writeRunInfo(cfg.output, cfg);
    if (resumeFrom) {
      const ckpt = loadStateCheckpoint(resumeFrom, 'sft');
      this.model = ckpt.model;
      this.state = { ...ckpt.state, run };
      this.opt = makeOptimizer(this.model, cfg.optimizer);
      this.opt.loadState(ckpt.state.optimizerStep, ckpt.moments);
      this.before = (ckpt.state.extra?.before as SftEval | null | undefined) ?? null;
      this.metrics = new MetricsLog(cfg.output, ckpt.state.step);
      this.log(`resumed from ${resumeFrom} at step ${ckpt.state.step}`);
    } else {
      this.model = loadPolicy(cfg.initFrom, tokenizer);
      this.opt = makeOptimizer(this.model, cfg.optimizer);
      this.state = { version: 1, kind: 'sft', step: 0, optimizerStep: 0, run };
      this.metrics = new MetricsLog(cfg.output, null);
    }
  }

  /** Held-out assistant loss and exact match of the current model (null without test data). */
  evaluate(): SftEval | null {
    if (this.test.length === 0) return null;
    const { loss, tokens } = assistantLoss(this.model, this.test, Math.max(this.cfg.microBatchSize, 8));
    const out: SftEval = { step: this.state.step, eval_loss: loss, eval_tokens: tokens };
    if (this.exactMatchItems.length > 0) {
      const em = exactMatch(this.model, this.tokenizer, this.exactMatchItems, { maxNewTokens: this.cfg.eval.maxNewTokens, batch: this.cfg.eval.generationBatch });
      out.exact_match = em.exactMatch;
      out.exact_match_n = em.n;
      for (const s of em.samples.slice(0, 1)) this.log(`  sample: reference ${JSON.stringify(s.reference)} · generated ${JSON.stringify(s.generated)}`);
    }
    this.log(`eval at step ${out.step}: assistant loss ${loss.toFixed(4)} over ${tokens} tokens${out.exact_match !== undefined ? `, exact match ${(out.exact_match * 100).toFixed(1)}% of ${out.exact_match_n}` : ''}`);
    return out;
  }

  /** Forward and backward of one global batch; returns the summed token loss and the label-token count. */
  private accumulate(indices: number[]): { sum: number; tokens: number } {
    const examples = indices.map((i) => this.train[i]);
    let tokens = 0;
    for (const e of examples) for (let t = 1; t < e.labels.length; t++) if (e.labels[t] !== -100) tokens++;
    const divisor = this.cfg.reduction === 'sum' ? examples.length : Math.max(tokens, 1);
    const groups = microBatches(
      examples.map((_, i) => i),
      (i) => examples[i].ids.length,
      { microBatchSize: this.cfg.packing ? Infinity : this.cfg.microBatchSize, packing: this.cfg.packing, tokenBudget: this.cfg.packingTokens ?? this.cfg.microBatchSize * this.cfg.data.maxLength },
    );
    let sum = 0;
    for (const g of groups) {
      tidy(() => {
        const r = labelCrossEntropy(this.model, g.map((i) => examples[i]));
        sum += r.loss.item();
        backward(scale(r.loss, 1 / divisor));
      });
    }
    return { sum, tokens };
  }

  private checkpoint(): string {
    this.state.optimizerStep = this.opt.step;
    this.state.extra = { before: this.before };
    return saveStateCheckpoint(this.cfg.output, this.model, this.opt, this.state, this.cfg.checkpoint.keepLast, this.tokenizerDir);
  }

  run(): SftResult {
    const total = this.plan.totalSteps;
    if (this.state.step === 0 && this.cfg.eval.atStart) {
      this.before = this.evaluate();
      if (this.before) this.metrics.write({ ...this.before });
    }
    const progress = this.opts.progress === false ? null : new Progress({ label: 'sft', total, unit: 'steps' });
    const t0 = performance.now();
    let tokensThisRun = 0;
    let stepsThisRun = 0;
    let stopped = false;
    let last: SftEval | null = null;
    while (this.state.step < total) {
      if (this.opts.signal?.aborted || (this.opts.maxSteps !== undefined && stepsThisRun >= this.opts.maxSteps)) {
        stopped = true;
        break;
      }
      const { epoch, indices } = this.plan.batch(this.state.step);
      const lr = lrAt(this.schedule, this.state.step);
      zeroGrad(this.model.parameters());
      const r = this.accumulate(indices);
      const norm = gradNorm(this.model.parameters());
      if (!Number.isFinite(r.sum) || !Number.isFinite(norm)) {
        throw new Error(`step ${this.state.step + 1}: the loss or gradient is not finite (loss sum ${r.sum}, grad norm ${norm}); lower the learning rate`);
      }
      const maxNorm = this.cfg.optimizer.maxGradNorm;
      this.opt.update(lr, maxNorm > 0 ? clipFactor(norm, maxNorm) : 1);
      this.state.step++;
      stepsThisRun++;
      tokensThisRun += r.tokens;
      const m: SftStepMetrics = {
        step: this.state.step,
        epoch,
        lr,
        loss: r.sum / Math.max(r.tokens, 1),
        objective: r.sum / (this.cfg.reduction === 'sum' ? indices.length : Math.max(r.tokens, 1)),
        grad_norm: norm,
        sequences: indices.length,
        label_tokens: r.tokens,
        tokens_per_s: tokensThisRun / ((performance.now() - t0) / 1000),
      };
      this.metrics.write(m as unknown as Record<string, unknown>);
      const isLast = this.state.step === total;
      if ((this.cfg.eval.every > 0 && this.state.step % this.cfg.eval.every === 0) || isLast) {
        last = this.evaluate();
        if (last) this.metrics.write({ ...last });
      }
      if (this.state.step % this.cfg.checkpoint.every === 0 || isLast) this.checkpoint();
      progress?.update(this.state.step, `loss ${m.loss.toFixed(3)}`);
      if (this.opts.progress === false && this.state.step % this.cfg.logEvery === 0) {
        this.log(`step ${this.state.step}/${total} epoch ${epoch} loss ${m.loss.toFixed(4)} lr ${lr.toExponential(2)} grad ${norm.toFixed(3)}`);
      }
    }
    if (stopped && stepsThisRun > 0) this.checkpoint();
    if (!stopped) {
      saveModel(this.model, join(this.cfg.output, 'final'), { tokenizerFrom: this.tokenizerDir });
      if (this.cfg.chatTemplate && !existsSync(join(this.cfg.output, 'final', 'chat_template.jinja'))) {
        writeFileSync(join(this.cfg.output, 'final', 'chat_template.jinja'), this.cfg.chatTemplate);
      }
    }
    const result: SftResult = { steps: this.state.step, before: this.before, after: last, outputDir: this.cfg.output, stopped, data: this.reports };
    writeFileSync(join(this.cfg.output, 'eval.json'), `${JSON.stringify({ before: this.before, after: last, data: this.reports }, null, 2)}\n`);
    progress?.finish(`SFT: ${this.state.step} steps${last ? `, held-out assistant loss ${last.eval_loss.toFixed(4)}` : ''}`);
    return result;
  }
}
