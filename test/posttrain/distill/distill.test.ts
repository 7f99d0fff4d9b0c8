// Iterative self-distillation: round bookkeeping with a fake generator and critic (yield, critic scores,
// near-duplicate removal, what the student is trained on), the n-gram Jaccard filter, the verifier critic, and one
// end-to-end round on a tiny model with the model critic and the SFT stage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dedupeByJaccard,
  jaccard,
  ngrams,
  resolveDistillConfig,
  runDistill,
  runDistillLoop,
  readDistillResume,
  VerifierCritic,
  type Critic,
  type CriticItem,
  type DistillPrompt,
} from '../../../src/posttrain/distill/index.ts';
import { initModel, parseConfig, saveModel } from '../../../src/models/index.ts';
import { truncatedNormalInit } from '../../../src/nn/index.ts';
import { Generator } from '../../../src/tensor/index.ts';
import type { ChatMessage } from '../../../src/tokenizers/index.ts';
import { tinyTokenizerJson } from '../../tokenizers/tiny-tokenizer.ts';

/** Scores a completion by whether it contains "good" (1) or not (0), and records what it saw. */
class FakeCritic implements Critic {
  readonly name = 'fake';
  seen: CriticItem[][] = [];
  score(items: readonly CriticItem[]): number[] {
    this.seen.push([...items]);
    return items.map((it) => (it.completion.includes('good') ? 0.9 : 0.1));
  }
}

const prompts: DistillPrompt[] = [
  { id: 'a', messages: [{ role: 'user', content: 'prompt A' }] },
  { id: 'b', messages: [{ role: 'user', content: 'prompt B' }] },
];

