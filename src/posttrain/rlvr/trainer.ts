// The RLVR loop, as open-instruct's Tülu 3 scripts run it (https://github.com/allenai/open-instruct). Each step:
//   1. rollouts: promptsPerStep prompts, samplesPerPrompt samples each, from the policy's own generation
//      (KV cache, sampling at the configured temperature);
//   2. rewards: the row's verifier on the decoded response → correct / incorrect, replaced by the penalty value
//      when the response has no EOS (if configured);
//   3. log-probs of the rollouts under the policy (the "old" policy of the ratio) and the frozen reference;
//   4. advantages: GRPO — group-normalised scores, the KL (kl3 by default) in the loss; PPO — per-token reward
//      −β·kl1 plus the score at the last token, GAE with a value model, whitened;
//   5. epochsPerBatch passes of minibatches over the batch with the clipped objective, AdamW, grad clipping.
// Metrics per step go to metrics.jsonl; the held-out verified rate is measured before, every `eval.every` steps
// and after; checkpoints hold the policy as an HF folder plus optimizer and RLVR state.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../data/random.ts';
import { generate, type CausalLM } from '../../models/index.ts';
import { add, backward, noGrad, scale, sum, mul, tensor, tidy, zeroGrad, type Tensor } from '../../tensor/index.ts';
import {
  AdamW,
  clipFactor,
  gradNorm,
  lrAt,
  openRun,
  runTrainingLoop,
  skipNonFinite,
  type BadStepPolicy,
  type OpenedRun,
  type RunStartOptions,
} from '../../train/index.ts';
import type { ResolvedRlvrConfig } from './config.ts';
import type { RlvrPrompt } from './data.ts';
import {
  clippedSurrogateTensor,
  clippedValueLossTensor,
  gae,
  grpoAdvantages,
  klEstimate,
  klEstimateTensor,
  lossWeights,
  maskedWhiten,
  ppoTokenRewards,
} from './losses.ts';
import { packRollouts, tokenLogProbs, type RolloutBatch } from './logprobs.ts';
import { verifiableReward } from './rewards.ts';
import { VALUE_HEAD_FILE, ValueModel } from './value.ts';

/** Overrides the verifier-based reward (tests, custom tasks): the response text and whether it stopped. */
export type RewardFn = (
  prompt: RlvrPrompt,
  response: string,
  stopped: boolean,
) => { reward: number; verified: boolean };

export interface RlvrTrainerOptions extends RunStartOptions {
  policy: CausalLM;
  /** The frozen reference (KL anchor); never updated. */
  reference: CausalLM;
  /** PPO's value model (default: a head on the policy). */
  value?: ValueModel | null;
  train: readonly RlvrPrompt[];
  test?: readonly RlvrPrompt[];
  decode: (ids: number[]) => string;
  eosTokenIds: number[];
  padId?: number;
  /** Only ids below this are sampled (the tokenizer's vocabulary). */
  vocabLimit?: number;
  /** Write metrics, checkpoints and the final model here (default: cfg.output; null: write nothing). */
  output?: string | null;
  /** Tokenizer files copied into saved models. */
  tokenizerDir?: string;
  rewardFn?: RewardFn;
  log?: (line: string) => void;
  progress?: boolean;
}

/** Config fields a resumed RLVR run can change (with --allow-config-change). */
export const RLVR_CHANGEABLE = [
  'lr',
  'schedule',
  'warmupRatio',
  'steps',
  'checkpoint',
  'eval',
  'logEvery',
  'optimizer.maxGradNorm',
];

export interface Rollout {
  promptIndex: number;
  prompt: RlvrPrompt;
  /** Generated tokens, EOS appended when the sequence stopped on it. */
  response: number[];
  text: string;
  stopped: boolean;
  reward: number;
  verified: boolean;
}

export interface EvalResult {
  verified_rate: number;
  mean_reward: number;
  stop_rate: number;
  response_length: number;
  n: number;
  /** Whether each prompt's response was verified, in prompt order (for a paired before/after comparison). */
  outcomes: boolean[];
}

