// `olmo eval` end to end on the synthetic corpus's MC tasks: every output file with the local backend, provenance,
// progress lines, resume from the cache, --rescore, --dry-run, --list-tasks, usage errors; the same run through
// --openai against a loopback server (real log-probs from the same model) gives identical metrics; an unreachable
// server is named and a failing run keeps its cache.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/command.ts';
import { evalCommand } from '../../src/cli/eval.ts';
import { EvalProgressPrinter } from '../../src/cli/eval-progress.ts';
import { synthesize } from '../../src/data/index.ts';
import { loadModel } from '../../src/models/index.ts';
import { setBackend } from '../../src/tensor/index.ts';
import { loadTokenizer } from '../../src/tokenizers/index.ts';
import { startFakeOpenAIServer, type FakeServer } from '../eval/backends/fake-openai-server.ts';
import { tinyCheckpoint, tmp } from '../eval/backends/helpers.ts';

const RUNNER = join(import.meta.dirname, 'eval-cli.ts');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `olmo eval ARGS` in a child process (async, so a server in this process can answer it). */
function olmoEval(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    // js kernels: the loopback server's one-pass log-probs equal the in-process prefill + continuation exactly
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, ...args], {
      env: { ...process.env, OLMO_BACKEND: 'js', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

setBackend('js');
const ckpt = tinyCheckpoint();
const synthDir = tmp('synth');
await synthesize({ outDir: synthDir, scale: 0.01, tokenize: false, workers: 1 });
const TASKS = 'synth_world,synth_arith:mc';
const common = ['--tasks', TASKS, '--data-dir', synthDir, '--limit', '3', '--num-shots', '0', '--batch-size', '5'];
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const taskMetrics = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^task-\d{3}-.*-metrics\.json$/.test(f))
    .sort()
    .map((f) => [f, readJson(join(dir, f)).metrics]);
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

const localOut = tmp('eval-local');
let localRun: Result;

test('the synthetic corpus writes ARC-schema MC tasks with train/test splits', () => {
  for (const name of ['synth_world', 'synth_arith']) {
    for (const split of ['train', 'test']) {
      const rows = lines(join(synthDir, 'eval', name, `${split}.jsonl`)).map((l) => JSON.parse(l));
      assert.ok(rows.length > 5);
      assert.deepEqual(Object.keys(rows[0]).sort(), ['answerKey', 'choices', 'id', 'question']);
      assert.deepEqual(rows[0].choices.label, ['A', 'B', 'C', 'D']);
    }
  }
});

test('olmo eval --model: every output file, results table, provenance, plain progress lines', async () => {
  localRun = await olmoEval(['--model', ckpt, '--output', localOut, ...common]);
  assert.equal(localRun.code, 0, localRun.stderr);
  const files = readdirSync(localOut);
  const expected = ['synth_world', 'synth_world', 'synth_arith'].flatMap((n, i) =>
    ['metrics.json', 'predictions.jsonl', 'requests.jsonl'].map((s) => `task-00${i}-${n}-${s}`),
  );
  for (const f of [...expected, 'metrics.json', 'metrics-all.jsonl', 'request-cache.jsonl'])
    assert.ok(files.includes(f), f);
  const m0 = readJson(join(localOut, 'task-000-synth_world-metrics.json'));
  assert.equal(m0.task_config.alias, 'synth_world:mc::olmes');
  assert.equal(m0.num_instances, 3);
  assert.equal(
    m0.compute_config.package_version,
    readJson(join(import.meta.dirname, '..', '..', 'package.json')).version,
  );
  assert.ok('git_commit' in m0.compute_config);
  assert.equal(m0.compute_config.batch_size, 5);
  assert.equal(m0.model_config.backend, 'local');
  const run = readJson(join(localOut, 'metrics.json'));
  assert.ok(run.tasks.some((t: { alias: string }) => t.alias === 'synth_world::olmes'));
  for (const alias of ['synth_world:mc::olmes', 'synth_world:rc::olmes', 'synth_arith:mc::olmes', 'synth_world::olmes'])
    assert.match(localRun.stdout, new RegExp(alias.replace(/[:]/g, ':')));
  assert.match(localRun.stderr, /model: 0\/\d+ requests/);
  assert.match(localRun.stderr, /model: (\d+)\/\1 requests 100% [\d.]+ req\/s ETA/);
  assert.match(localRun.stderr, /(\d+) requests computed, 0 from the cache/);
  // 3 docs × (4 MC + 4 RC + 4 PMI) + 3 docs × 4 MC
  assert.equal(lines(join(localOut, 'request-cache.jsonl')).length, 48);
});

test('a rerun resumes from the cache (nothing recomputed) and --rescore gives the same metrics.json', async () => {
  const before = readFileSync(join(localOut, 'metrics.json'), 'utf8');
  const again = await olmoEval(['--model', ckpt, '--output', localOut, ...common]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /0 requests computed, 48 from the cache/);
  assert.deepEqual(readJson(join(localOut, 'metrics.json')).all_primary_scores, JSON.parse(before).all_primary_scores);
  assert.equal(lines(join(localOut, 'request-cache.jsonl')).length, 48);
  const metricsBefore = taskMetrics(localOut);
  const r = await olmoEval(['--rescore', localOut]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(taskMetrics(localOut), metricsBefore);
  assert.deepEqual(readJson(join(localOut, 'metrics.json')).all_primary_scores, JSON.parse(before).all_primary_scores);
});

test('olmo eval --openai against a loopback server with real log-probs: identical metrics; dead server keeps the cache', async () => {
  const model = loadModel(ckpt, { weights: 'stored' }); // as olmo eval --model loads it (inference weights)
  const tokenizer = loadTokenizer(ckpt);
  let failFrom = Infinity;
  const server: FakeServer = await startFakeOpenAIServer({
    model,
    tokenizer,
    modelName: 'tiny',
    fault: (n) => (n >= failFrom ? 500 : undefined),
  });
  try {
    const out = tmp('eval-openai');
    const openai = [
      '--openai',
      `${server.url}/v1`,
      '--model-name',
      'tiny',
      '--tokenizer',
      ckpt,
      '--output',
      out,
      ...common,
      '--retries',
      '1',
      '--concurrency',
      '2',
    ];
    // the server fails for good after 12 requests: the run stops with an error naming it, keeping 2 full batches
    failFrom = 12;
    const failed = await olmoEval(openai);
    assert.equal(failed.code, 1);
    assert.match(
      failed.stderr,
      new RegExp(
        `olmo eval: cannot get an answer from the OpenAI-compatible server at ${server.url}/v1/completions: HTTP 500`,
      ),
    );
    const kept = lines(join(out, 'request-cache.jsonl')).length;
    assert.ok(kept >= 10 && kept % 5 === 0, `kept ${kept}`);
    assert.ok(!existsSync(join(out, 'metrics.json')));
    failFrom = Infinity;
    const ok = await olmoEval(openai);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`${48 - kept} requests computed, ${kept} from the cache`));
    assert.deepEqual(taskMetrics(out), taskMetrics(localOut));
    assert.deepEqual(
      readJson(join(out, 'metrics.json')).all_primary_scores,
      readJson(join(localOut, 'metrics.json')).all_primary_scores,
    );
    assert.equal(readJson(join(out, 'task-000-synth_world-metrics.json')).model_config.backend, 'openai');
  } finally {
    await server.close();
  }
  const dead = await olmoEval([
    '--openai',
    'http://127.0.0.1:9/v1',
    '--model-name',
    'x',
    '--output',
    tmp('eval-dead'),
    ...common,
    '--retries',
    '0',
  ]);
  assert.equal(dead.code, 1);
  assert.match(
    dead.stderr,
    /cannot get an answer from the OpenAI-compatible server at http:\/\/127\.0\.0\.1:9\/v1\/completions: .*after 1 attempt/,
  );
});

