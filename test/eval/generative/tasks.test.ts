// The generative tasks end to end: exact request strings (context, stop sequences, generation kwargs) for sample
// rows, curated few-shot resolution (and its errors), and a full run through the runner with a backend that returns
// canned generations, checking per-doc metrics, files and the primary score.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CachingSource, LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { listTaskIds, planTasks } from '../../../src/eval/registry.ts';
import { dryRun, runEval } from '../../../src/eval/runner/run.ts';
import { DROP_DESCRIPTION } from '../../../src/eval/tasks/drop.ts';
import { STD_GSM8K } from '../../../src/eval/tasks/gsm8k.ts';
import { writeSplit } from '../fixtures.ts';
import { CannedBackend, gsm8kRow, writeGenerativeData } from './fixtures.ts';
import { assertRescoreIdentical } from '../rescore-check.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `olmo-gen-${p}-`));
const root = tmp('data');
writeGenerativeData(root, 6);
const source = () => new CachingSource(new LocalHfFolderSource(root));
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l));

async function requests(id: string) {
  const out = tmp('dry');
  const r = await dryRun({ tasks: [id], source: source(), outputDir: out });
  return lines(r.files[0]);
}

test('gsm8k::olmes: 8 Wei et al. shots, exact context, stop sequences and generation kwargs', async () => {
  const reqs = await requests('gsm8k::olmes');
  assert.equal(reqs.length, 6);
  const r0 = reqs[0];
  assert.equal(r0.request_type, 'generate_until');
  assert.equal(r0.task_name, 'gsm8k');
  assert.equal(r0.label, '5');
  assert.equal(r0.native_id, 0);
  const shots = STD_GSM8K.map((s) => `Question: ${s.question}\nAnswer: ${s.answer}`).join('\n\n');
  assert.equal(r0.request.context, `${shots}\n\nQuestion: ${gsm8kRow(0).question}\nAnswer:`);
  assert.ok(
    r0.request.context.startsWith(
      'Question: There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?\nAnswer: There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. So the answer is 6.\n\nQuestion: If there are 3 cars',
    ),
  );
  assert.ok(
    r0.request.context.includes(
      'So the answer is 8.\n\nQuestion: Tom has 2 apples and buys 3 more. How many apples does he have?\nAnswer:',
    ),
  );
  assert.equal((r0.request.context.match(/\nAnswer: /g) ?? []).length, 8);
  assert.deepEqual(r0.request.generation_kwargs, {
    max_gen_toks: 512,
    do_sample: false,
    temperature: 0,
    stop_sequences: ['Question:', '</s>', '<|im_end|>', '\n\n'],
  });
});

test('drop::olmes: description, curated shots resolved by query_id, passage/question format, targets', async () => {
  const reqs = await requests('drop::olmes');
  const r0 = reqs[0];
  assert.equal(r0.native_id, 'q-0');
  assert.equal(r0.label, '10');
  const expected =
    DROP_DESCRIPTION +
    'Passage: Lions passage.\nQuestion: How many field goals did the Lions score?\nAnswer: 2\n\n' +
    'Passage: Chiefs passage.\nQuestion: which player scored the longest field goal?\nAnswer: Nate Kaeding\n\n' +
    'Passage: Momchil passage.\nQuestion: When did Momchil defeat the Ottoman fleet near the Portogalos bay?\nAnswer: June 1344\n\n' +
    "Passage: John II passage.\nQuestion: What did one of John II's replacements do in captivity?\nAnswer: escaped captivity\n\n" +
    'Passage: Census passage.\nQuestion: How many more people were there than families?\nAnswer: 158203\n\n' +
    'Passage: Team 0 scored 10 points in the first half.\nQuestion: How many points did team 0 score?\nAnswer:';
  assert.equal(r0.request.context, expected);
  assert.ok(
    DROP_DESCRIPTION.startsWith('The following are reading comprehension questions, where the answer') &&
      DROP_DESCRIPTION.endsWith('reason over them.\n\n'),
  );
  assert.deepEqual(r0.request.generation_kwargs, {
    max_gen_toks: 100,
    do_sample: false,
    temperature: 0,
    stop_sequences: ['Passage:', 'Question:', '\n\n'],
  });
});

