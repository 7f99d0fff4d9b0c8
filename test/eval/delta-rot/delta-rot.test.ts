// δ-RoT (OUR protocol): the pandas-style TSV reader, the generation task with diversity measures, a critic judge
// through a second backend, the critic's calibration against human labels; self-made rows in the real columns;
// bad rows name file:line. Real samples are used when the shared folder holds TSV rows (skipped otherwise).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { planTasks } from '../../../src/eval/registry.ts';
import { runEval } from '../../../src/eval/runner/run.ts';
import { distinctN } from '../../../src/eval/correlation.ts';
import { runDeltaRotJudged } from '../../../src/eval/tasks/delta-rot/pipeline.ts';
import {
  criticGoldRow,
  generationPrompt,
  parseGeneration,
  parseJudgement,
} from '../../../src/eval/tasks/delta-rot/tasks.ts';
import { parseTsv, readTsv } from '../../../src/eval/tasks/delta-rot/tsv.ts';
import { sampleDir, ScriptedBackend, tmp } from '../digital-socrates/fake-backend.ts';
import { assertRescoreAllIdentical, assertRescoreIdentical } from '../rescore-check.ts';

const SAMPLES = sampleDir('delta-rot');
const sampleTsvs = SAMPLES.skip ? [] : readdirSync(SAMPLES.dir).filter((f) => f.endsWith('.tsv'));
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));

test(
  'shared δ-RoT sample rows parse in the critic-gold schema',
  {
    skip:
      SAMPLES.skip ||
      (sampleTsvs.length === 0 &&
        `no δ-RoT sample rows in ${SAMPLES.dir} (README only: HF LFS files were not reachable)`),
  },
  () => {
    for (const f of sampleTsvs) {
      const rows = readTsv(path.join(SAMPLES.dir, f));
      assert.ok(rows.length > 0, f);
      for (const r of rows) criticGoldRow(r, `${f}:${r.__line}`);
    }
  },
);

test('TSV as pandas writes it: index column, quoted fields with tabs, newlines and doubled quotes; errors name file:line', () => {
  const text =
    '\taction\tmoral-variance\tcontext\n0\tlie\t-1\t"he said ""hi""\tthen\nleft"\n1\ttell a joke\t1\tat a party\n';
  const rows = parseTsv(text, 'x.tsv');
  assert.deepEqual(rows, [
    { __line: 2, 'Unnamed: 0': '0', action: 'lie', 'moral-variance': '-1', context: 'he said "hi"\tthen\nleft' },
    { __line: 4, 'Unnamed: 0': '1', action: 'tell a joke', 'moral-variance': '1', context: 'at a party' },
  ]);
  assert.throws(() => parseTsv('a\tb\n1\t2\n3\n', 'bad.tsv'), /bad\.tsv:3: 1 fields, but the header has 2/);
  assert.throws(() => parseTsv('a\tb\n1\t"open\n', 'q.tsv'), /q\.tsv:2: unterminated quoted field/);
  assert.throws(() => parseTsv('', 'e.tsv'), /e\.tsv: empty file/);
});

test('generation prompt and parsing (ours); judge answers parsed or reported', () => {
  const p = generationPrompt('lie to a friend', -1, [
    { action: 'help', direction: 1, context: 'a neighbour is sick', rationale: 'kindness' },
  ]);
  assert.ok(
    p.endsWith(
      'Action: help\nDirection: more acceptable\nContext: a neighbour is sick\nRationale: kindness\n\nAction: lie to a friend\nDirection: less acceptable\nContext:',
    ),
  );
  assert.deepEqual(parseGeneration(' to hide a theft\nRationale: it covers a crime'), {
    context: 'to hide a theft',
    rationale: 'it covers a crime',
  });
  assert.deepEqual(parseGeneration(' only a context'), { context: 'only a context', rationale: null });
  assert.deepEqual(parseGeneration('   '), { context: null, rationale: null });
  assert.deepEqual(parseJudgement('Valid: yes\nDirection: less'), { ok: true, valid: true, direction: -1 });
  assert.deepEqual(parseJudgement('Valid: maybe\nDirection: less'), { ok: false, errors: ['no "Valid:" answer'] });
  assert.deepEqual(parseJudgement('Valid: yes\nValid: no\nDirection: more'), {
    ok: false,
    errors: ['conflicting "Valid:" answers yes, no'],
  });
  assert.equal(distinctN(['a b a b', 'a b c'], 2), 3 / 5);
});