export interface RlvrStepMetrics {
  step: number;
  lr: number;
  mean_reward: number;
  verified_rate: number;
  stop_rate: number;
  /** Mean per-sequence Σ_t kl1 (logπ − logπ_ref) of the rollouts, and the mean per-token configured estimator. */
  kl: number;
  kl_token: number;
  response_length: number;
  loss: number;
  pg_loss: number;
  value_loss?: number;
  clipfrac: number;
  grad_norm: number;
  advantage_std: number;
  rollout_s: number;
  train_s: number;
}

export interface RlvrResult {
  steps: number;
  before: EvalResult | null;
  after: EvalResult | null;
  history: RlvrStepMetrics[];
  outputDir: string | null;
}

/** Per-rollout arrays over its response tokens. */
interface Prepared {
  rollouts: Rollout[];
  oldLogp: Float32Array[];
  refLogp: Float32Array[];
  advantages: Float32Array[];
  returns: Float32Array[] | null;
  oldValues: Float32Array[] | null;
}

export class RlvrTrainer {
  readonly policy: CausalLM;
  readonly reference: CausalLM;
  readonly value: ValueModel | null;
  readonly opt: AdamW;
  stepCount = 0;
  private readonly output: string | null;
  private readonly log: (line: string) => void;
  private readonly padId: number;
  private readonly params: Tensor[];
  private readonly badSteps: BadStepPolicy;
  private readonly opened: OpenedRun<null>;

  constructor(
    readonly cfg: ResolvedRlvrConfig,
    private readonly opts: RlvrTrainerOptions,
  ) {
    if (opts.train.length === 0) throw new Error('RLVR: no training prompts');
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.badSteps = skipNonFinite(this.log);
    this.output = opts.output === undefined ? cfg.output : opts.output;
    this.reference = opts.reference;
    const config = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
    this.opened = openRun<null>(
      {
        kind: 'rlvr',
        output: this.output,
        config,
        source: `the RLVR config of ${cfg.output}`,
        changeable: RLVR_CHANGEABLE,
        log: this.log,
      },
      opts,
    );
    const resumed = this.opened.resumed;
    const policy = resumed?.model ?? opts.policy;
    let value = opts.value ?? null;
    if (resumed && existsSync(join(resumed.dir, VALUE_HEAD_FILE)))
      value = ValueModel.load(resumed.dir, policy.config.hiddenSize, cfg.seed);
    if (cfg.algorithm === 'ppo' && !value) value = new ValueModel(null, policy.config.hiddenSize, cfg.seed);
    this.stepCount = resumed?.state.step ?? 0;
    this.policy = policy;
    this.value = cfg.algorithm === 'ppo' ? value : null;
    this.padId = opts.padId ?? policy.config.padTokenId ?? opts.eosTokenIds[0] ?? 0;
    for (const p of this.reference.parameters()) p.requiresGrad = false;
    const groups = [...policy.namedParameters(), ...(this.value ? [...this.value.namedParameters()] : [])].map(
      ([name, param]) => ({ name, param }),
    );
    this.params = groups.map((g) => g.param);
    const o = cfg.optimizer;
    this.opt = new AdamW(groups, { lr: cfg.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay });
    if (resumed) this.opt.loadState(resumed.state.optimizerStep, resumed.moments);
  }

  private updatesPerStep(): number {
    return this.cfg.epochsPerBatch * this.cfg.minibatches;
  }

  private lr(update: number): number {
    const total = this.cfg.steps * this.updatesPerStep();
    return lrAt(
      {
        kind: this.cfg.schedule,
        peak: this.cfg.lr,
        warmupSteps: Math.ceil(this.cfg.warmupRatio * total),
        alphaF: 0,
        horizon: total,
        decaySteps: 0,
        warmupMinLr: 0,
      },
      update,
    );
  }