test('--dry-run writes the requests without a model; --list-tasks; local_mc:NAME; usage errors', async () => {
  const out = tmp('eval-dry');
  const dry = await olmoEval([
    '--tasks',
    'local_mc:synth_arith:rc',
    '--data-dir',
    join(synthDir, 'eval'),
    '--output',
    out,
    '--dry-run',
    '--limit',
    '2',
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /wrote 1 requests files \(16 requests\)/);
  const reqs = lines(join(out, 'task-000-synth_arith-requests.jsonl')).map((l) => JSON.parse(l));
  const train = JSON.parse(lines(join(synthDir, 'eval', 'synth_arith', 'train.jsonl'))[0]);
  // the shots are the first train rows, in order
  assert.ok(
    reqs[0].request.context.startsWith(
      `Question: ${train.question}\nAnswer: ${train.choices.text[train.choices.label.indexOf(train.answerKey)]}\n\n`,
    ),
  );
  assert.ok(reqs.some((r) => r.request.context === 'Answer:' && r.doc_id >= 1_000_000));

  const list = await olmoEval(['--list-tasks']);
  assert.equal(list.code, 0);
  for (const id of ['synth_world:mc::olmes', 'synth_arith:rc::olmes', 'arc_easy:rc::olmes', 'core_9mcqa::olmes'])
    assert.ok(list.stdout.split('\n').includes(id), id);

  const cases: [string[], RegExp][] = [
    [['--output', out], /--tasks IDS is required/],
    [['--tasks', 'synth_world'], /--output DIR is required/],
    [['--tasks', 'nope', '--output', out], /unknown task "nope"/],
    [['--tasks', 'synth_world', '--output', out], /exactly one of --model DIR .* or --openai URL/],
    [['--tasks', 'synth_world', '--output', out, '--model', ckpt, '--openai', 'http://x'], /exactly one of/],
    [['--tasks', 'synth_world', '--output', out, '--openai', 'http://127.0.0.1:9'], /--model-name NAME is required/],
    [
      ['--tasks', 'synth_world', '--output', out, '--model', ckpt, '--batch-size', '0'],
      /--batch-size must be an integer ≥ 1, got '0'/,
    ],
    [
      ['--tasks', 'synth_world', '--output', out, '--model', ckpt, '--concurrency', '2'],
      /--concurrency applies to --openai/,
    ],
    [
      ['--tasks', 'synth_world', '--output', out, '--openai', 'http://x', '--model-name', 'm', '--logprobs', 'x'],
      /--logprobs must be echo or prompt_logprobs/,
    ],
    [
      [
        '--tasks',
        'synth_world',
        '--output',
        out,
        '--openai',
        'http://x',
        '--model-name',
        'm',
        '--api-key-env',
        'OLMO_TEST_UNSET_KEY',
      ],
      /OLMO_TEST_UNSET_KEY: the variable is not set/,
    ],
    [
      ['--tasks', 'synth_world', '--output', out, '--model', ckpt, '--data-dir', join(out, 'missing')],
      /--data-dir .* is not a folder/,
    ],
    [['--tasks', 'synth_world', '--output', out, '--model', ckpt, '--bogus'], /Unknown option '--bogus'/],
  ];
  // in-process (a child per case would be slow); the exit code and hint are checked once through the runner
  for (const [args, re] of cases) {
    await assert.rejects(
      evalCommand.run(args),
      (e: Error) => e instanceof UsageError && re.test(e.message),
      args.join(' '),
    );
  }
  const usage = await olmoEval(cases[2][0]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown task "nope"[^]*\nSee: olmo eval --help/);
  // a missing dataset is an error that names what was looked for
  await assert.rejects(
    evalCommand.run(['--tasks', 'synth_world', '--output', out, '--model', ckpt, '--data-dir', out]),
    /dataset synth_world split test/,
  );
});

test('progress: a redrawn bar with rate and ETA on a terminal, periodic plain lines otherwise', () => {
  let now = 0;
  const tty: string[] = [];
  const p = new EvalProgressPrinter({ isTTY: true, write: (s) => tty.push(s) }, 10_000, () => now);
  p.update({ phase: 'model', done: 0, total: 10 });
  now = 2000;
  p.update({ phase: 'model', done: 5, total: 10 });
  // eslint-disable-next-line no-control-regex -- the bar is redrawn after the ANSI erase-line escape
  assert.match(tty.at(-1)!, /^\r\x1b\[2K\[=+> *\] 5\/10 requests 50% 2\.5 req\/s ETA 0:02 elapsed 0:02$/);
  now = 4000;
  p.update({ phase: 'model', done: 10, total: 10 });
  assert.equal(tty.at(-1), '\n');
  const plain: string[] = [];
  const q = new EvalProgressPrinter({ isTTY: false, write: (s) => plain.push(s) }, 10_000, () => now);
  now = 0;
  for (let i = 0; i <= 100; i++) {
    now = i * 500; // 50 s in all: a line at 0, every 10 s, and at the end
    q.update({ phase: 'model', done: i, total: 100 });
  }
  assert.equal(plain.length, 6); // at 0, 10, 20, 30, 40 s and the end (50 s)
  assert.ok(plain.every((l) => /^model: \d+\/100 requests .* req\/s ETA .*\n$/.test(l)));
});
