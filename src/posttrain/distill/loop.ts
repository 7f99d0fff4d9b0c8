// Iterative self-distillation, the δ-RoT method (Rao et al., "What Makes it Ok to Set a Fire?",
// https://aclanthology.org/2023.findings-emnlp.812): each round the current student
// generates candidates, a critic rates them, the valid ones (score ≥ threshold) are filtered for diversity
// (near-duplicates dropped), and the student is fine-tuned on what was kept; the fine-tuned student starts the
// next round. Every round's yield and critic scores are recorded. This file is the bookkeeping, independent of
// how candidates are generated and how the student is trained (run.ts plugs in generation and SFT).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage } from '../../tokenizers/index.ts';
import type { Critic } from './critic.ts';
import { dedupeByJaccard } from './diversity.ts';

export interface DistillPrompt {
  id: string;
  messages: ChatMessage[];
  groundTruth?: unknown;
  verifier?: string;
}

export interface Candidate {
  promptIndex: number;
  completion: string;
  score: number;
  valid: boolean;
  kept: boolean;
}

export interface RoundRecord {
  round: number;
  prompts: number;
  candidates: number;
  valid: number;
  /** Valid candidates dropped as near-duplicates. */
  duplicates: number;
  kept: number;
  /** kept / candidates. */
  yield: number;
  valid_rate: number;
  critic_mean: number;
  critic_mean_kept: number;
  /** Distinct kept completions / kept (exact-string). */
  distinct_kept: number;
  /** Examples the student was fine-tuned on this round (0: fine-tuning skipped). */
  trained_on: number;
  /** What the fine-tuning reported (e.g. the student folder, losses). */
  finetune?: Record<string, unknown>;
  /** Extra per-round evaluation (e.g. held-out verified rate of the new student). */
  eval?: Record<string, unknown>;
}

export interface DistillHooks {
  /** Candidate completions per prompt from the current student. */
  generate(round: number, prompts: readonly DistillPrompt[]): string[][];
  /** Fine-tunes the student on the kept conversations; returns what to record. */
  finetune(round: number, examples: readonly { messages: ChatMessage[] }[]): Record<string, unknown>;
  /** Optional evaluation of the student after a round's fine-tuning. */
  evaluate?(round: number): Record<string, unknown>;
}

export interface DistillLoopOptions {
  rounds: number;
  prompts: readonly DistillPrompt[];
  critic: Critic;
  threshold: number;
  diversity: { n: number; threshold: number; scope: 'prompt' | 'global' };
  /** Train on this round's kept examples only ('round') or on everything kept so far ('all'). */
  trainOn: 'round' | 'all';
  /** Where rounds.jsonl and round-K/{candidates,kept}.jsonl go (null: nowhere). */
  output: string | null;
  log?: (line: string) => void;
  /** Checked before each round: once aborted, the loop returns after the round in progress. */
  signal?: AbortSignal;
  /** Rounds an earlier run completed: the loop continues after them (rounds.jsonl is appended to, not reset). */
  resume?: DistillResume;
}

/** What a resumed run needs from the completed rounds (run.ts reads it back from OUTPUT). */
export interface DistillResume {
  rounds: RoundRecord[];
  before: Record<string, unknown> | null;
  /** With trainOn 'all': every example kept so far (the last completed round's kept.jsonl). */
  pool: { messages: ChatMessage[] }[];
}

export interface DistillResult {
  rounds: RoundRecord[];
  /** Initial evaluation (before round 1), when an evaluate hook is given. */
  before: Record<string, unknown> | null;
  /** True when the signal stopped the loop before its last round. */
  stopped: boolean;
}