  /** Indices of the prompts of step `step`: epoch-wise permutations of the training set. */
  promptIndices(step: number): number[] {
    const n = this.opts.train.length;
    const out: number[] = [];
    let perm: number[] = [];
    let permEpoch = -1;
    for (let j = 0; j < this.cfg.promptsPerStep; j++) {
      const k = step * this.cfg.promptsPerStep + j;
      const epoch = Math.floor(k / n);
      if (epoch !== permEpoch) {
        perm = Rng.from(this.cfg.seed, `rlvr-epoch-${epoch}`).shuffle(Array.from({ length: n }, (_, i) => i));
        permEpoch = epoch;
      }
      out.push(perm[k % n]);
    }
    return out;
  }

  private reward(prompt: RlvrPrompt, text: string, stopped: boolean): { reward: number; verified: boolean } {
    if (this.opts.rewardFn) return this.opts.rewardFn(prompt, text, stopped);
    return verifiableReward(prompt.verifier, text, prompt.groundTruth, stopped, this.cfg.reward);
  }

  /** Samples `samples` responses for each prompt (consecutive groups) and scores them. */
  rollouts(
    promptIdx: readonly number[],
    samples: number,
    seed: number,
    temperature: number,
    maxNewTokens: number,
    prompts = this.opts.train,
  ): Rollout[] {
    const list: RlvrPrompt[] = [];
    const index: number[] = [];
    for (const i of promptIdx) {
      for (let s = 0; s < samples; s++) {
        list.push(prompts[i]);
        index.push(i);
      }
    }
    const g = this.cfg.generation;
    const res = generate(
      this.policy,
      list.map((p) => p.ids),
      {
        maxNewTokens,
        temperature,
        topK: g.topK,
        topP: g.topP,
        seed,
        eosTokenIds: this.opts.eosTokenIds,
        vocabLimit: this.opts.vocabLimit,
      },
    );
    const eos = this.opts.eosTokenIds[0];
    return list.map((prompt, b) => {
      const stopped = res.finishReasons[b] === 'eos';
      const text = this.opts.decode(res.tokens[b]);
      const { reward, verified } = this.reward(prompt, text, stopped);
      const response = stopped ? [...res.tokens[b], eos] : res.tokens[b];
      return { promptIndex: index[b], prompt, response, text, stopped, reward, verified };
    });
  }

  /** Held-out verified rate (greedy unless eval.temperature > 0), in batches. */
  evaluate(prompts: readonly RlvrPrompt[] = this.opts.test ?? [], limit = this.cfg.eval.limit): EvalResult {
    const use = prompts.slice(0, limit ?? prompts.length);
    const e = this.cfg.eval;
    const outcomes: boolean[] = [];
    let verified = 0;
    let reward = 0;
    let stopped = 0;
    let length = 0;
    for (let i = 0; i < use.length; i += e.batchSize) {
      const idx = Array.from({ length: Math.min(e.batchSize, use.length - i) }, (_, j) => i + j);
      const rs = this.rollouts(
        idx,
        1,
        this.cfg.seed + 7919 * i,
        e.temperature,
        e.maxNewTokens ?? this.cfg.generation.maxNewTokens,
        use,
      );
      for (const r of rs) {
        outcomes.push(r.verified);
        verified += r.verified ? 1 : 0;
        reward += r.reward;
        stopped += r.stopped ? 1 : 0;
        length += r.response.length;
      }
    }
    const n = Math.max(use.length, 1);
    return {
      verified_rate: verified / n,
      mean_reward: reward / n,
      stop_rate: stopped / n,
      response_length: length / n,
      n: use.length,
      outcomes,
    };
  }

  /** Sequences of rollouts [start, end) as a packed batch. */
  private pack(rollouts: readonly Rollout[]): RolloutBatch {
    return packRollouts(
      rollouts.map((r) => ({ prompt: r.prompt.ids, response: r.response })),
      this.padId,
    );
  }

