// End-to-end runs with a deterministic fake backend: every output file, resume after an interruption with nothing
// recomputed/lost/duplicated, batch-size invariance, rescore equality, dry-run, progress, error paths.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalHfFolderSource, CachingSource } from '../../src/eval/data/source.ts';
import { RequestCache } from '../../src/eval/runner/cache.ts';
import { rescore } from '../../src/eval/runner/rescore.ts';
import { dryRun, runEval, type EvalProgress } from '../../src/eval/runner/run.ts';
import { planTasks } from '../../src/eval/registry.ts';
import { mcDocMetrics } from '../../src/eval/metrics.ts';
import { pyFormat6 } from '../../src/eval/runner/outputs.ts';
import { FakeBackend, fakeLoglikelihood, writeSyntheticData } from './fixtures.ts';
import { assertRescoreIdentical } from './rescore-check.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `olmo-eval-${p}-`));
const dataRoot = tmp('data');
writeSyntheticData(dataRoot, 12, ['anatomy', 'virology']);
const source = () => new CachingSource(new LocalHfFolderSource(dataRoot));
const TASKS = ['core_9mcqa::olmes', 'mmlu_anatomy::olmes', 'mmlu_virology:rc::olmes'];
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
const stripVolatile = (m: { tasks: { processing_time: unknown }[] }) => ({
  ...m,
  tasks: m.tasks.map((t) => ({ ...t, processing_time: 0 })),
});

