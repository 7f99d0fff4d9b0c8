// The held-out measures of one quickstart stage's model, written to evals/<stage>.json:
//   val_loss    pretraining validation split, nats per token (the trainer's own validation function)
//   world_rc    OLMES synth_world:rc — test-fact questions, ranked classification of the answers (few-shot)
//   world_mc    OLMES synth_world:mc — the same questions with lettered options
//   arith_em    exact match of the greedy chat reply on held-out word problems (sft/test.jsonl, source synth_math)
//   pref_acc    DPO reward accuracy on held-out preference pairs (dpo/test.jsonl): the implicit reward
//               β·(log π − log π_SFT), length-normalised as Tülu 3's dpo_norm, prefers the chosen reply
//   verified    greedy verified rate (gsm8k verifier: last number) on held-out RLVR prompts (rlvr/test.jsonl)
// Which measures a stage gets is decided by the caller (chat measures need a chat-tuned model to mean anything,
// and the preference accuracy needs the SFT model as reference).
import { join } from 'node:path';
import { LocalBackend } from '../eval/backends/index.ts';
import { ChainSource, LocalHfFolderSource, runEval } from '../eval/index.ts';
import { loadModel, type CausalLM } from '../models/index.ts';
import { loadRows, parsePreferenceRow, parseSftRow } from '../posttrain/common/index.ts';
import { parseDistillRow, verifiedOutcomes } from '../posttrain/distill/index.ts';
import { dpoLossValues, encodePairs, pairLogProbs, summarizePairs } from '../posttrain/dpo/index.ts';
import { exactMatch, exactMatchItem } from '../posttrain/sft/index.ts';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.ts';
import { validationLoss } from '../train/index.ts';

export type MeasureKey = 'val_loss' | 'world_rc' | 'world_mc' | 'arith_em' | 'pref_acc' | 'verified';

export interface StageEvalOptions {
  /** The synthetic corpus folder (olmo data synth output). */
  dataDir: string;
  /** Where the OLMES outputs go (per-task metrics, predictions, requests). */
  outputDir: string;
  measures: readonly MeasureKey[];
  /** The SFT model folder (reference of the preference accuracy). */
  referenceModel?: string;
  sequenceLength: number;
  validationBatches: number;
  /** Held-out items per generative measure. */
  generativeLimit: number;
  preferenceLimit: number;
  maxNewTokens: number;
}

export interface StageEval {
  model: string;
  values: Partial<Record<MeasureKey, number>>;
  /** Items each measure was computed on. */
  counts: Partial<Record<MeasureKey, number>>;
  /**
   * Per-item outcomes of the generative measures in the held-out file's order ('1' passed, '0' failed), so that two
   * stages can be compared on the same items (the report's paired comparisons).
   */
  outcomes?: Partial<Record<'verified', string>>;
  /** A few generations, for the reader of the JSON. */
  samples: { measure: MeasureKey; prompt: string; output: string }[];
  seconds: number;
}

