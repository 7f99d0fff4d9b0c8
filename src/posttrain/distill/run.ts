// `olmo distill --config FILE` as a library call: the δ-RoT loop with the student's own sampling as the
// generator, a verifier or judge-model critic, and the SFT stage (src/posttrain/sft, assistant-only loss) as each
// round's fine-tuning; the student of round K is round-K/sft/final, and the last one is copied to final/.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonLines } from '../../io/jsonl.ts';
import { generate, loadModel, saveModel, type CausalLM } from '../../models/index.ts';
import { loadTokenizer, type ChatMessage, type Tokenizer } from '../../tokenizers/index.ts';
import { loadRows, parseMessages, RowError } from '../common/conversations.ts';
import { encodePrompt } from '../rlvr/data.ts';
import { resolveSftConfig, SftTrainer } from '../sft/index.ts';
import { verify } from '../../verifiers/index.ts';
import type { ResolvedDistillConfig } from './config.ts';
import { ModelCritic, VerifierCritic, type Critic } from './critic.ts';
import {
  runDistillLoop,
  type DistillPrompt,
  type DistillResult,
  type DistillResume,
  type RoundRecord,
} from './loop.ts';

export function parseDistillRow(value: unknown, index = 0): DistillPrompt {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RowError(`expected a JSON object, got ${JSON.stringify(value)}`);
  const row = value as Record<string, unknown>;
  let messages = parseMessages(row.messages);
  if (messages[messages.length - 1].role === 'assistant') messages = messages.slice(0, -1);
  if (messages.length === 0) throw new RowError('messages: no prompt left once the final assistant turn is removed');
  const gt = row.ground_truth ?? row.groundTruth;
  const verifier =
    typeof row.dataset === 'string' ? row.dataset : typeof row.verifier === 'string' ? row.verifier : undefined;
  const id = typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : `row-${index}`;
  return {
    id,
    messages,
    ...(gt !== undefined && gt !== null ? { groundTruth: gt } : {}),
    ...(verifier ? { verifier } : {}),
  };
}

function loadPrompts(
  files: readonly string[],
  tok: Tokenizer,
  maxPromptTokens: number,
  badRows: 'error' | 'skip',
  limit: number | undefined,
  log: (l: string) => void,
): DistillPrompt[] {
  const out: DistillPrompt[] = [];
  let tooLong = 0;
  for (const f of files) {
    let i = 0;
    for (const { value } of loadRows(f, (v) => parseDistillRow(v, i++), badRows, log).rows) {
      if (limit !== undefined && out.length >= limit) break;
      if (encodePrompt(tok, value.messages).length > maxPromptTokens) {
        tooLong++;
        continue;
      }
      out.push(value);
    }
  }
  if (tooLong) log(`dropped ${tooLong} prompts longer than ${maxPromptTokens} tokens`);
  if (out.length === 0) throw new Error('distill: no prompts');
  return out;
}

/** Samples `samples` completions per prompt (texts), in batches. */
export function sampleCompletions(
  model: CausalLM,
  tok: Tokenizer,
  prompts: readonly DistillPrompt[],
  samples: number,
  g: { maxNewTokens: number; temperature: number; topK: number; topP: number; batchSize: number },
  seed: number,
): string[][] {
  const flat: number[][] = [];
  for (const p of prompts) {
    const ids = encodePrompt(tok, p.messages);
    for (let s = 0; s < samples; s++) flat.push(ids);
  }
  const texts: string[] = [];
  for (let i = 0; i < flat.length; i += g.batchSize) {
    const r = generate(model, flat.slice(i, i + g.batchSize), {
      maxNewTokens: g.maxNewTokens,
      temperature: g.temperature,
      topK: g.topK,
      topP: g.topP,
      seed: seed + i,
      eosTokenIds: tok.eosTokenId !== null ? [tok.eosTokenId] : undefined,
      vocabLimit: Math.min(tok.vocabSize, model.config.vocabSize),
      decode: (ids) => tok.decode(ids, { skipSpecialTokens: true }),
    });
    texts.push(...r.texts);
  }
  return prompts.map((_, p) => texts.slice(p * samples, (p + 1) * samples));
}