export function runDistillLoop(o: DistillLoopOptions, hooks: DistillHooks): DistillResult {
  const log = o.log ?? (() => {});
  if (o.output) {
    mkdirSync(o.output, { recursive: true });
    if (!o.resume) writeFileSync(join(o.output, 'rounds.jsonl'), '');
  }
  let before: Record<string, unknown> | null;
  if (o.resume) before = o.resume.before;
  else {
    before = hooks.evaluate ? hooks.evaluate(0) : null;
    if (before && o.output)
      appendFileSync(join(o.output, 'rounds.jsonl'), `${JSON.stringify({ round: 0, eval: before })}\n`);
  }
  const records: RoundRecord[] = [...(o.resume?.rounds ?? [])];
  const pool: { messages: ChatMessage[] }[] = [...(o.resume?.pool ?? [])];
  for (let round = records.length + 1; round <= o.rounds; round++) {
    if (o.signal?.aborted) {
      log(`stopped before round ${round} of ${o.rounds}; rerun with --resume to continue`);
      return { rounds: records, before, stopped: true };
    }
    const generated = hooks.generate(round, o.prompts);
    if (generated.length !== o.prompts.length)
      throw new Error(
        `distill round ${round}: the generator returned ${generated.length} candidate lists for ${o.prompts.length} prompts`,
      );
    const candidates: Candidate[] = generated.flatMap((list, p) =>
      list.map((completion) => ({ promptIndex: p, completion, score: 0, valid: false, kept: false })),
    );
    const scores = o.critic.score(
      candidates.map((c) => {
        const p = o.prompts[c.promptIndex];
        return { prompt: p.messages, completion: c.completion, groundTruth: p.groundTruth, verifier: p.verifier };
      }),
    );
    if (scores.length !== candidates.length)
      throw new Error(
        `distill round ${round}: the critic returned ${scores.length} scores for ${candidates.length} candidates`,
      );
    candidates.forEach((c, i) => {
      const s = scores[i];
      c.score = Number.isFinite(s) ? s : 0;
      c.valid = c.score >= o.threshold && c.completion.trim() !== '';
    });
    // Diversity: greedy n-gram Jaccard filtering among the valid candidates, per prompt or over the round.
    const valid = candidates.filter((c) => c.valid);
    const groups = o.diversity.scope === 'prompt' ? groupBy(valid, (c) => c.promptIndex) : [valid];
    for (const g of groups) {
      for (const i of dedupeByJaccard(
        g.map((c) => c.completion),
        o.diversity,
      ))
        g[i].kept = true;
    }
    const kept = candidates.filter((c) => c.kept);
    const examples = kept.map((c) => ({
      messages: [...o.prompts[c.promptIndex].messages, { role: 'assistant', content: c.completion }],
    }));
    if (o.trainOn === 'all') pool.push(...examples);
    const trainSet = o.trainOn === 'all' ? pool : examples;
    if (o.output) {
      const dir = join(o.output, `round-${round}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'candidates.jsonl'),
        candidates
          .map((c) =>
            JSON.stringify({
              prompt_id: o.prompts[c.promptIndex].id,
              completion: c.completion,
              score: c.score,
              valid: c.valid,
              kept: c.kept,
            }),
          )
          .join('\n') + (candidates.length ? '\n' : ''),
      );
      writeFileSync(
        join(dir, 'kept.jsonl'),
        trainSet.map((e) => JSON.stringify(e)).join('\n') + (trainSet.length ? '\n' : ''),
      );
    }
    const finetune = trainSet.length > 0 ? hooks.finetune(round, trainSet) : undefined;
    const evalResult = hooks.evaluate ? hooks.evaluate(round) : undefined;
    const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    const rec: RoundRecord = {
      round,
      prompts: o.prompts.length,
      candidates: candidates.length,
      valid: valid.length,
      duplicates: valid.length - kept.length,
      kept: kept.length,
      yield: candidates.length ? kept.length / candidates.length : 0,
      valid_rate: candidates.length ? valid.length / candidates.length : 0,
      critic_mean: meanOf(candidates.map((c) => c.score)),
      critic_mean_kept: meanOf(kept.map((c) => c.score)),
      distinct_kept: kept.length ? new Set(kept.map((c) => c.completion)).size / kept.length : 0,
      trained_on: finetune ? trainSet.length : 0,
      ...(finetune ? { finetune } : {}),
      ...(evalResult ? { eval: evalResult } : {}),
    };
    records.push(rec);
    if (o.output) appendFileSync(join(o.output, 'rounds.jsonl'), `${JSON.stringify(rec)}\n`);
    log(
      `round ${round}/${o.rounds}: ${candidates.length} candidates, ${valid.length} valid (critic mean ${rec.critic_mean.toFixed(3)}), ${rec.duplicates} near-duplicates dropped, ${kept.length} kept (yield ${rec.yield.toFixed(3)})` +
        (finetune ? `, fine-tuned on ${trainSet.length}` : ', nothing to fine-tune on') +
        (evalResult ? ` · ${JSON.stringify(evalResult)}` : ''),
    );
  }
  return { rounds: records, before, stopped: false };
}

function groupBy<T>(xs: readonly T[], key: (x: T) => number): T[][] {
  const m = new Map<number, T[]>();
  for (const x of xs) {
    const k = key(x);
    let g = m.get(k);
    if (!g) m.set(k, (g = []));
    g.push(x);
  }
  return [...m.values()];
}
