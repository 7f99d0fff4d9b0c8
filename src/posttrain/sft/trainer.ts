// Supervised fine-tuning as Tülu 3 runs it (Lambert et al., https://arxiv.org/abs/2411.15124):
// conversations rendered with the chat template, loss on
// assistant tokens only, sum (or mean) reduction over the global batch, gradient accumulation over
// micro-batches (optionally length-packed), AdamW with a linear schedule from a warmup ratio, checkpoints that
// resume exactly, metrics.jsonl, and held-out assistant loss / exact match before, during and after training.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CausalLM } from '../../models/index.ts';
import { backward, scale, tidy } from '../../tensor/index.ts';
import type { Tokenizer } from '../../tokenizers/index.ts';
import type { AdamW } from '../../train/index.ts';
import { loadRows, parseSftRow, type SftExample } from '../common/conversations.ts';
import { formatEncodeReport, type EncodeReport, type EncodedExample } from '../common/encode.ts';
import { labelCrossEntropy } from '../common/logprobs.ts';
import { microBatches, type EpochPlan } from '../common/loop.ts';
import { openRun, PosttrainRun, type PosttrainOptions } from '../common/run.ts';
import { encodeConversations } from '../common/setup.ts';
import type { SftConfig } from './config.ts';
import { assistantLoss, exactMatch, exactMatchItem, type ExactMatchItem } from './eval.ts';

export type SftOptions = PosttrainOptions;

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
  private readonly log: (line: string) => void;
  private readonly training: PosttrainRun<SftEval>;

  constructor(
    readonly cfg: SftConfig,
    opts: SftOptions = {},
  ) {
    const opened = openRun(cfg, opts);
    const { tokenizer, encodeOpts } = opened;
    this.log = opened.log;
    this.tokenizer = tokenizer;
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
    if (this.train.length === 0)
      throw new Error(`${cfg.data.train}: no conversation left to train on (see the report above)`);

    this.training = new PosttrainRun<SftEval>(cfg, 'sft', this.train.length, opened, opts);
    ({ model: this.model, opt: this.opt, plan: this.plan } = this.training);
  }

  /** Held-out assistant loss and exact match of the current model (null without test data). */
  evaluate(): SftEval | null {
    if (this.test.length === 0) return null;
    const { loss, tokens } = assistantLoss(this.model, this.test, Math.max(this.cfg.microBatchSize, 8));
    const out: SftEval = { step: this.training.step, eval_loss: loss, eval_tokens: tokens };
    if (this.exactMatchItems.length > 0) {
      const em = exactMatch(this.model, this.tokenizer, this.exactMatchItems, {
        maxNewTokens: this.cfg.eval.maxNewTokens,
        batch: this.cfg.eval.generationBatch,
      });
      out.exact_match = em.exactMatch;
      out.exact_match_n = em.n;
      for (const s of em.samples.slice(0, 1))
        this.log(`  sample: reference ${JSON.stringify(s.reference)} · generated ${JSON.stringify(s.generated)}`);
    }
    this.log(
      `eval at step ${out.step}: assistant loss ${loss.toFixed(4)} over ${tokens} tokens${out.exact_match !== undefined ? `, exact match ${(out.exact_match * 100).toFixed(1)}% of ${out.exact_match_n}` : ''}`,
    );
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
      {
        microBatchSize: this.cfg.packing ? Infinity : this.cfg.microBatchSize,
        packing: this.cfg.packing,
        tokenBudget: this.cfg.packingTokens ?? this.cfg.microBatchSize * this.cfg.data.maxLength,
      },
    );
    let sum = 0;
    for (const g of groups) {
      tidy(() => {
        const r = labelCrossEntropy(
          this.model,
          g.map((i) => examples[i]),
        );
        sum += r.loss.item();
        backward(scale(r.loss, 1 / divisor));
      });
    }
    return { sum, tokens };
  }

  run(): SftResult {
    let tokensThisRun = 0;
    const { stopped, last, progress } = this.training.train({
      label: 'sft',
      accumulate: (indices) => this.accumulate(indices),
      loss: (r) => r.sum,
      lossName: 'loss sum',
      hint: 'lower the learning rate',
      record: (r, s) => {
        tokensThisRun += r.tokens;
        const m: SftStepMetrics = {
          step: this.training.step,
          epoch: s.epoch,
          lr: s.lr,
          loss: r.sum / Math.max(r.tokens, 1),
          objective: r.sum / (this.cfg.reduction === 'sum' ? s.indices.length : Math.max(r.tokens, 1)),
          grad_norm: s.norm,
          sequences: s.indices.length,
          label_tokens: r.tokens,
          tokens_per_s: tokensThisRun / s.seconds,
        };
        return m as unknown as Record<string, unknown>;
      },
      progressText: (r) => `loss ${(r.sum / Math.max(r.tokens, 1)).toFixed(3)}`,
      logLine: (r, s, total) =>
        `step ${this.training.step}/${total} epoch ${s.epoch} loss ${(r.sum / Math.max(r.tokens, 1)).toFixed(4)} lr ${s.lr.toExponential(2)} grad ${s.norm.toFixed(3)}`,
      evaluate: () => this.evaluate(),
      evalRecord: (e) => ({ ...e }),
    });
    if (!stopped) {
      if (this.cfg.chatTemplate && !existsSync(join(this.cfg.output, 'final', 'chat_template.jinja'))) {
        writeFileSync(join(this.cfg.output, 'final', 'chat_template.jinja'), this.cfg.chatTemplate);
      }
    }
    const before = this.training.before;
    const steps = this.training.step;
    const result: SftResult = { steps, before, after: last, outputDir: this.cfg.output, stopped, data: this.reports };
    writeFileSync(
      join(this.cfg.output, 'eval.json'),
      `${JSON.stringify({ before, after: last, data: this.reports }, null, 2)}\n`,
    );
    progress?.finish(`SFT: ${steps} steps${last ? `, held-out assistant loss ${last.eval_loss.toFixed(4)}` : ''}`);
    return result;
  }
}