/**
 * Whether the greedy reply to each row with ground truth and a verifier passes it, in row order (rows without
 * either are left out). Per-prompt outcomes let two models be compared on the same prompts (a paired test).
 */
export function verifiedOutcomes(
  model: CausalLM,
  tok: Tokenizer,
  rows: readonly DistillPrompt[],
  maxNewTokens: number,
  batchSize: number,
): boolean[] {
  const usable = rows.filter((r) => r.groundTruth !== undefined && r.verifier);
  if (usable.length === 0) return [];
  const outs = sampleCompletions(
    model,
    tok,
    usable,
    1,
    { maxNewTokens, temperature: 0, topK: 0, topP: 1, batchSize },
    0,
  );
  return usable.map((r, i) => verify(r.verifier!, outs[i][0], r.groundTruth).verified);
}

/** Greedy verified rate of a model on rows with ground truth. */
export function verifiedRate(
  model: CausalLM,
  tok: Tokenizer,
  rows: readonly DistillPrompt[],
  maxNewTokens: number,
  batchSize: number,
): number {
  const outcomes = verifiedOutcomes(model, tok, rows, maxNewTokens, batchSize);
  return outcomes.length ? outcomes.filter(Boolean).length / outcomes.length : 0;
}

export interface RunDistillOptions {
  log?: (line: string) => void;
  /** Replace the configured critic (tests, custom judges). */
  critic?: Critic;
  /** Stops between rounds (the round in progress is finished first). */
  signal?: AbortSignal;
  /** Continue after the rounds OUTPUT/rounds.jsonl records as complete. */
  resume?: boolean;
}

/**
 * The completed rounds of an earlier run in `output`, and where they left the student: rounds.jsonl must hold
 * rounds 1…R in order (a round is written there only once its fine-tuning and evaluation are done).
 */
export function readDistillResume(
  output: string,
  student: string,
  trainOn: 'round' | 'all',
): DistillResume & { student: string } {
  const file = join(output, 'rounds.jsonl');
  if (!existsSync(file))
    throw new Error(`distill --resume: ${file} not found; nothing to resume (run without --resume to start)`);
  const lines = readJsonLines<Partial<RoundRecord> & { round?: unknown; eval?: Record<string, unknown> }>(file);
  const before = lines.find((l) => l.round === 0)?.eval ?? null;
  const rounds = lines.filter((l) => l.round !== 0) as RoundRecord[];
  rounds.forEach((r, i) => {
    if (r.round !== i + 1)
      throw new Error(`${file}: line for round ${JSON.stringify(r.round)} where round ${i + 1} was expected`);
  });
  let current = student;
  for (const r of rounds) {
    const dir = r.finetune?.student;
    if (typeof dir === 'string') current = dir;
  }
  if (!existsSync(join(current, 'config.json')))
    throw new Error(`${file}: the student of round ${rounds.length} (${current}) is missing`);
  const last = rounds.length ? join(output, `round-${rounds.length}`, 'kept.jsonl') : null;
  const pool = trainOn === 'all' && last ? readJsonLines<{ messages: ChatMessage[] }>(last) : [];
  return { rounds, before, pool, student: current };
}