test('a full run writes every oe-eval file with the right fields and a results table', async () => {
  const out = tmp('run');
  const backend = new FakeBackend();
  const printed: string[] = [];
  const progress: EvalProgress[] = [];
  const r = await runEval({
    tasks: TASKS,
    source: source(),
    outputDir: out,
    backend,
    batchSize: 7,
    log: (t) => printed.push(t),
    onProgress: (p) => progress.push(p),
  });
  const plan = planTasks(TASKS);
  assert.equal(r.tasks.length, plan.tasks.length);
  const files = readdirSync(out);
  for (const [i, t] of plan.tasks.entries()) {
    for (const suf of ['metrics.json', 'predictions.jsonl', 'requests.jsonl']) {
      assert.ok(
        files.includes(`task-${String(i).padStart(3, '0')}-${t.config.task_name}-${suf}`),
        `${t.config.alias} ${suf}`,
      );
    }
  }
  for (const f of ['metrics.json', 'metrics-all.jsonl', 'request-cache.jsonl']) assert.ok(files.includes(f), f);

  // per-task metrics.json
  const m0 = JSON.parse(readFileSync(join(out, 'task-000-arc_challenge-metrics.json'), 'utf8'));
  for (const k of [
    'task_name',
    'task_hash',
    'model_hash',
    'model_config',
    'task_config',
    'compute_config',
    'processing_time',
    'current_date',
    'num_instances',
    'metrics',
  ])
    assert.ok(k in m0, k);
  assert.equal(m0.task_config.metadata.alias, 'arc_challenge:mc::olmes');
  assert.equal(m0.num_instances, 12);
  assert.equal(m0.metrics.primary_score, m0.metrics.acc_raw);

  // predictions: one line per doc, recomputable from model_output
  const rcIdx = plan.tasks.findIndex((t) => t.config.alias === 'arc_challenge:rc::olmes');
  const preds = lines(join(out, `task-${String(rcIdx).padStart(3, '0')}-arc_challenge-predictions.jsonl`));
  assert.deepEqual(
    preds.map((p) => p.doc_id),
    [...Array(12).keys()],
  );
  const p0 = preds[0];
  for (const k of ['doc_id', 'native_id', 'metrics', 'model_output', 'label', 'task_hash', 'model_hash'])
    assert.ok(k in p0, k);
  assert.equal(p0.native_id, 'Synth_0');
  const reqs = lines(join(out, `task-${String(rcIdx).padStart(3, '0')}-arc_challenge-requests.jsonl`));
  assert.equal(reqs.length, 12 * 8); // 4 choices + 4 unconditioned
  const doc0 = reqs.filter((q) => q.doc_id === 0);
  const unc0 = reqs.filter((q) => q.doc_id === 1_000_000);
  const expected = mcDocMetrics(
    doc0.map((q, i) => ({
      ...((x) => ({ logprob: x.logprob, numTokens: x.numTokens }))(
        fakeLoglikelihood({ type: 'loglikelihood', context: q.request.context, continuation: q.request.continuation }),
      ),
      continuation: q.request.continuation,
      uncondLogprob: fakeLoglikelihood({
        type: 'loglikelihood',
        context: 'Answer:',
        continuation: unc0[i].request.continuation,
      }).logprob,
    })),
    0,
  );
  assert.deepEqual(p0.metrics, expected);
  assert.ok('acc_uncond' in p0.metrics);

  // run-level files
  const run = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.deepEqual(Object.keys(run), ['all_primary_scores', 'tasks', 'model_config']);
  const aliases = run.tasks.map((t: { alias: string }) => t.alias);
  for (const a of [
    'core_9mcqa::olmes',
    'arc_challenge::olmes',
    'mmlu_anatomy::olmes',
    'winogrande:rc::olmes',
    'mmlu_virology:rc::olmes',
  ])
    assert.ok(aliases.includes(a), a);
  const core = run.tasks.find((t: { alias: string }) => t.alias === 'core_9mcqa::olmes');
  const perTask = [
    'arc_challenge',
    'arc_easy',
    'boolq',
    'csqa',
    'hellaswag',
    'openbookqa',
    'piqa',
    'socialiqa',
    'winogrande',
  ].map((n) => {
    const mc = run.tasks.find((t: { alias: string }) => t.alias === `${n}:mc::olmes`).metrics.primary_score;
    const rc = run.tasks.find((t: { alias: string }) => t.alias === `${n}:rc::olmes`).metrics.primary_score;
    const s = run.tasks.find((t: { alias: string }) => t.alias === `${n}::olmes`).metrics;
    assert.equal(s.primary_score, Math.max(mc, rc));
    assert.equal(s.used_mc_or_rc, rc > mc ? `${n}:rc::olmes` : `${n}:mc::olmes`);
    return s.primary_score;
  });
  assert.ok(Math.abs(core.metrics.primary_score - perTask.reduce((a, b) => a + b, 0) / 9) < 1e-15);
  assert.ok(run.all_primary_scores.some((s: string) => /^core_9mcqa::olmes: \d/.test(s)));
  assert.equal(lines(join(out, 'metrics-all.jsonl')).length, plan.tasks.length + plan.suites.length);
  assert.match(printed.join(''), /core_9mcqa::olmes\s+macro\s+\d\.\d{4}/);
  assert.deepEqual(progress.at(-1), { phase: 'write', done: plan.tasks.length, total: plan.tasks.length });
  assert.ok(progress.some((p) => p.phase === 'model' && p.done === p.total && p.total > 0));

  // a second run over the same output directory computes nothing
  const again = new FakeBackend();
  const r2 = await runEval({ tasks: TASKS, source: source(), outputDir: out, backend: again });
  assert.equal(again.requests, 0);
  assert.equal(r2.computed, 0);
  assert.deepEqual(stripVolatile(r2.metrics), stripVolatile(r.metrics));
});

test('metrics do not depend on batch size', async () => {
  const a = await runEval({
    tasks: TASKS,
    source: source(),
    outputDir: tmp('b1'),
    backend: new FakeBackend(),
    batchSize: 3,
  });
  const b = await runEval({
    tasks: TASKS,
    source: source(),
    outputDir: tmp('b64'),
    backend: new FakeBackend(),
    batchSize: 64,
  });
  assert.deepEqual(a.metrics.all_primary_scores, b.metrics.all_primary_scores);
  assert.deepEqual(
    a.tasks.map((t) => t.metrics),
    b.tasks.map((t) => t.metrics),
  );
});