test('naturalqs::olmes and triviaqa::olmes: prompts, joined NQ targets, the OLMES "Waldo" edit', async () => {
  const nq = (await requests('naturalqs::olmes'))[0];
  assert.equal(nq.task_name, 'naturalqs_open');
  assert.equal(
    nq.request.context,
    'Question: which side of the white house is the front\nAnswer: North\n\n' +
      "Question: who's hosting the super bowl in 2019\nAnswer: Atlanta, Georgia\n\n" +
      'Question: what is the origin of the name cynthia\nAnswer: Greek\n\n' +
      'Question: who is the guy who voiced disney channel\nAnswer: "Buzz" Brainard, Cameron\n\n' +
      'Question: what is the size of the angles of an equilateral triangle\nAnswer: 60°\n\n' +
      'Question: who wrote book number 0\nAnswer:',
  );
  assert.deepEqual(nq.request.generation_kwargs, {
    max_gen_toks: 50,
    do_sample: false,
    temperature: 0,
    stop_sequences: ['Question:', 'Q:', '\n\n'],
  });
  const tq = (await requests('triviaqa::olmes'))[0];
  assert.equal(tq.native_id, 'ev_0');
  assert.equal(
    tq.request.context,
    'Question: From which country did Angola achieve independence in 1975?\nAnswer: Portugal\n\n' +
      'Question: In architecture, what is a lancet?\nAnswer: A window\n\n' +
      'Question: In which ocean is the island group the Maldives?\nAnswer: The Indian Ocean\n\n' +
      'Question: In the UK these books are called ‘Where’s Wally?’ What is his name in the USA?\nAnswer: Waldo\n\n' +
      'Question: The conflict between rival political factions the Girondins and the Jacobins, during the French Revolution, was known as The Reign of what?\nAnswer: Terror\n\n' +
      'Question: Which city is capital number 0?\nAnswer:',
  );
  assert.deepEqual(tq.request.generation_kwargs, {
    max_gen_toks: 50,
    do_sample: false,
    temperature: 0,
    stop_sequences: ['\n\n'],
  });
});

test('task ids: generative ids are listed, have no rc/mc format, and honour limits and regimes', () => {
  const ids = listTaskIds();
  for (const id of ['gsm8k::olmes', 'drop::olmes', 'naturalqs::olmes', 'triviaqa::olmes'])
    assert.ok(ids.includes(id), id);
  assert.throws(() => planTasks(['gsm8k:mc::olmes']), /generative task and has no :mc format/);
  const plan = planTasks(['drop::olmes', 'drop::olmes:full', 'gsm8k::olmes'], { limit: 3 });
  assert.deepEqual(
    plan.tasks.map((t) => [t.config.alias, t.config.limit]),
    [
      ['drop::olmes', 3],
      ['drop::olmes:full', 3],
      ['gsm8k::olmes', 3],
    ],
  );
  assert.equal(planTasks(['drop::olmes:full']).tasks[0].config.limit, null);
  assert.equal(planTasks(['naturalqs::olmes']).tasks[0].config.limit, 1000);
  assert.deepEqual(plan.suites, []);
});