export function runDistill(
  cfg: ResolvedDistillConfig,
  opts: RunDistillOptions = {},
): DistillResult & { student: string } {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const tokDir = cfg.tokenizer ?? cfg.student;
  if (!existsSync(join(tokDir, 'tokenizer.json')))
    throw new Error(`no tokenizer.json in ${tokDir}; set "tokenizer" in the config`);
  const tok = loadTokenizer(tokDir);
  if (tok.eosTokenId === null) throw new Error(`${tokDir}: the tokenizer has no EOS token`);
  const prompts = loadPrompts(cfg.data.prompts, tok, cfg.data.maxPromptTokens, cfg.data.badRows, cfg.data.limit, log);
  const test = cfg.data.test.length
    ? loadPrompts(cfg.data.test, tok, cfg.data.maxPromptTokens, cfg.data.badRows, cfg.data.testLimit, log)
    : [];
  let critic: Critic;
  if (opts.critic) critic = opts.critic;
  else if (cfg.critic.type === 'model') {
    const judgeTokDir = cfg.critic.tokenizer ?? cfg.critic.model!;
    critic = new ModelCritic(loadModel(cfg.critic.model!, { trainable: false }), loadTokenizer(judgeTokDir), {
      template: cfg.critic.template,
    });
  } else critic = new VerifierCritic(cfg.critic.verifier);

  const resume = opts.resume ? readDistillResume(cfg.output, cfg.student, cfg.trainOn) : undefined;
  if (resume) log(`distill: resuming after round ${resume.rounds.length} of ${cfg.rounds} (student ${resume.student})`);
  let studentDir = resume?.student ?? cfg.student;
  let student = loadModel(studentDir);
  const g = cfg.generation;
  log(
    `distill: ${prompts.length} prompts × ${cfg.candidatesPerPrompt} candidates, ${cfg.rounds} rounds, critic ${critic.name} (threshold ${cfg.critic.threshold})`,
  );
  const result = runDistillLoop(
    {
      rounds: cfg.rounds,
      prompts,
      critic,
      threshold: cfg.critic.threshold,
      diversity: cfg.diversity,
      trainOn: cfg.trainOn,
      output: cfg.output,
      log,
      signal: opts.signal,
      resume,
    },
    {
      generate: (round, ps) =>
        sampleCompletions(student, tok, ps, cfg.candidatesPerPrompt, g, cfg.seed * 1_000_003 + round * 7919),
      finetune: (round) => {
        const dir = join(cfg.output, `round-${round}`);
        // A fine-tuning folder here is left by an interrupted run of this round: the round starts over.
        rmSync(join(dir, 'sft'), { recursive: true, force: true });
        const data = join(dir, 'kept.jsonl'); // the loop has written `examples` there
        const s = cfg.sft;
        const sftCfg = resolveSftConfig(
          {
            output: join(dir, 'sft'),
            initFrom: studentDir,
            tokenizer: tokDir,
            data: { train: data, maxLength: s.maxLength, overlong: 'drop' },
            seed: cfg.seed + round,
            epochs: s.epochs,
            batchSize: s.batchSize,
            microBatchSize: Math.min(s.microBatchSize, s.batchSize),
            reduction: s.reduction,
            lr: s.lr,
            warmupRatio: s.warmupRatio,
            eval: { atStart: false, exactMatchExamples: 0 },
            logEvery: 1_000_000,
          },
          dir,
          `${cfg.output} round ${round} SFT`,
        );
        // An interrupted round starts over: its partial fine-tuning run is moved aside (round-K/sft.old-<time>).
        const r = new SftTrainer(sftCfg, { log, progress: false, overwrite: true }).run();
        studentDir = join(dir, 'sft', 'final');
        student = loadModel(studentDir);
        return { student: studentDir, sft_steps: r.steps };
      },
      evaluate: test.length
        ? (round) => ({ heldout_verified_rate: verifiedRate(student, tok, test, g.maxNewTokens, g.batchSize), round })
        : undefined,
    },
  );
  if (result.stopped) return { ...result, student: studentDir };
  saveModel(student, join(cfg.output, 'final'), { tokenizerFrom: tokDir });
  writeFileSync(
    join(cfg.output, 'summary.json'),
    `${JSON.stringify({ before: result.before, rounds: result.rounds, student: studentDir }, null, 2)}\n`,
  );
  return { ...result, student: studentDir };
}