test('an interrupted run resumes: nothing recomputed, lost or duplicated; same metrics as a clean run', async () => {
  const clean = await runEval({
    tasks: TASKS,
    source: source(),
    outputDir: tmp('clean'),
    backend: new FakeBackend(),
    batchSize: 10,
  });
  const out = tmp('resume');
  const failing = new FakeBackend();
  failing.failAfterBatches = 5;
  await assert.rejects(
    runEval({ tasks: TASKS, source: source(), outputDir: out, backend: failing, batchSize: 10 }),
    /simulated interruption/,
  );
  assert.ok(!existsSync(join(out, 'metrics.json')), 'no final metrics after an interruption');
  const cachePath = join(out, 'request-cache.jsonl');
  assert.equal(lines(cachePath).length, 50);
  appendFileSync(cachePath, '{"k":"partial-line-from-a-cr'); // a write cut short by a crash
  const resumed = new FakeBackend();
  const r = await runEval({ tasks: TASKS, source: source(), outputDir: out, backend: resumed, batchSize: 10 });
  const unique = clean.computed;
  assert.equal(resumed.requests, unique - 50);
  assert.equal(r.cached + r.computed, unique);
  const keys = lines(cachePath).map((l) => l.k);
  assert.equal(keys.length, unique);
  assert.equal(new Set(keys).size, unique, 'no duplicate cache records');
  assert.deepEqual(
    r.tasks.map((t) => t.metrics),
    clean.tasks.map((t) => t.metrics),
  );
  for (const [i, t] of r.tasks.entries()) {
    const preds = lines(join(out, `task-${String(i).padStart(3, '0')}-${t.task_name}-predictions.jsonl`));
    assert.deepEqual(
      preds.map((p) => p.doc_id),
      [...Array(t.num_instances).keys()],
      t.task_config.alias,
    );
  }
});

test('rescore recomputes every metric from the saved records and gives the same metrics.json', async () => {
  const out = tmp('rescore');
  await runEval({ tasks: TASKS, source: source(), outputDir: out, backend: new FakeBackend() });
  const before = readFileSync(join(out, 'metrics.json'), 'utf8');
  const beforeTask = readFileSync(join(out, 'task-003-arc_easy-metrics.json'), 'utf8');
  const beforePreds = readFileSync(join(out, 'task-003-arc_easy-predictions.jsonl'), 'utf8');
  // corrupt the stored metrics so that equality proves recomputation
  const t = JSON.parse(beforeTask);
  writeFileSync(join(out, 'task-003-arc_easy-metrics.json'), JSON.stringify({ ...t, metrics: { primary_score: -1 } }));
  const run = await rescore(out);
  assert.equal(readFileSync(join(out, 'metrics.json'), 'utf8'), before);
  assert.equal(readFileSync(join(out, 'task-003-arc_easy-metrics.json'), 'utf8'), beforeTask);
  assert.equal(readFileSync(join(out, 'task-003-arc_easy-predictions.jsonl'), 'utf8'), beforePreds);
  assert.deepEqual(run, JSON.parse(before));
  await assert.rejects(rescore(tmp('empty')), /no task-NNN-\*-metrics\.json files/);
  // every file of every task (PMI, partial scoring, suites) byte-identical after wiping all stored metrics
  await assertRescoreIdentical(out);

  // a run written before predictions carried doc and raw_results: MC metrics come back from model_output
  for (const f of readdirSync(out).filter((x) => x.endsWith('-predictions.jsonl'))) {
    const stripped = lines(join(out, f)).map(
      ({ doc: _d, raw_results: _r, ...p }) => JSON.stringify({ ...p, metrics: {} }) + '\n',
    );
    writeFileSync(join(out, f), stripped.join(''));
  }
  writeFileSync(join(out, 'task-003-arc_easy-metrics.json'), JSON.stringify({ ...t, metrics: { primary_score: -1 } }));
  await rescore(out);
  assert.equal(readFileSync(join(out, 'metrics.json'), 'utf8'), before);
  assert.ok('raw_results' in lines(join(out, 'task-003-arc_easy-predictions.jsonl'))[0]); // rewritten in the current form
});