  private microChunks(indices: readonly number[]): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < indices.length; i += this.cfg.microBatchSize)
      out.push(indices.slice(i, i + this.cfg.microBatchSize));
    return out;
  }

  /** Per-rollout response-token values from a flat [rows × length] array of a packed batch. */
  private static unflatten(batch: RolloutBatch, rollouts: readonly Rollout[], flat: Float32Array): Float32Array[] {
    return rollouts.map((r, b) => {
      const start = b * batch.length + r.prompt.ids.length - 1;
      return flat.slice(start, start + r.response.length);
    });
  }

  private static flatten(
    batch: RolloutBatch,
    rollouts: readonly Rollout[],
    per: readonly Float32Array[],
  ): Float32Array {
    const flat = new Float32Array(batch.rows * batch.length);
    rollouts.forEach((r, b) => flat.set(per[b], b * batch.length + r.prompt.ids.length - 1));
    return flat;
  }

  /**
   * GRPO with one update per rollout batch is exactly on-policy: the ratio's "old" log-probs equal the training
   * forward's own (ratio 1), so that forward supplies them and the separate scoring pass of the policy (a sixth of
   * a step's time) is skipped. PPO always needs them first (its token rewards hold the KL).
   */
  private onPolicy(): boolean {
    return this.cfg.algorithm === 'grpo' && this.updatesPerStep() === 1;
  }

  /**
   * Reference log-probs of every rollout, and the old-policy log-probs (and old values) unless the step is on-policy
   * (then oldLogp is filled by the update), computed in micro-batches without gradients.
   */
  private scoreRollouts(rollouts: readonly Rollout[]): {
    oldLogp: Float32Array[];
    refLogp: Float32Array[];
    oldValues: Float32Array[] | null;
  } {
    const oldLogp: Float32Array[] = [];
    const refLogp: Float32Array[] = [];
    const oldValues: Float32Array[] | null = this.value ? [] : null;
    const temperature = this.cfg.generation.temperature;
    const scorePolicy = !this.onPolicy();
    noGrad(() => {
      for (const chunk of this.microChunks(rollouts.map((_, i) => i))) {
        const rs = chunk.map((i) => rollouts[i]);
        const batch = this.pack(rs);
        if (scorePolicy) {
          tidy(() => {
            const pol = tokenLogProbs(this.policy, batch, { temperature, hidden: this.value?.shared === true });
            oldLogp.push(...RlvrTrainer.unflatten(batch, rs, pol.logprobs.f32()));
            if (this.value && oldValues)
              oldValues.push(...RlvrTrainer.unflatten(batch, rs, this.value.values(batch, pol.hidden).f32()));
          });
        }
        tidy(() => {
          const ref = tokenLogProbs(this.reference, batch, { temperature });
          refLogp.push(...RlvrTrainer.unflatten(batch, rs, ref.logprobs.f32()));
        });
      }
    });
    return { oldLogp, refLogp, oldValues };
  }

  /** Mean per-sequence Σ kl1 and mean per-token configured estimator of the rollouts under the old policy. */
  private klStats(prep: Prepared): { klSeq: number; klToken: number } {
    const { estimator } = this.cfg.kl;
    let klSeq = 0;
    let klTok = 0;
    let tokens = 0;
    prep.rollouts.forEach((r, i) => {
      for (let j = 0; j < r.response.length; j++) {
        klSeq += prep.oldLogp[i][j] - prep.refLogp[i][j];
        klTok += klEstimate(estimator, prep.oldLogp[i][j], prep.refLogp[i][j]);
        tokens++;
      }
    });
    return { klSeq: klSeq / Math.max(prep.rollouts.length, 1), klToken: klTok / Math.max(tokens, 1) };
  }

  private prepare(rollouts: Rollout[]): { prep: Prepared; advStd: number } {
    const { oldLogp, refLogp, oldValues } = this.scoreRollouts(rollouts);
    const { beta, estimator } = this.cfg.kl;
    let advantages: Float32Array[];
    let returns: Float32Array[] | null = null;
    if (this.cfg.algorithm === 'grpo') {
      const adv = grpoAdvantages(
        rollouts.map((r) => r.reward),
        this.cfg.samplesPerPrompt,
        this.cfg.grpo.stdEps,
      );
      advantages = rollouts.map((r, i) => new Float32Array(r.response.length).fill(adv[i]));
    } else {
      // PPO: advantages over the whole batch (one packed layout of plain arrays; no tensors).
      const batch = this.pack(rollouts);
      const kl = new Float32Array(batch.rows * batch.length);
      const flatOld = RlvrTrainer.flatten(batch, rollouts, oldLogp);
      const flatRef = RlvrTrainer.flatten(batch, rollouts, refLogp);
      for (let i = 0; i < kl.length; i++) if (batch.mask[i]) kl[i] = klEstimate(estimator, flatOld[i], flatRef[i]);
      const rewards = ppoTokenRewards(
        kl,
        batch.mask,
        batch.rows,
        rollouts.map((r) => r.reward),
        beta,
      );
      const values = RlvrTrainer.flatten(batch, rollouts, oldValues!);
      const g = gae(rewards, values, batch.mask, batch.rows, this.cfg.ppo.gamma, this.cfg.ppo.lambda);
      const adv = this.cfg.ppo.whitenAdvantages ? maskedWhiten(g.advantages, batch.mask) : g.advantages;
      advantages = RlvrTrainer.unflatten(batch, rollouts, adv);
      returns = RlvrTrainer.unflatten(batch, rollouts, g.returns);
    }
    let s = 0;
    let s2 = 0;
    let n = 0;
    for (const a of advantages) {
      for (const x of a) {
        s += x;
        s2 += x * x;
        n++;
      }
    }
    const mean = n ? s / n : 0;
    const advStd = n ? Math.sqrt(Math.max(0, s2 / n - mean * mean)) : 0;
    return { prep: { rollouts, oldLogp, refLogp, advantages, returns, oldValues }, advStd };
  }

  /** One minibatch: forward/backward in micro-batches, then a clipped AdamW update. */
  private update(
    prep: Prepared,
    indices: readonly number[],
    lr: number,
  ): { loss: number; pg: number; vf: number; clipfrac: number; gradNorm: number } {
    zeroGrad(this.params);
    const rs = indices.map((i) => prep.rollouts[i]);
    // Loss weights over the whole minibatch (so micro-batching does not change the result).
    const all = this.pack(rs);
    const aggregation = this.cfg.algorithm === 'grpo' ? this.cfg.grpo.lossAggregation : 'token';
    const weightsAll = RlvrTrainer.unflatten(all, rs, lossWeights(all.mask, all.rows, aggregation));
    const tokenWeightsAll = RlvrTrainer.unflatten(all, rs, lossWeights(all.mask, all.rows, 'token'));
    const temperature = this.cfg.generation.temperature;
    const { beta, estimator } = this.cfg.kl;
    const clip = this.cfg.clip;
    const onPolicy = this.onPolicy();
    let loss = 0;
    let pgSum = 0;
    let vfSum = 0;
    let clipped = 0;
    let tokens = 0;
    for (const chunk of this.microChunks(indices.map((_, k) => k))) {
      const crs = chunk.map((k) => rs[k]);
      const pick = <T>(arr: readonly T[]) => chunk.map((k) => arr[k]);
      const picked = chunk.map((k) => indices[k]);
      const batch = this.pack(crs);
      const shape = [batch.rows, batch.length];
      const flat = (per: readonly Float32Array[]) => tensor(RlvrTrainer.flatten(batch, crs, per), shape);
      tidy(() => {
        const { logprobs, hidden } = tokenLogProbs(this.policy, batch, {
          temperature,
          hidden: this.value?.shared === true,
        });
        if (onPolicy) {
          // This forward is the old policy: its values (without gradient) are the ratio's denominator.
          const values = RlvrTrainer.unflatten(batch, crs, logprobs.f32());
          picked.forEach((i, k) => (prep.oldLogp[i] = values[k]));
        }
        const old = flat(picked.map((i) => prep.oldLogp[i]));
        const adv = flat(picked.map((i) => prep.advantages[i]));
        const w = flat(pick(weightsAll));
        const { loss: pgTok, ratio } = clippedSurrogateTensor(logprobs, old, adv, clip);
        let perToken = pgTok;
        if (this.cfg.algorithm === 'grpo' && beta > 0)
          perToken = add(
            perToken,
            scale(klEstimateTensor(estimator, logprobs, flat(picked.map((i) => prep.refLogp[i]))), beta),
          );
        let total = sum(mul(perToken, w));
        const pgPart = sum(mul(pgTok, w)).item();
        pgSum += pgPart;
        if (this.value) {
          const values = this.value.values(batch, hidden);
          const vl = clippedValueLossTensor(
            values,
            flat(picked.map((i) => prep.oldValues![i])),
            flat(picked.map((i) => prep.returns![i])),
            this.cfg.ppo.valueClip,
          );
          const vTerm = sum(mul(vl, flat(pick(tokenWeightsAll))));
          vfSum += vTerm.item();
          total = add(total, scale(vTerm, this.cfg.ppo.vfCoef));
        }
        loss += total.item();
        const rd = ratio.f32();
        for (let i = 0; i < rd.length; i++) {
          if (!batch.mask[i]) continue;
          tokens++;
          if (Math.abs(rd[i] - 1) > clip) clipped++;
        }
        backward(total);
      });
    }
    const norm = gradNorm(this.params);
    const max = this.cfg.optimizer.maxGradNorm;
    if (this.badSteps.accept(this.stepCount + 1, loss, norm)) this.opt.update(lr, max > 0 ? clipFactor(norm, max) : 1);
    return { loss, pg: pgSum, vf: vfSum, clipfrac: tokens ? clipped / tokens : 0, gradNorm: norm };
  }

  /** epochsPerBatch × minibatches clipped updates over a prepared batch (the minibatch order depends on the step). */
  private optimise(
    prep: Prepared,
    step: number,
  ): { last: { loss: number; pg: number; vf: number; clipfrac: number; gradNorm: number }; lr: number } {
    const rng = Rng.from(this.cfg.seed, `rlvr-minibatch-${step}`);
    let last = { loss: 0, pg: 0, vf: 0, clipfrac: 0, gradNorm: 0 };
    let lr = 0;
    const n = prep.rollouts.length;
    for (let epoch = 0; epoch < this.cfg.epochsPerBatch; epoch++) {
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      const mb = this.cfg.minibatches;
      for (let m = 0; m < mb; m++) {
        const part = order.slice(Math.floor((m * n) / mb), Math.floor(((m + 1) * n) / mb));
        lr = this.lr(this.opt.step);
        last = this.update(prep, part, lr);
      }
    }
    return { last, lr };
  }

  /**
   * The learning half of a step on given rollouts (consecutive groups of samplesPerPrompt, rewards already set):
   * old/reference log-probs, advantages and the clipped updates. Does not advance the step counter. Lets tests
   * check the direction of an update on a fixed batch with hand-set rewards.
   */
  learnFrom(rollouts: Rollout[]): { loss: number; gradNorm: number; advantageStd: number; kl: number } {
    const { prep, advStd } = this.prepare(rollouts);
    const { last } = this.optimise(prep, this.stepCount);
    return { loss: last.loss, gradNorm: last.gradNorm, advantageStd: advStd, kl: this.klStats(prep).klSeq };
  }

  /** One RLVR step: rollouts, rewards, advantages, epochsPerBatch × minibatches updates. */
  trainStep(): RlvrStepMetrics {
    const step = this.stepCount;
    const t0 = performance.now();
    const idx = this.promptIndices(step);
    const g = this.cfg.generation;
    const rollouts = this.rollouts(
      idx,
      this.cfg.samplesPerPrompt,
      this.cfg.seed * 1_000_003 + step,
      g.temperature,
      g.maxNewTokens,
    );
    const { prep, advStd } = this.prepare(rollouts);
    const t1 = performance.now();
    const { last, lr } = this.optimise(prep, step);
    const { klSeq, klToken } = this.klStats(prep);
    this.stepCount++;
    const metrics: RlvrStepMetrics = {
      step: this.stepCount,
      lr,
      mean_reward: mean(rollouts.map((r) => r.reward)),
      verified_rate: mean(rollouts.map((r) => (r.verified ? 1 : 0))),
      stop_rate: mean(rollouts.map((r) => (r.stopped ? 1 : 0))),
      kl: klSeq,
      kl_token: klToken,
      response_length: mean(rollouts.map((r) => r.response.length)),
      loss: last.loss,
      pg_loss: last.pg,
      clipfrac: last.clipfrac,
      grad_norm: last.gradNorm,
      advantage_std: advStd,
      rollout_s: (t1 - t0) / 1000,
      train_s: (performance.now() - t1) / 1000,
    };
    if (this.value) metrics.value_loss = last.vf;
    return metrics;
  }

  /** Runs the remaining steps (or maxSteps of them) on the shared loop, evaluating before and after on the test prompts. */
  train(run: { maxSteps?: number; signal?: AbortSignal } = {}): RlvrResult {
    const hasTest = (this.opts.test?.length ?? 0) > 0;
    const history: RlvrStepMetrics[] = [];
    const r = runTrainingLoop<EvalResult>(
      {
        kind: 'rlvr',
        label: 'rlvr',
        model: this.policy,
        opt: this.opt,
        tokenizerDir: this.opts.tokenizerDir,
        badSteps: this.badSteps,
        totalSteps: this.cfg.steps,
        step: () => {
          const m = this.trainStep();
          history.push(m);
          return {
            record: m,
            progress: `reward ${m.mean_reward.toFixed(2)} · verified ${m.verified_rate.toFixed(2)} · kl ${m.kl.toFixed(3)}`,
            logLine: `step ${this.stepCount}/${this.cfg.steps} reward ${m.mean_reward.toFixed(3)} verified ${m.verified_rate.toFixed(3)} kl ${m.kl.toFixed(4)} len ${m.response_length.toFixed(1)} loss ${m.loss.toFixed(4)} grad ${m.grad_norm.toFixed(3)} (${(m.rollout_s + m.train_s).toFixed(1)} s)`,
          };
        },
        evaluate: () => {
          if (!hasTest) return null;
          const e = this.evaluate();
          this.log(
            `eval at step ${this.stepCount}: verified rate ${e.verified_rate.toFixed(3)} over ${e.n} held-out prompts`,
          );
          return e;
        },
        evalRecord: (e, step) => ({ step, ...prefixed('eval_', e) }),
        state: () => null,
        extraFiles: (dir) => this.value?.save(dir),
      },
      {
        ...this.opened,
        output: this.output,
        checkpoint: this.cfg.checkpoint,
        eval: { every: this.cfg.eval.every, atStart: hasTest },
        logEvery: this.cfg.logEvery,
        signal: run.signal,
        maxSteps: run.maxSteps,
        progress: this.opts.progress === true,
        log: this.log,
      },
    );
    const after = r.last;
    r.progress?.finish(
      `${this.stepCount} steps${after ? `, held-out verified rate ${after.verified_rate.toFixed(3)}` : ''}`,
    );
    return { steps: this.stepCount, before: r.before, after, history, outputDir: this.output };
  }
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function prefixed(prefix: string, r: EvalResult): Record<string, number> {
  const { outcomes: _perPrompt, ...rates } = r;
  return Object.fromEntries(Object.entries(rates).map(([k, v]) => [`${prefix}${k}`, v]));
}
