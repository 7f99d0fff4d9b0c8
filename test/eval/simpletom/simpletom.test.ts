// SimpleToM: the paper's prompts and answer parsing against the real samples (skipped when ../shared is absent),
// self-made rows in the HF schema, and fake-backend runs through the OLMES runner (outputs, two-pass reminder, resume).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CachingSource, LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { planTasks } from '../../../src/eval/registry.ts';
import type { Backend } from '../../../src/eval/runner/backend.ts';
import { runEval } from '../../../src/eval/runner/run.ts';
import type { GenerateUntilRequest, LoglikelihoodRequest, Row } from '../../../src/eval/types.ts';
import {
  olmesExtract,
  olmesPrompt,
  parseQuestionRow,
  processAnswer,
  questionPrompt,
  strictAnswer,
  SIMPLETOM_SYSTEM_PROMPT,
} from '../../../src/eval/tasks/simpletom/index.ts';
import { fakeLoglikelihood, writeSplit } from '../fixtures.ts';
import { assertRescoreIdentical } from '../rescore-check.ts';

const SAMPLES = new URL('../../../../shared/fixtures/benchmarks/simpletom/', import.meta.url).pathname;
const haveSamples = existsSync(join(SAMPLES, 'model_outputs_with_expected_parse.jsonl'));
const skipMsg = haveSamples
  ? false
  : `SimpleToM samples not found at ${SAMPLES} (../shared/fixtures/benchmarks/simpletom); skipping the golden checks`;
const readJsonl = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

test('golden: rendered prompts equal the official prompts, byte for byte', { skip: skipMsg }, () => {
  const items = new Map(
    readJsonl(join(SAMPLES, 'questions_reconstructed.jsonl')).map((r: Row) => {
      const row = { ...r, scenario_name: r.scenario_name__inferred };
      return [r.id as string, parseQuestionRow(row, `sample ${r.id}`)];
    }),
  );
  const outs = readJsonl(join(SAMPLES, 'model_outputs_with_expected_parse.jsonl'));
  assert.equal(outs.length, 10);
  for (const o of outs) {
    const item = items.get(o.id);
    assert.ok(item, o.id);
    assert.equal(questionPrompt(item, { cot: o.use_cot }), o.prompt, `${o.model} ${o.id}`);
  }
});

test('golden: parsed answers and acc equal the official process_answer', { skip: skipMsg }, () => {
  for (const o of readJsonl(join(SAMPLES, 'model_outputs_with_expected_parse.jsonl'))) {
    const p = processAnswer(o.raw_output_text, o.use_cot);
    assert.equal(p.predicted, o.expected_predicted, `${o.model} ${o.id}`);
    assert.equal(p.predicted === o.correct ? 1 : 0, o.expected_acc, `${o.model} ${o.id}`);
    // the stricter parse agrees on these clean outputs
    assert.equal(strictAnswer(o.raw_output_text, o.use_cot), o.expected_predicted);
  }
});

test('paper parsing quirks: label order, bare capitals, ambiguity, CoT stripping', () => {
  assert.equal(processAnswer('(B) ... or maybe (A)', false).predicted, 'A'); // label order, not position
  assert.equal(processAnswer('Answer: (B)', false).predicted, 'B');
  assert.equal(processAnswer('B', false).predicted, 'B');
  assert.deepEqual(processAnswer('A or B', false), { predicted: 'A or B', valid: false }); // ambiguous → whole text
  assert.deepEqual(processAnswer('I think Bob is', false), { predicted: 'B', valid: true }); // bare capital B in "Bob"
  assert.equal(processAnswer('(A is wrong, (B', false).valid, false);
  assert.equal(processAnswer('first the answer is (A). Wait. The answer is: (B)', true).predicted, 'B');
  assert.equal(processAnswer('ANSWER (B)', false).predicted, 'B');
  // strict: no bare-capital guessing, the CoT must end with the answer phrase, ambiguity is invalid
  assert.equal(strictAnswer('I think Bob is', false), null);
  assert.equal(strictAnswer('(A) or (B)', false), null);
  assert.equal(strictAnswer('Reasoning (A) then (B)', true), null);
  assert.equal(strictAnswer('so. Therefore, the answer is: (B)', true), 'B');
  assert.equal(strictAnswer(' B. ', false), 'B');
  // OLMES regexes
  assert.deepEqual(olmesExtract('The answer is (B).'), { answer: 'B', flex: 'B' });
  assert.deepEqual(olmesExtract('B'), { answer: null, flex: 'B' });
  assert.deepEqual(olmesExtract('(C)'), { answer: null, flex: 'C' });
});