// self-made critic-gold-data.tsv rows (real columns, written as pandas does, with its index column)
const HEADER = ['', 'action', 'moral-variance', 'context', 'rationale', 'context-quality', 'split'];
const GOLD: (string | number)[][] = [
  ['help a neighbour', 1, 'the neighbour is ill', 'care for the vulnerable', 1, 'train'],
  ['skip work', -1, 'a deadline depends on you', 'others rely on you', 1, 'train'],
  ['skip work', 1, 'your child is in hospital', 'family comes first', 1, 'test'],
  ['skip work', -1, 'to watch TV', 'it is lazy', 1, 'test'],
  ['lie to a friend', -1, 'to hide "a theft"', 'covering a crime', 0, 'test'],
  ['lie to a friend', -1, 'duplicate action and direction', 'x', 1, 'test'],
];
function writeGold(rows = GOLD): string {
  const root = tmp('drot');
  const dir = path.join(root, 'kavelrao', 'd-Rules-of-Thumb');
  mkdirSync(dir, { recursive: true });
  const esc = (v: string | number) =>
    typeof v === 'string' && /["\t\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v);
  writeFileSync(
    path.join(dir, 'critic-gold-data.tsv'),
    [HEADER.join('\t'), ...rows.map((r, i) => [i, ...r].map(esc).join('\t'))].join('\n') + '\n',
  );
  return root;
}

const generator = () =>
  new ScriptedBackend('fake-generator', (r) => {
    const j = r.generation_kwargs.sample_index as number;
    if (r.context.endsWith('Action: lie to a friend\nDirection: less acceptable\nContext:'))
      return j === 0 ? ' no rationale here' : ' to cover a crime\nRationale: it protects a thief';
    if (r.context.endsWith('Direction: more acceptable\nContext:'))
      return ` your child is ill ${j}\nRationale: family first`;
    return ' you promised to help\nRationale: others rely on you';
  });
// the judge: valid unless the context mentions "promised"; direction from words in the context
const judge = () =>
  new ScriptedBackend('fake-judge', (r) => {
    const ctx = /Context: (.*)/.exec(r.context)![1];
    if (ctx.includes('crime')) return 'I cannot tell.';
    return `Valid: ${ctx.includes('promised') ? 'no' : 'yes'}\nDirection: ${/ill|family|hospital/.test(ctx) ? 'more' : 'less'}`;
  });

test('delta_rot generation: test-split (action, direction) pairs, samples, format rate and diversity; resume', async () => {
  const root = writeGold();
  const out = tmp('drot-gen');
  const r = await runEval({
    tasks: ['delta_rot'],
    source: new LocalHfFolderSource(root),
    outputDir: out,
    backend: generator(),
  });
  const t = r.tasks[0];
  assert.equal(t.num_instances, 3); // (skip work, +1), (skip work, −1), (lie to a friend, −1)
  assert.equal(r.computed, 9); // 3 samples each, distinct by sample_index
  const m = t.metrics as Record<string, number>;
  assert.equal(m.format_rate, (1 + 1 + 2 / 3) / 3);
  assert.equal(m.format_rate_weakener, (1 + 2 / 3) / 2);
  assert.equal(m.primary_score, m.format_rate);
  assert.equal(m.generated_contexts, 8);
  assert.equal(m.unique_context_rate, (1 + 1 / 3 + 1 / 2) / 3);
  const reqs = lines(path.join(out, 'task-000-delta_rot-requests.jsonl'));
  assert.ok(
    reqs[0].request.context.includes(
      'Action: help a neighbour\nDirection: more acceptable\nContext: the neighbour is ill\nRationale: care for the vulnerable\n\nAction: skip work\nDirection: less acceptable\nContext: a deadline depends on you',
    ),
  );
  assert.equal(String((t.task_config as unknown as Record<string, unknown>).protocol).startsWith('ours'), true);
  const again = await runEval({
    tasks: ['delta_rot'],
    source: new LocalHfFolderSource(root),
    outputDir: out,
    backend: new ScriptedBackend('fake-generator', () => assert.fail('recomputed')),
  });
  assert.equal(again.computed, 0);
  await assertRescoreIdentical(out); // corpus diversity included
});

test('judged δ-RoT: a second backend judges validity and direction; unparseable generations and judgements count as invalid', async () => {
  const root = writeGold();
  const out = tmp('drot-judged');
  const res = await runDeltaRotJudged({
    generator: generator(),
    judge: judge(),
    source: new LocalHfFolderSource(root),
    outputDir: out,
  });
  assert.ok(existsSync(path.join(out, 'generation', 'task-000-delta_rot-metrics.json')));
  assert.ok(existsSync(path.join(out, 'judge', 'task-000-delta_rot_judge-predictions.jsonl')));
  assert.equal(res.items.length, 9);
  const m = res.judge.tasks[0].metrics as Record<string, number>;
  // strengthener: 3 valid "more" → 3/3; weakener (skip work): "promised" → invalid ×3; (lie): 1 unparseable generation, 2 judge non-answers
  assert.equal(m.valid_and_direction_strengthener, 1);
  assert.equal(m.valid_and_direction_weakener, 0);
  assert.equal(m.valid_and_direction, 3 / 9);
  assert.equal(m.primary_score, 3 / 9);
  assert.equal(m.judged, 8 / 9);
  assert.equal(m.judge_parsed, 6 / 8);
  assert.equal(m.direction_match, 1);
  assert.equal((res.judge.tasks[0].task_config as unknown as Record<string, unknown>).generator, 'fake-generator');
  // both stages rescore from their saved records (the judge stage is rebuilt from its config, its docs from the file)
  await assertRescoreAllIdentical(out, 2);
});

test('delta_rot_critic_gold: the judge against the human context-quality labels (test split)', async () => {
  const root = writeGold();
  const cgOut = tmp('drot-cg');
  const r = await runEval({
    tasks: ['delta_rot_critic_gold'],
    source: new LocalHfFolderSource(root),
    outputDir: cgOut,
    backend: judge(),
  });
  await assertRescoreIdentical(cgOut);
  const m = r.tasks[0].metrics as Record<string, number>;
  // test rows: hospital (+1, label 1) → valid more ✓; TV (−1, 1) → valid less ✓; theft (−1, 0) → valid less ✗; duplicate (−1, 1) → valid less ✓
  assert.equal(r.tasks[0].num_instances, 4);
  assert.equal(m.accuracy, 3 / 4);
  assert.equal(m.judge_parsed, 1);
  assert.equal(m.precision_valid, 3 / 4);
  assert.equal(m.recall_valid, 1);
  assert.equal(m.label_valid_rate, 3 / 4);
});

test('bad δ-RoT data: errors name the file and line; missing data says how to fetch it', async () => {
  const backend = new ScriptedBackend('x', () => '');
  const bad = writeGold([...GOLD.slice(0, 3), ['steal', 2, 'c', 'r', 1, 'test']]);
  await assert.rejects(
    runEval({ tasks: ['delta_rot'], source: new LocalHfFolderSource(bad), outputDir: tmp('drot-bad'), backend }),
    /critic-gold-data\.tsv:5: field "moral-variance" must be 1 or -1, got "2"/,
  );
  const badq = writeGold([...GOLD.slice(0, 3), ['steal', 1, 'c', 'r', 'yes', 'test']]);
  await assert.rejects(
    runEval({
      tasks: ['delta_rot_critic_gold'],
      source: new LocalHfFolderSource(badq),
      outputDir: tmp('drot-badq'),
      backend,
    }),
    /critic-gold-data\.tsv:5: field "context-quality" must be 0 or 1/,
  );
  await assert.rejects(
    runEval({
      tasks: ['delta_rot'],
      source: new LocalHfFolderSource(tmp('drot-none')),
      outputDir: tmp('drot-none-out'),
      backend,
    }),
    /critic-gold-data\.tsv not found.*huggingface-cli download --repo-type dataset kavelrao\/d-Rules-of-Thumb/s,
  );
  assert.throws(() => planTasks(['delta_rot:mc']), /no :mc format/);
  assert.deepEqual(
    planTasks(['delta_rot', 'delta_rot_critic_gold::olmes:full']).tasks.map((t) => [t.config.alias, t.config.limit]),
    [
      ['delta_rot::olmes', 1000],
      ['delta_rot_critic_gold::olmes:full', null],
    ],
  );
});