export async function evaluateStage(modelDir: string, opts: StageEvalOptions): Promise<StageEval> {
  const t0 = performance.now();
  const model = loadModel(modelDir);
  const tok = loadTokenizer(modelDir);
  const out: StageEval = { model: modelDir, values: {}, counts: {}, samples: [], seconds: 0 };
  const want = new Set(opts.measures);
  if (want.has('val_loss')) {
    const v = validationLoss(model, {
      paths: [join(opts.dataDir, 'tokens', 'validation')],
      sequenceLength: opts.sequenceLength,
      batchInstances: 8,
      maxBatches: opts.validationBatches,
    });
    if (v !== null) out.values.val_loss = v;
  }
  const olmes = (['world_rc', 'world_mc'] as const).filter((k) => want.has(k));
  if (olmes.length > 0) {
    const tasks = olmes.map((k) => (k === 'world_rc' ? 'synth_world:rc' : 'synth_world:mc'));
    const source = new ChainSource([new LocalHfFolderSource(join(opts.dataDir, 'eval'))]);
    const backend = new LocalBackend({
      model,
      tokenizer: tok,
      name: modelDir,
      maxLength: model.config.maxPositionEmbeddings,
    });
    const r = await runEval({ tasks, source, outputDir: opts.outputDir, backend, batchSize: 64 });
    olmes.forEach((k, i) => {
      const t = r.tasks.find((x) => x.task_idx === i); // task files are numbered in the order of `tasks`
      if (!t) throw new Error(`evaluateStage: the evaluation of ${tasks[i]} wrote no results`);
      out.values[k] = (t.metrics as { primary_score: number }).primary_score;
      out.counts[k] = t.num_instances;
    });
  }
  if (want.has('arith_em')) {
    const rows = loadRows(join(opts.dataDir, 'sft', 'test.jsonl'), (v) => ({
      ...parseSftRow(v),
      source: (v as { source?: unknown }).source,
    }));
    const items = rows.rows
      .filter((r) => r.value.source === 'synth_math')
      .slice(0, opts.generativeLimit)
      .map((r) => exactMatchItem(tok, r.value.messages))
      .filter((x) => x !== null);
    const r = exactMatch(model, tok, items, { maxNewTokens: opts.maxNewTokens, batch: 32 });
    out.values.arith_em = r.exactMatch;
    out.counts.arith_em = r.n;
    for (const s of r.samples.slice(0, 2))
      out.samples.push({ measure: 'arith_em', prompt: s.reference, output: s.generated });
  }
  if (want.has('pref_acc')) {
    if (!opts.referenceModel) throw new Error('evaluateStage: pref_acc needs the SFT model as referenceModel');
    const { accuracy, n } = preferenceAccuracy(
      model,
      loadModel(opts.referenceModel),
      tok,
      join(opts.dataDir, 'dpo', 'test.jsonl'),
      opts.preferenceLimit,
    );
    out.values.pref_acc = accuracy;
    out.counts.pref_acc = n;
  }
  if (want.has('verified')) {
    const rows = loadRows(join(opts.dataDir, 'rlvr', 'test.jsonl'), (v) => parseDistillRow(v))
      .rows.map((r) => r.value)
      .slice(0, opts.generativeLimit);
    const outcomes = verifiedOutcomes(model, tok, rows, opts.maxNewTokens, 64);
    out.values.verified = outcomes.length ? outcomes.filter(Boolean).length / outcomes.length : 0;
    out.counts.verified = outcomes.length;
    out.outcomes = { verified: outcomes.map((ok) => (ok ? '1' : '0')).join('') };
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

/**
 * DPO's held-out reward accuracy, as DpoTrainer.evaluate computes it for dpo_norm: per-token mean log-probs, the
 * implicit reward (π − π_ref) of the chosen reply above the rejected one's, a tie counting ½ (so the reference model
 * itself scores exactly 50%). β only scales both rewards, so it is 1 here.
 */
function preferenceAccuracy(
  policy: CausalLM,
  reference: CausalLM,
  tok: Tokenizer,
  file: string,
  limit: number,
): { accuracy: number; n: number } {
  const rows = loadRows(file, parsePreferenceRow).rows.slice(0, limit);
  const { pairs } = encodePairs(rows, tok, { maxLength: policy.config.maxPositionEmbeddings, overlong: 'drop' }, file);
  if (pairs.length === 0) return { accuracy: NaN, n: 0 };
  const mean = (sum: number, count: number) => (count > 0 ? sum / count : 0);
  const p = pairLogProbs(policy, pairs, 8, tok.padTokenId ?? undefined);
  const r = pairLogProbs(reference, pairs, 8, tok.padTokenId ?? undefined);
  const values = p.map((x, i) =>
    dpoLossValues(mean(x[0], x[1]), mean(x[2], x[3]), mean(r[i][0], r[i][1]), mean(r[i][2], r[i][3]), 1),
  );
  return { accuracy: summarizePairs(values).reward_accuracy, n: pairs.length };
}