// ---- self-made rows in the HF schema ----

const STORIES = [
  {
    sid: 'jar_lid_sev1',
    scen: 'inside_reuse_labeled_containers',
    person: 'Ana',
    info: 'The jam jar holds screws.',
    act: 'Ana picks up the jam jar to make a sandwich.',
    unaware: 'spread it on bread',
    aware: 'look for real jam',
  },
  {
    sid: 'jar_lid_sev2',
    scen: 'inside_reuse_labeled_containers',
    person: 'Ana',
    info: 'The jam jar holds rat poison.',
    act: 'Ana picks up the jam jar to make a sandwich.',
    unaware: 'spread it on bread',
    aware: 'throw the jar away',
  },
  {
    sid: 'phone_pin_sev1',
    scen: 'locked_devices_accounts',
    person: 'Raj',
    info: 'The phone PIN was changed.',
    act: 'Raj types his old PIN.',
    unaware: 'wait for it to unlock',
    aware: 'ask for the new PIN',
  },
];
export function qaRows(kind: 'aware' | 'action' | 'judge'): Row[] {
  return STORIES.map((s, i) => {
    const story = `${s.info} ${s.act}`;
    const base = { id: `${s.sid}_${kind}`, story, scenario_name: s.scen };
    if (kind === 'aware')
      return {
        ...base,
        question: `Is ${s.person} likely to be aware that "${s.info}"?`,
        choices: { text: ['Yes', 'No'], label: ['A', 'B'] },
        answerKey: 'B',
      };
    const flip = i % 2 === 1;
    if (kind === 'action') {
      const text = flip ? [s.aware, s.unaware] : [s.unaware, s.aware];
      return {
        ...base,
        question: `What will ${s.person} likely do next?`,
        choices: { text, label: ['A', 'B'] },
        answerKey: flip ? 'B' : 'A',
      };
    }
    const text = flip ? ['Not reasonable', 'Reasonable'] : ['Reasonable', 'Not reasonable'];
    return {
      ...base,
      question: `Next, ${s.person} "${s.unaware}" and not "${s.aware}". The behavior of ${s.person} can be best described as: `,
      choices: { text, label: ['A', 'B'] },
      answerKey: flip ? 'B' : 'A',
    };
  });
}

function writeData(root: string): void {
  writeSplit(root, 'allenai/SimpleToM', 'mental-state-qa', 'test', qaRows('aware'), 'jsonl');
  writeSplit(root, 'allenai/SimpleToM', 'behavior-qa', 'test', qaRows('action'), 'jsonl');
  writeSplit(root, 'allenai/SimpleToM', 'judgment-qa', 'test', qaRows('judge'), 'jsonl');
}

test('row validation names the row and field', () => {
  const bad = { ...qaRows('aware')[0], answerKey: 'C' };
  assert.throws(
    () => parseQuestionRow(bad, 'allenai/SimpleToM (config mental-state-qa) split test row 4'),
    /row 4: field "answerKey" must be one of A, B, got "C"/,
  );
  assert.throws(() => parseQuestionRow({ ...bad, id: 'x_y' }, 'row 1'), /must end in _aware, _action or _judge/);
  const it = parseQuestionRow(qaRows('judge')[1], 'r');
  assert.equal(it.severity, 'sev2');
  assert.equal(it.storyId, 'jar_lid_sev2');
  assert.equal(it.scenario, 'inside_reuse_labeled_containers');
});

test('reminder prompt: the earlier Q/A sits between the story and the question', () => {
  const ms = parseQuestionRow(qaRows('aware')[0], 'r');
  const q = parseQuestionRow(qaRows('action')[0], 'r');
  const p = questionPrompt(q, { reminder: { item: ms, answer: 'B' } });
  assert.equal(
    p,
    'Given the following story, answer the question by giving the correct answer choice, (A) or (B).\n\nStory:\n' +
      'The jam jar holds screws. Ana picks up the jam jar to make a sandwich.\n\n' +
      'Question: Is Ana likely to be aware that "The jam jar holds screws."? \n(A) Yes \n(B) No\nAnswer: (B)\n\n' +
      'Question: What will Ana likely do next? \n(A) spread it on bread \n(B) look for real jam\n\n' +
      'What is the correct answer? Respond with just "(A)" or "(B)"\n',
  );
  assert.equal(
    olmesPrompt(q),
    'Given the following story, answer the question by giving the correct answer choice, (A) or (B).\n\nStory:\n' +
      'The jam jar holds screws. Ana picks up the jam jar to make a sandwich.\n\nQuestion: What will Ana likely do next?\n(A) spread it on bread\n(B) look for real jam\n\n' +
      'What is the correct answer? Respond with just "(A)" or "(B)"',
  );
});