describe('distillation rounds (fake generator and critic)', () => {
  it('records yield and critic scores, drops near-duplicates, trains on what was kept', () => {
    const out = mkdtempSync(join(tmpdir(), 'distill-'));
    const critic = new FakeCritic();
    const trained: { round: number; examples: { messages: ChatMessage[] }[] }[] = [];
    const gens: Record<number, string[][]> = {
      // Round 1: A has two valid near-identical answers (one is dropped) and one invalid; B one valid, one invalid.
      1: [
        ['a good answer about cats and dogs', 'a good answer about cats and dogs!', 'bad'],
        ['good reply for B here', 'nope'],
      ],
      // Round 2: nothing valid at all → no fine-tuning.
      2: [['bad', 'worse'], ['nope']],
      // Round 3: everything valid and distinct.
      3: [['good one'], ['good two', 'good three entirely different']],
    };
    let evals = 0;
    const r = runDistillLoop(
      {
        rounds: 3,
        prompts,
        critic,
        threshold: 0.5,
        diversity: { n: 3, threshold: 0.7, scope: 'prompt' },
        trainOn: 'round',
        output: out,
      },
      {
        generate: (round) => gens[round],
        finetune: (round, examples) => {
          trained.push({ round, examples: [...examples] });
          return { student: `student-${round}` };
        },
        evaluate: (round) => ({ score: round * 10, calls: ++evals }),
      },
    );
    assert.equal(r.rounds.length, 3);
    const [r1, r2, r3] = r.rounds;
    assert.deepEqual(
      {
        candidates: r1.candidates,
        valid: r1.valid,
        duplicates: r1.duplicates,
        kept: r1.kept,
        trained_on: r1.trained_on,
      },
      { candidates: 5, valid: 3, duplicates: 1, kept: 2, trained_on: 2 },
    );
    assert.equal(r1.yield, 2 / 5);
    assert.equal(r1.valid_rate, 3 / 5);
    assert.ok(Math.abs(r1.critic_mean - (0.9 * 3 + 0.1 * 2) / 5) < 1e-12);
    assert.ok(Math.abs(r1.critic_mean_kept - 0.9) < 1e-12);
    assert.deepEqual(r1.finetune, { student: 'student-1' });
    assert.deepEqual(
      { kept: r2.kept, yield: r2.yield, trained_on: r2.trained_on, finetune: r2.finetune },
      { kept: 0, yield: 0, trained_on: 0, finetune: undefined },
    );
    assert.deepEqual(
      { kept: r3.kept, yield: r3.yield, duplicates: r3.duplicates },
      { kept: 3, yield: 1, duplicates: 0 },
    );
    // Fine-tuning saw exactly the kept conversations (prompt + assistant completion), rounds 1 and 3 only.
    assert.deepEqual(
      trained.map((t) => t.round),
      [1, 3],
    );
    assert.deepEqual(trained[0].examples, [
      {
        messages: [
          { role: 'user', content: 'prompt A' },
          { role: 'assistant', content: 'a good answer about cats and dogs' },
        ],
      },
      {
        messages: [
          { role: 'user', content: 'prompt B' },
          { role: 'assistant', content: 'good reply for B here' },
        ],
      },
    ]);
    // The critic saw every candidate with its prompt.
    assert.equal(critic.seen[0].length, 5);
    assert.equal(critic.seen[0][3].prompt[0].content, 'prompt B');
    // Before (round 0) and after each round.
    assert.deepEqual(r.before, { score: 0, calls: 1 });
    assert.deepEqual(r3.eval, { score: 30, calls: 4 });
    // Files: rounds.jsonl (round 0 eval + 3 rounds), candidates with scores and flags, kept rows.
    const lines = readFileSync(join(out, 'rounds.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { round: number; yield?: number });
    assert.deepEqual(
      lines.map((l) => l.round),
      [0, 1, 2, 3],
    );
    assert.equal(lines[1].yield, 0.4);
    const cands = readFileSync(join(out, 'round-1', 'candidates.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kept: boolean; valid: boolean; score: number });
    assert.deepEqual(
      cands.map((c) => [c.valid, c.kept]),
      [
        [true, true],
        [true, false],
        [false, false],
        [true, true],
        [false, false],
      ],
    );
    assert.equal(readFileSync(join(out, 'round-2', 'kept.jsonl'), 'utf8'), '');
  });

  it("'all' trains on everything kept so far; 'global' dedupes across prompts", () => {
    const trained: number[] = [];
    const same = 'good identical text for both prompts';
    runDistillLoop(
      {
        rounds: 2,
        prompts,
        critic: new FakeCritic(),
        threshold: 0.5,
        diversity: { n: 3, threshold: 0.7, scope: 'global' },
        trainOn: 'all',
        output: null,
      },
      {
        generate: (round) => (round === 1 ? [[same], [same]] : [['good new one'], ['bad']]),
        finetune: (_round, examples) => (trained.push(examples.length), {}),
      },
    );
    // Round 1: the second copy is a global duplicate → 1 kept; round 2 adds 1 → 2 in the pool.
    assert.deepEqual(trained, [1, 2]);
  });

  it('stops between rounds and, resumed, ends with the records of an uninterrupted run', () => {
    const gens: Record<number, string[][]> = {
      1: [['good a1'], ['good b1']],
      2: [['good a2', 'bad'], ['nope']],
      3: [['good a3'], ['good b3 other']],
    };
    const options = (output: string) => ({
      rounds: 3,
      prompts,
      critic: new FakeCritic(),
      threshold: 0.5,
      diversity: { n: 3, threshold: 0.7, scope: 'prompt' as const },
      trainOn: 'all' as const,
      output,
    });
    const run = (output: string, hooksExtra: { onFinetune?: (round: number) => void } = {}, more: object = {}) => {
      const trained: number[] = [];
      const r = runDistillLoop(
        { ...options(output), ...more },
        {
          generate: (round) => gens[round],
          finetune: (round, examples) => (
            trained.push(examples.length),
            hooksExtra.onFinetune?.(round),
            { student: `student-${round}` }
          ),
          evaluate: (round) => ({ score: round }),
        },
      );
      return { r, trained };
    };
    const whole = mkdtempSync(join(tmpdir(), 'distill-whole-'));
    const uninterrupted = run(whole);
    const parts = mkdtempSync(join(tmpdir(), 'distill-parts-'));
    const stop = new AbortController();
    const first = run(parts, { onFinetune: (round) => round === 2 && stop.abort() }, { signal: stop.signal });
    assert.equal(first.r.stopped, true);
    assert.deepEqual(
      first.r.rounds.map((x) => x.round),
      [1, 2],
      'the round in progress is finished, the next one not started',
    );
    const pool = readFileSync(join(parts, 'round-2', 'kept.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { messages: ChatMessage[] });
    const second = run(parts, {}, { resume: { rounds: first.r.rounds, before: first.r.before, pool } });
    assert.equal(second.r.stopped, false);
    assert.deepEqual(second.r, uninterrupted.r);
    assert.deepEqual([...first.trained, ...second.trained], uninterrupted.trained);
    assert.equal(readFileSync(join(parts, 'rounds.jsonl'), 'utf8'), readFileSync(join(whole, 'rounds.jsonl'), 'utf8'));
  });

  it('a resume reads the completed rounds back and names what is missing or out of order', () => {
    const out = mkdtempSync(join(tmpdir(), 'distill-resume-'));
    assert.throws(
      () => readDistillResume(out, join(out, 'student'), 'round'),
      /rounds\.jsonl not found; nothing to resume/,
    );
    const student = join(out, 'round-1', 'sft', 'final');
    mkdirSync(student, { recursive: true });
    writeFileSync(join(student, 'config.json'), '{}');
    writeFileSync(
      join(out, 'round-1', 'kept.jsonl'),
      `${JSON.stringify({
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: 'a' },
        ],
      })}\n`,
    );
    writeFileSync(
      join(out, 'rounds.jsonl'),
      [
        { round: 0, eval: { score: 0 } },
        { round: 1, kept: 1, finetune: { student } },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    const r = readDistillResume(out, join(out, 'student'), 'all');
    assert.deepEqual(
      { rounds: r.rounds.length, before: r.before, student: r.student, pool: r.pool.length },
      { rounds: 1, before: { score: 0 }, student, pool: 1 },
    );
    writeFileSync(
      join(out, 'rounds.jsonl'),
      [{ round: 1, finetune: { student } }, { round: 3 }].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    assert.throws(
      () => readDistillResume(out, join(out, 'student'), 'round'),
      /line for round 3 where round 2 was expected/,
    );
    writeFileSync(
      join(out, 'rounds.jsonl'),
      `${JSON.stringify({ round: 1, finetune: { student: join(out, 'gone') } })}\n`,
    );
    assert.throws(
      () => readDistillResume(out, join(out, 'student'), 'round'),
      /the student of round 1 \(.*gone\) is missing/,
    );
  });

  it('rejects a generator or critic that returns the wrong number of items', () => {
    assert.throws(
      () =>
        runDistillLoop(
          {
            rounds: 1,
            prompts,
            critic: new FakeCritic(),
            threshold: 0.5,
            diversity: { n: 3, threshold: 0.7, scope: 'prompt' },
            trainOn: 'round',
            output: null,
          },
          { generate: () => [['x']], finetune: () => ({}) },
        ),
      /returned 1 candidate lists for 2 prompts/,
    );
  });
});

describe('diversity filter', () => {
  it('n-grams and Jaccard by hand', () => {
    assert.deepEqual([...ngrams('The cat sat on the mat', 2)], ['the cat', 'cat sat', 'sat on', 'on the', 'the mat']);
    assert.deepEqual([...ngrams('Hi there', 3)], ['hi there']);
    // {a b, b c} vs {b c, c d}: 1 shared of 3.
    assert.ok(Math.abs(jaccard(ngrams('a b c', 2), ngrams('b c d', 2)) - 1 / 3) < 1e-12);
    assert.equal(jaccard(new Set(), new Set()), 1);
  });
  it('keeps the first of near-duplicates, in order', () => {
    const texts = [
      'the quick brown fox jumps',
      'the quick brown fox jumps!',
      'a completely different sentence here',
      'THE QUICK BROWN FOX JUMPS',
    ];
    assert.deepEqual(dedupeByJaccard(texts, { n: 2, threshold: 0.7 }), [0, 2]);
    // Threshold 1: only exact n-gram-set duplicates (case-insensitive) are dropped.
    assert.deepEqual(dedupeByJaccard(texts, { n: 2, threshold: 1 }), [0, 1, 2]);
  });
});

describe('critics', () => {
  it('the verifier critic scores with the row verifier', () => {
    const c = new VerifierCritic();
    assert.deepEqual(
      c.score([
        { prompt: [], completion: 'The answer is 4.', groundTruth: '4', verifier: 'gsm8k' },
        { prompt: [], completion: 'The answer is 5.', groundTruth: '4', verifier: 'gsm8k' },
      ]),
      [1, 0],
    );
    assert.throws(() => c.score([{ prompt: [], completion: 'x' }]), /no verifier name/);
  });
});

describe('olmo distill end to end (tiny model)', () => {
  it('runs a round: model critic, SFT of the student, files and summary', () => {
    const root = mkdtempSync(join(tmpdir(), 'distill-e2e-'));
    const tokDir = join(root, 'tok');
    mkdirSync(tokDir);
    writeFileSync(join(tokDir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    writeFileSync(
      join(tokDir, 'tokenizer_config.json'),
      JSON.stringify({ eos_token: '<|endoftext|>', pad_token: '<|padding|>' }),
    );
    const cfg = parseConfig(
      {
        model_type: 'olmo2',
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        vocab_size: 268,
        max_position_embeddings: 128,
        eos_token_id: 0,
        pad_token_id: 1,
      },
      'tiny',
    );
    const model = initModel(cfg, truncatedNormalInit(new Generator(1), 0.02));
    saveModel(model, join(root, 'student'), { tokenizerFrom: tokDir });
    writeFileSync(
      join(root, 'prompts.jsonl'),
      ['hello', 'world']
        .map((w) => JSON.stringify({ messages: [{ role: 'user', content: w }], ground_truth: '4', dataset: 'gsm8k' }))
        .join('\n'),
    );
    const dcfg = resolveDistillConfig(
      {
        output: 'run',
        student: 'student',
        data: { prompts: 'prompts.jsonl', test: 'prompts.jsonl' },
        rounds: 1,
        candidatesPerPrompt: 3,
        generation: { maxNewTokens: 6, temperature: 1 },
        // The tiny model judges itself; threshold 0 keeps every non-empty candidate.
        critic: { type: 'model', model: 'student', threshold: 0 },
        diversity: { n: 1, threshold: 1 },
        sft: { lr: 1e-3, batchSize: 4, microBatchSize: 2 },
      },
      root,
    );
    const r = runDistill(dcfg, { log: () => {} });
    const rec = r.rounds[0];
    assert.equal(rec.candidates, 6);
    assert.ok(rec.critic_mean > 0 && rec.critic_mean < 1, `critic mean ${rec.critic_mean}`);
    assert.equal(rec.kept, rec.valid);
    assert.ok(rec.kept > 0, 'threshold 0 keeps the non-empty candidates');
    assert.equal(rec.trained_on, rec.kept);
    assert.equal(r.student, join(root, 'run', 'round-1', 'sft', 'final'));
    assert.ok(existsSync(join(r.student, 'config.json')));
    assert.ok(existsSync(join(root, 'run', 'round-1', 'sft', 'metrics.jsonl')));
    assert.ok(existsSync(join(root, 'run', 'final', 'config.json')));
    assert.ok(existsSync(join(root, 'run', 'summary.json')));
    assert.equal(typeof rec.eval?.heldout_verified_rate, 'number');

    // Two rounds stopped after the first, then resumed, give the rounds of an uninterrupted two-round run.
    const twoRounds = (output: string) => ({ ...dcfg, rounds: 2, output: join(root, output) });
    const whole = runDistill(twoRounds('whole'), { log: () => {} });
    const stop = new AbortController();
    const first = runDistill(twoRounds('parts'), {
      log: (l) => l.startsWith('round 1/') && stop.abort(),
      signal: stop.signal,
    });
    assert.equal(first.stopped, true);
    assert.ok(!existsSync(join(root, 'parts', 'final')), 'a stopped run writes no final student');
    const resumed = runDistill(twoRounds('parts'), { log: () => {}, resume: true });
    assert.equal(resumed.stopped, false);
    const strip = (rs: typeof whole.rounds) =>
      rs.map(({ finetune, ...rest }) => ({ ...rest, sft_steps: finetune?.sft_steps }));
    assert.deepEqual(strip(resumed.rounds), strip(whole.rounds));
    assert.equal(resumed.student, join(root, 'parts', 'round-2', 'sft', 'final'));
    assert.ok(existsSync(join(root, 'parts', 'final', 'config.json')));
  });
});