test('rescore errors name the file and what is missing', async () => {
  const out = tmp('rescore-bad');
  await runEval({ tasks: ['arc_easy:mc::olmes'], source: source(), outputDir: out, backend: new FakeBackend() });
  const preds = join(out, 'task-000-arc_easy-predictions.jsonl');
  const good = readFileSync(preds, 'utf8');
  writeFileSync(preds, good.split('\n').slice(0, 3).join('\n') + '\n');
  await assert.rejects(
    rescore(out),
    /task-000-arc_easy-predictions\.jsonl has 3 lines, metrics\.json says 12 instances/,
  );
  writeFileSync(
    preds,
    good
      .split('\n')
      .map((l) => (l ? JSON.stringify({ ...JSON.parse(l), raw_results: [] }) : l))
      .join('\n'),
  );
  await assert.rejects(rescore(out), /doc 0: 4 requests in requests\.jsonl but 0 saved results/);
  const m = join(out, 'task-000-arc_easy-metrics.json');
  writeFileSync(preds, good);
  writeFileSync(
    m,
    JSON.stringify({
      ...JSON.parse(readFileSync(m, 'utf8')),
      task_config: { ...JSON.parse(readFileSync(m, 'utf8')).task_config, alias: 'nope::olmes', format: undefined },
    }),
  );
  await assert.rejects(
    rescore(out),
    /task "nope::olmes" \(task_name arc_easy\) cannot be rebuilt from its saved config: .*unknown task "nope"/,
  );
});

test('dry run writes the requests files only, with every context and continuation', async () => {
  const out = tmp('dry');
  const r = await dryRun({ tasks: ['winogrande::olmes', 'boolq:rc::olmes'], source: source(), outputDir: out });
  assert.deepEqual(readdirSync(out).sort(), [
    'task-000-winogrande-requests.jsonl',
    'task-001-winogrande-requests.jsonl',
    'task-002-boolq-requests.jsonl',
  ]);
  const wg = lines(join(out, 'task-001-winogrande-requests.jsonl'));
  assert.equal(wg.length, 24);
  assert.equal(r.numRequests, 24 + 24 + 24);
  // 5 curated shots (completed sentences) then the option prefix
  const ctx: string = wg[0].request.context;
  assert.equal(ctx.split('\n\n').length, 6);
  assert.ok(ctx.startsWith('John moved the couch from the garage'));
  assert.ok(ctx.endsWith('\n\nThe trophy 0 did not fit in the suitcase because the trophy'));
  assert.equal(wg[0].request.continuation, ' was too big.');
  assert.equal(wg[1].request.context.slice(-8), 'suitcase');
});

test('clear errors: unknown task id, missing dataset, bad backend output; the cache is kept', async () => {
  await assert.rejects(
    runEval({ tasks: ['arc_esay::olmes'], source: source(), outputDir: tmp('x'), backend: new FakeBackend() }),
    /unknown task "arc_esay"/,
  );
  await assert.rejects(
    dryRun({ tasks: ['mmlu_astronomy:mc::olmes'], source: source(), outputDir: tmp('x') }),
    /cais\/mmlu \(config astronomy\) split test: folder|cais\/mmlu \(config astronomy\) split test: no data file/,
  );
  const out = tmp('bad');
  const bad = new FakeBackend();
  let n = 0;
  bad.loglikelihood = async (reqs) =>
    reqs.map((r) => ({ ...fakeLoglikelihood(r), logprob: ++n > 10 ? Number.NaN : -1 }));
  await assert.rejects(
    runEval({ tasks: ['piqa:rc::olmes'], source: source(), outputDir: out, backend: bad, batchSize: 10 }),
    /backend fake-length-model, loglikelihood request .*: log-prob must be a finite number, got null/,
  );
  const cache = RequestCache.open(join(out, 'request-cache.jsonl'));
  assert.equal(cache.size, 10);
  cache.close();
});

test("all_primary_scores use Python's f'{x:.6}' formatting", () => {
  assert.deepEqual([0.25, 1, 0.4074074074, 0, 0.00001234567].map(pyFormat6), [
    '0.25',
    '1.0',
    '0.407407',
    '0.0',
    '1.23457e-05',
  ]);
});