/** A fake chat model: always right on mental-state questions; after a reminder, right on the rest; else wrong. */
class FakeChat implements Backend {
  readonly name = 'fake-chat';
  readonly maxLength = 4096;
  gen: GenerateUntilRequest[] = [];
  async loglikelihood(rs: LoglikelihoodRequest[]) {
    return rs.map(fakeLoglikelihood);
  }
  async loglikelihoodRolling(): Promise<never> {
    throw new Error('unused');
  }
  async generateUntil(rs: GenerateUntilRequest[]): Promise<string[]> {
    this.gen.push(...rs);
    return rs.map((r) => {
      const msgs = (r as GenerateUntilRequest & { messages?: { role: string; content: string }[] }).messages;
      assert.equal(msgs?.[0].content, SIMPLETOM_SYSTEM_PROMPT);
      assert.equal(msgs?.[1].content, r.context);
      const cot = r.context.includes('Think step by step');
      const say = (l: string) => (cot ? `Reasoning here. Therefore, the answer is: (${l})` : `(${l})`);
      const last = r.context.split('Question: ').at(-1)!;
      const opts = [...last.matchAll(/\(([AB])\) ([^\n]*?) ?\n/g)].map((m) => ({ l: m[1], t: m[2] }));
      if (last.startsWith('Is ')) return say(opts.find((o) => o.t === 'No')!.l);
      const reminded = r.context.includes('Answer: (B)');
      const good = last.startsWith('Next')
        ? opts.find((o) => o.t === 'Reasonable')!
        : opts.find((o) => /spread|wait/.test(o.t))!;
      const bad = opts.find((o) => o !== good)!;
      return say(reminded ? good.l : bad.l);
    });
  }
}

const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l));