test('a missing curated few-shot row is an error that names it, never a substitute', async () => {
  const bad = tmp('bad');
  writeGenerativeData(bad, 2);
  writeSplit(
    bad,
    'EleutherAI/drop',
    undefined,
    'train',
    [
      {
        section_id: 'x',
        query_id: 'nope',
        passage: 'p',
        question: 'q',
        answer: { number: '1', date: { day: '', month: '', year: '' }, spans: [] },
      },
    ],
    'jsonl',
  );
  await assert.rejects(
    dryRun({ tasks: ['drop::olmes'], source: new LocalHfFolderSource(bad), outputDir: tmp('o') }),
    /few-shot example 0 of OLMES:drop \(query_id="c9582e03-b01b-42ed-83e0-b90a5334aefa".*is not in EleutherAI\/drop split train/,
  );
  writeSplit(bad, 'openai/gsm8k', 'main', 'test', [{ question: 'q?', answer: 'no final answer' }]);
  await assert.rejects(
    dryRun({ tasks: ['gsm8k::olmes'], source: new LocalHfFolderSource(bad), outputDir: tmp('o') }),
    /openai\/gsm8k \(config main\) split test row 0: field "answer" has no "#### <number>"/,
  );
});

test('end to end with canned generations: per-doc metrics, predictions, primary scores', async () => {
  const out = tmp('run');
  // GSM8K: doc i answers 2i+5; docs 0–2 right (one with a trailing question that the stop sequence removes), 3–5 wrong.
  // DROP: "i+10" right for even docs; NQ: "Author i" for docs < 3, a partial "Author i Smith" otherwise; TriviaQA: right for i < 4.
  const backend = new CannedBackend((q, req) => {
    const n = Number(/\d+/.exec(q)?.[0] ?? -1);
    if (q.startsWith('Tom has')) {
      const i = n - 2;
      return i === 0
        ? ` 2 + 3 = 5. So the answer is 5.\n\nQuestion: what is 7 + 7?\nAnswer: 14`
        : i < 3
          ? ` So the answer is ${2 * i + 5}.`
          : ` So the answer is ${2 * i + 6}.`;
    }
    if (req.context.includes('Passage: Team')) {
      const i = Number(/team (\d+)/.exec(q)![1]);
      return i % 2 === 0 ? ` ${i + 10}` : ` ${i + 11} points`;
    }
    if (q.startsWith('who wrote book number')) return n < 3 ? ` Author ${n}` : ` Author ${n} Smith`;
    if (q.startsWith('Which city is capital number')) return n < 4 ? ` the city ${n}.` : ' Paris';
    throw new Error(`unexpected question ${q}`);
  });
  const r = await runEval({
    tasks: ['gsm8k::olmes', 'drop::olmes', 'naturalqs::olmes', 'triviaqa::olmes'],
    source: source(),
    outputDir: out,
    backend,
    batchSize: 4,
  });
  const score = Object.fromEntries(r.tasks.map((t) => [t.task_config.alias, t.metrics]));
  assert.equal(score['gsm8k::olmes'].primary_score, 0.5);
  assert.equal(score['gsm8k::olmes'].exact_match, 0.5);
  assert.equal(score['gsm8k::olmes'].exact_match_strict, 0); // lower-case "So the answer is"
  assert.equal(score['drop::olmes'].primary_score, 0.5); // f1 1 on even docs, 0 (number gate) on odd
  // NQ: docs 0–2 exact; docs 3–5 "Author i Smith" vs "Author i": p = 2/3, r = 1 → 0.8 (a bare "Author" would
  // score 0: the gold has a number the prediction lacks)
  assert.ok(Math.abs((score['naturalqs::olmes'].f1 as number) - (3 + 3 * 0.8) / 6) < 1e-12);
  assert.equal(score['naturalqs::olmes'].exact_match, 0.5);
  assert.ok(Math.abs((score['triviaqa::olmes'].primary_score as number) - 4 / 6) < 1e-12);
  // files: predictions carry the continuation, as generated and as scored
  const files = readdirSync(out);
  for (const f of [
    'task-000-gsm8k-predictions.jsonl',
    'task-001-drop-metrics.json',
    'task-002-naturalqs_open-requests.jsonl',
    'task-003-triviaqa-predictions.jsonl',
    'metrics.json',
  ])
    assert.ok(files.includes(f), f);
  const p0 = lines(join(out, 'task-000-gsm8k-predictions.jsonl'))[0];
  assert.equal(p0.model_output[0].scored_continuation, ' 2 + 3 = 5. So the answer is 5.');
  assert.ok(p0.model_output[0].continuation.endsWith('Answer: 14'));
  assert.deepEqual(p0.metrics, { exact_match: 1, exact_match_strict: 0, exact_match_flex: 1 });
  assert.equal(p0.label, '5');
  const m = JSON.parse(readFileSync(join(out, 'task-001-drop-metrics.json'), 'utf8'));
  assert.equal(m.task_config.primary_metric, 'f1');
  assert.deepEqual(m.task_config.generation_kwargs.stop_sequences, ['Passage:', 'Question:', '\n\n']);
  assert.equal(m.task_config.format, undefined);
  // a second run is served entirely from the request cache
  const again = await runEval({
    tasks: ['gsm8k::olmes', 'drop::olmes', 'naturalqs::olmes', 'triviaqa::olmes'],
    source: source(),
    outputDir: out,
    backend,
  });
  assert.equal(again.computed, 0);
  assert.deepEqual(
    again.tasks.map((t) => t.metrics),
    r.tasks.map((t) => t.metrics),
  );
  // rescore: each doc's answer fields come back from the saved doc, each continuation from raw_results
  await assertRescoreIdentical(out);
});
