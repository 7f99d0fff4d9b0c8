// `olmo eval` critic modes: digital_socrates_critic and delta_rot_judge route through two backends (the evaluated
// model and --critic-openai / --critic-model), write one run folder per stage, and `--rescore` recomputes every
// stage's metrics byte for byte. The evaluated model and the HTTP critic are a scripted loopback server; the
// in-process critic is the tiny fixture checkpoint. Usage errors name the missing or misplaced option.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { wipeMetrics } from '../eval/rescore-check.ts';
import { tinyCheckpoint, tmp } from '../eval/backends/helpers.ts';

const RUNNER = join(import.meta.dirname, 'eval-cli.ts');

function olmoEval(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, ...args], {
      env: { ...process.env, OLMO_BACKEND: 'js' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const critique = (flaw: string | null, dim: string, score: number) =>
  `The explanation states or suggests the following:\n* Main flaw (standalone statement): "${flaw ?? 'None'}"\n* Dimension: ${dim}\n\n` +
  `Consider these points for revising the explanation:\n* General: g\n* Specific: s\n\nExplanation score: ${score}`;

/** The scripted models: `student` answers DSCB questions and writes δ-RoT contexts; `critic` critiques and judges. */
function respond(model: string, prompt: string): string {
  if (model === 'student') {
    const q = /Question: Question (\d+)\?/.exec(prompt);
    if (q) return `Because of ${q[1]}.\nAnswer: (${Number(q[1]) % 2 ? 'C' : 'D'})`;
    return prompt.trimEnd().endsWith('Direction: more acceptable\nContext:')
      ? ' it saves a life\nRationale: lives matter'
      : ' it hurts someone\nRationale: harm is bad';
  }
  if (model === 'critic') {
    if (prompt.includes('You are judging a context')) return 'Valid: yes\nDirection: more';
    return /Student answer: \(C\)/.test(prompt)
      ? critique(null, 'none', 5)
      : critique('wrong', 'incorrect_reasoning', 1);
  }
  throw new Error(`unknown model ${model}`);
}

let server: Server;
let url: string;
/** The student and the critic, both served by the scripted server. */
const studentAndCritic = () => [
  '--openai',
  url,
  '--model-name',
  'student',
  '--critic-openai',
  url,
  '--critic-model-name',
  'critic',
];
const served: string[] = [];
before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method === 'GET')
        return res.end(JSON.stringify({ object: 'list', data: [{ id: 'student' }, { id: 'critic' }] })); // GET /v1/models
      const b = JSON.parse(body) as { model: string; prompt: string };
      served.push(b.model);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ choices: [{ text: respond(b.model, b.prompt) }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => server.close());

// self-made DSCB rows (real fields) and δ-RoT critic-gold-data.tsv rows (real columns, pandas layout)
const data = tmp('critic-data');
{
  const ds = join(data, 'allenai', 'DS_Critique_Bank');
  mkdirSync(ds, { recursive: true });
  const row = (n: number) => ({
    id: `q${n}|m|p1`,
    qid: `q${n}`,
    question: `Question ${n}? (A) a (B) b (C) c (D) d`,
    gold_answer: 'C',
    student_model: 'm',
    student_answer: 'C',
    student_accuracy: 1,
    student_explanation: `e${n}`,
    explanation_annotations: [],
    critiques: [],
  });
  writeFileSync(join(ds, 'DSCB-dev-crowd-anno.jsonl'), [1, 2, 3].map((n) => JSON.stringify(row(n))).join('\n') + '\n');
  const dr = join(data, 'kavelrao', 'd-Rules-of-Thumb');
  mkdirSync(dr, { recursive: true });
  const rows = [
    ['help a neighbour', 1, 'the neighbour is ill', 'care', 1, 'train'],
    ['skip work', -1, 'a deadline', 'others rely on you', 1, 'train'],
    ['skip work', 1, 'child in hospital', 'family', 1, 'test'],
    ['lie to a friend', -1, 'to hide a theft', 'crime', 0, 'test'],
  ];
  writeFileSync(
    join(dr, 'critic-gold-data.tsv'),
    [
      '\taction\tmoral-variance\tcontext\trationale\tcontext-quality\tsplit',
      ...rows.map((r, i) => [i, ...r].join('\t')),
    ].join('\n') + '\n',
  );
}

const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

test('critic modes through two HTTP backends: one folder per stage, metrics, --rescore byte-identical', async () => {
  const out = tmp('critic-out');
  const r = await olmoEval([
    ...studentAndCritic(),
    '--tasks',
    'digital_socrates_critic,delta_rot_judge',
    '--data-dir',
    data,
    '--output',
    out,
    '--batch-size',
    '2',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const stageFiles = {
    'digital_socrates_critic/student': 'digital_socrates_student',
    'digital_socrates_critic/critic': 'digital_socrates_critic',
    'delta_rot_judge/generation': 'delta_rot',
    'delta_rot_judge/judge': 'delta_rot_judge',
  };
  for (const [dir, name] of Object.entries(stageFiles)) {
    for (const f of [
      'metrics.json',
      'metrics-all.jsonl',
      'request-cache.jsonl',
      `task-000-${name}-metrics.json`,
      `task-000-${name}-predictions.jsonl`,
    ]) {
      assert.ok(existsSync(join(out, dir, f)), `${dir}/${f}`);
    }
  }
  assert.ok(!existsSync(join(out, 'metrics.json'))); // no ordinary tasks were asked for
  // Digital Socrates: q1, q3 answered C (right: score 5), q2 D (wrong: score 1, a flaw)
  const ds = readJson(join(out, 'digital_socrates_critic', 'critic', 'task-000-digital_socrates_critic-metrics.json'));
  assert.equal(ds.metrics.pred_score, 11 / 3);
  assert.equal(ds.metrics.flaw_rate_student_wrong, 1);
  assert.equal(ds.model_config.model, 'critic');
  assert.equal(
    readJson(join(out, 'digital_socrates_critic', 'student', 'task-000-digital_socrates_student-metrics.json'))
      .model_config.model,
    'student',
  );
  assert.equal(ds.compute_config.critic.model, 'critic');
  // δ-RoT: two test (action, direction) pairs × 3 samples; the critic says "valid, more" to all: right for the strengthener only
  const jm = readJson(join(out, 'delta_rot_judge', 'judge', 'task-000-delta_rot_judge-metrics.json')).metrics;
  assert.equal(jm.valid_and_direction, 0.5);
  assert.equal(jm.valid_and_direction_strengthener, 1);
  assert.equal(jm.valid_and_direction_weakener, 0);
  assert.match(r.stdout, /digital_socrates_critic — critic/);
  assert.match(r.stdout, /delta_rot_judge — judge/);
  assert.ok(served.includes('student') && served.includes('critic'));

  // --rescore over the output folder recomputes every stage's metrics from the saved records
  const folders = Object.keys(stageFiles).map((d) => join(out, d));
  const snap = () =>
    folders.map((d) =>
      readdirSync(d)
        .filter((f) => f !== 'request-cache.jsonl')
        .sort()
        .map((f) => [f, readFileSync(join(d, f), 'utf8')]),
    );
  const beforeFiles = snap();
  folders.forEach(wipeMetrics);
  const n = served.length;
  const rs = await olmoEval(['--rescore', out]);
  assert.equal(rs.code, 0, rs.stderr);
  assert.equal(served.length, n); // no model asked
  assert.deepEqual(snap(), beforeFiles);
  assert.match(rs.stdout, /delta_rot_judge\/judge/);

  // a rerun resumes every stage from its cache
  const again = await olmoEval([
    ...studentAndCritic(),
    '--tasks',
    'digital_socrates_critic,delta_rot_judge',
    '--data-dir',
    data,
    '--output',
    out,
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(served.length, n);
  assert.match(again.stderr, /digital_socrates_critic critic: 0 requests computed, 3 from the cache/);
});

test("an in-process critic (--critic-model) judges the HTTP model's generations; ordinary tasks run beside it", async () => {
  const out = tmp('critic-local');
  const ckpt = tinyCheckpoint();
  const r = await olmoEval([
    '--openai',
    url,
    '--model-name',
    'student',
    '--critic-model',
    ckpt,
    '--tasks',
    'delta_rot_judge::olmes,delta_rot',
    '--data-dir',
    data,
    '--output',
    out,
    '--limit',
    '1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(out, 'task-000-delta_rot-metrics.json'))); // the ordinary task, in <output>
  const judge = readJson(join(out, 'delta_rot_judge', 'judge', 'task-000-delta_rot_judge-metrics.json'));
  assert.equal(judge.model_config.model, ckpt);
  assert.equal(judge.num_instances, 3); // --limit 1 pair × 3 samples
  assert.equal(lines(join(out, 'delta_rot_judge', 'judge', 'task-000-delta_rot_judge-requests.jsonl')).length, 3);
  assert.equal(judge.compute_config.critic.backend, 'local');
});

test('critic-mode usage errors name the option', async () => {
  const out = tmp('critic-err');
  const noCritic = await olmoEval([
    '--openai',
    url,
    '--model-name',
    'student',
    '--tasks',
    'delta_rot_judge',
    '--data-dir',
    data,
    '--output',
    out,
  ]);
  assert.equal(noCritic.code, 2);
  assert.match(
    noCritic.stderr,
    /delta_rot_judge needs a critic model: --critic-model DIR or --critic-openai URL --critic-model-name NAME/,
  );
  const noMode = await olmoEval([...studentAndCritic(), '--tasks', 'delta_rot', '--data-dir', data, '--output', out]);
  assert.equal(noMode.code, 2);
  assert.match(noMode.stderr, /--critic-model \/ --critic-openai are used by the critic modes only/);
  const noName = await olmoEval([
    '--openai',
    url,
    '--model-name',
    'student',
    '--critic-openai',
    url,
    '--tasks',
    'delta_rot_judge',
    '--data-dir',
    data,
    '--output',
    out,
  ]);
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /--critic-model-name NAME is required with --critic-openai/);
  const dry = await olmoEval(['--tasks', 'digital_socrates_critic', '--data-dir', data, '--output', out, '--dry-run']);
  assert.equal(dry.code, 2);
  assert.match(dry.stderr, /--dry-run cannot write digital_socrates_critic/);
  const fmt = await olmoEval([...studentAndCritic(), '--tasks', 'delta_rot_judge:mc', '--output', out]);
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /delta_rot_judge has no :mc format/);
  const help = await olmoEval(['--help']);
  assert.match(help.stdout, /--critic-openai URL/);
  const list = await olmoEval(['--list-tasks']);
  assert.match(list.stdout, /^digital_socrates_critic::olmes {2}\(with --critic-model or --critic-openai/m);
});