test('end to end: paper, reminder (two passes) and OLMES regimes write oe-eval outputs with breakdowns, and resume', async () => {
  const root = mkdtempSync(join(tmpdir(), 'simpletom-data-'));
  writeData(root);
  const out = mkdtempSync(join(tmpdir(), 'simpletom-run-'));
  const ids = [
    'simpletom::paper',
    'simpletom::paper-msr',
    'simpletom::paper-msr-cot',
    'simpletom_behavior-qa::paper-msr-gold',
    'simpletom::original',
    'simpletom:mc::olmes',
  ];
  const plan = planTasks(ids);
  assert.deepEqual(
    plan.tasks.map((t) => t.config.alias),
    [
      'simpletom_mental-state-qa::paper',
      'simpletom_behavior-qa::paper',
      'simpletom_judgment-qa::paper',
      'simpletom_behavior-qa::paper-msr',
      'simpletom_judgment-qa::paper-msr',
      'simpletom_behavior-qa::paper-msr-cot',
      'simpletom_judgment-qa::paper-msr-cot',
      'simpletom_behavior-qa::paper-msr-gold',
      'simpletom_mental-state-qa::original',
      'simpletom_behavior-qa::original',
      'simpletom_judgment-qa::original',
      'simpletom_mental-state-qa:mc::olmes',
      'simpletom_behavior-qa:mc::olmes',
      'simpletom_judgment-qa:mc::olmes',
    ],
  );
  const backend = new FakeChat();
  const r = await runEval({
    tasks: ids,
    source: new CachingSource(new LocalHfFolderSource(root)),
    outputDir: out,
    backend,
    batchSize: 4,
  });
  const score = (a: string) => r.metrics.tasks.find((t) => t.alias === a)!.metrics;
  assert.equal(score('simpletom_mental-state-qa::paper').acc, 1);
  assert.equal(score('simpletom_behavior-qa::paper').acc, 0);
  assert.equal(score('simpletom_judgment-qa::paper').acc, 0);
  assert.equal(score('simpletom::paper').primary_score, 1 / 3);
  // the model answered (B) "No" to the mental-state question, so the reminder branch "(B)" is used: all right
  assert.equal(score('simpletom_behavior-qa::paper-msr').acc, 1);
  assert.equal(score('simpletom_behavior-qa::paper-msr').ms_acc, 1);
  assert.equal(score('simpletom_judgment-qa::paper-msr-cot').acc, 1);
  assert.equal(score('simpletom::paper-msr').primary_score, 1);
  assert.equal(score('simpletom_behavior-qa::paper-msr-gold').acc, 1);
  assert.equal(score('simpletom_mental-state-qa::original').exact_match, 1);
  // breakdowns by scenario and severity
  const m = score('simpletom_mental-state-qa::paper');
  assert.equal(m['acc:scenario=locked_devices_accounts'], 1);
  assert.equal(m['acc:severity=sev2'], 1);
  assert.ok('acc_strict:scenario=inside_reuse_labeled_containers' in m);
  const b = score('simpletom_behavior-qa:mc::olmes');
  assert.ok('acc_raw:severity=sev1' in b && 'acc_raw:scenario=locked_devices_accounts' in b);

  // files: predictions carry both passes; requests hold pass 1 + 2 branches
  const files = readdirSync(out);
  const idx = plan.tasks.findIndex((t) => t.config.alias === 'simpletom_behavior-qa::paper-msr');
  const base = `task-${String(idx).padStart(3, '0')}-simpletom_behavior-qa-`;
  assert.ok(files.includes(base + 'metrics.json'));
  const reqs = lines(join(out, base + 'requests.jsonl'));
  assert.equal(reqs.length, 3 * 3);
  assert.ok(reqs[1].request.context.includes('Answer: (A)\n') && reqs[2].request.context.includes('Answer: (B)\n'));
  const preds = lines(join(out, base + 'predictions.jsonl'));
  assert.equal(preds[0].model_output.length, 2);
  assert.equal(preds[0].model_output[0].pass, 1);
  assert.equal(preds[0].model_output[1].predicted, 'A');
  // pass 1 of the reminder task is the plain mental-state request: the cache answered it once
  const msPlain = backend.gen.filter(
    (g) =>
      g.context.startsWith('Given') &&
      !g.context.includes('Think') &&
      g.context.includes(
        'Question: Is Ana likely to be aware that "The jam jar holds screws."? \n(A) Yes \n(B) No\n\nWhat',
      ),
  );
  assert.equal(msPlain.length, 1);

  // resume: a second run computes nothing and writes the same metrics
  const again = new FakeChat();
  const r2 = await runEval({
    tasks: ids,
    source: new LocalHfFolderSource(root),
    outputDir: out,
    backend: again,
    batchSize: 2,
  });
  assert.equal(r2.computed, 0);
  assert.equal(again.gen.length, 0);
  assert.deepEqual(r2.metrics.all_primary_scores, r.metrics.all_primary_scores);
  // rescore: every protocol (the reminder's branch choice included), the MC formats, breakdowns and suites
  await assertRescoreIdentical(out);
});

test('unparsable pass-1 answer: the reminder item counts as wrong and is reported', async () => {
  const root = mkdtempSync(join(tmpdir(), 'simpletom-data-'));
  writeData(root);
  class Mumbler extends FakeChat {
    override async generateUntil(rs: GenerateUntilRequest[]) {
      return rs.map((r) => (r.context.includes('Answer: (') ? '(A)' : 'no idea'));
    }
  }
  const r = await runEval({
    tasks: ['simpletom_judgment-qa::paper-msr'],
    source: new LocalHfFolderSource(root),
    outputDir: mkdtempSync(join(tmpdir(), 'st-')),
    backend: new Mumbler(),
  });
  const m = r.tasks[0].metrics;
  assert.equal(m.ms_unparsed, 1);
  assert.equal(m.acc, 0);
  assert.equal(m.na_frac, 1);
});

test('bad ids and mental-state reminder are refused with the known regimes', () => {
  assert.throws(() => planTasks(['simpletom_mental-state-qa::paper-msr']), /behavior-qa and judgment-qa only/);
  assert.throws(() => planTasks(['simpletom::bogus']), /SimpleToM regimes are olmes, olmes:full, original, paper/);
  assert.throws(() => planTasks(['simpletom:mc::paper']), /formats :mc\/:rc only with olmes/);
});
