// Digital Socrates: the sample critiques parse to their expected fields (skipped without the shared samples);
// malformed critiques are reported, never guessed; the critique prompt; tasks over self-made DSCB rows end to end
// with a scripted backend (outputs, metrics, resume); the critic mode with a second backend; bad rows name file:line.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CachingSource, LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { planTasks } from '../../../src/eval/registry.ts';
import { runEval } from '../../../src/eval/runner/run.ts';
import {
  DIMENSIONS,
  fillCritiquePrompt,
  llama2CardPrompt,
  OURS_TEMPLATE,
  parseCritique,
  templateFromPromptsJson,
} from '../../../src/eval/tasks/digital-socrates/critique.ts';
import { averageRanks, pearson, spearman } from '../../../src/eval/correlation.ts';
import { runDigitalSocratesCriticMode } from '../../../src/eval/tasks/digital-socrates/pipeline.ts';
import { parseStudentOutput } from '../../../src/eval/tasks/digital-socrates/tasks.ts';
import { sampleDir, ScriptedBackend, tmp } from './fake-backend.ts';
import { assertRescoreAllIdentical, assertRescoreIdentical } from '../rescore-check.ts';

const SAMPLES = sampleDir('digital-socrates');
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));

test('sample critiques (DS-7B, DS-13B model cards) parse to their expected fields', { skip: SAMPLES.skip }, () => {
  const rows = lines(path.join(SAMPLES.dir, 'critique_examples.jsonl'));
  assert.equal(rows.length, 2);
  for (const r of rows) {
    const p = parseCritique(r.critique_text);
    assert.ok(p.ok, `${r.critique_model}: ${JSON.stringify(p)}`);
    assert.deepEqual(p.critique, r.expected_critique_elements, r.critique_model);
    assert.deepEqual(p.warnings, []);
  }
  const schema = JSON.parse(readFileSync(path.join(SAMPLES.dir, 'critique_schema.json'), 'utf8'));
  assert.deepEqual([...DIMENSIONS], schema.dimensions);
  assert.equal(OURS_TEMPLATE.system, schema.system_prompt);
  for (const ph of schema.placeholders) assert.ok(OURS_TEMPLATE.main.includes(ph), ph);
});

test(
  "sample inputs fill the critique prompt; the Llama-2 wrapping is the model card's, typo included",
  { skip: SAMPLES.skip },
  () => {
    const r = lines(path.join(SAMPLES.dir, 'critique_examples.jsonl'))[0];
    const t = {
      system: 'SYS',
      main: 'Q=[[QUESTION]]|E=[[EXPLANATION]]|P=[[PREDICTEDANSWER]]|K=[[ANSWERKEY]]',
      source: 'test',
    };
    const user = fillCritiquePrompt(t, {
      question: r.question,
      explanation: r.student_explanation,
      predictedAnswer: r.student_answer,
      answerKey: r.gold_answer,
    });
    assert.equal(user, `Q=${r.question}|E=${r.student_explanation}|P=D|K=C`);
    assert.equal(llama2CardPrompt('SYS', user), `[INST] <<SYS>>\nSYS\n<</SYS>${user} [/INST]\n\n`);
  },
);

test('critique parser: variants it accepts, and the no-flaw case', () => {
  const p = parseCritique(
    '* Main flaw: "A"\n* Dimension: Incorrect Reasoning\n* General: g1\ng2\n* Specific: s\nExplanation score: 3/5',
  );
  assert.ok(p.ok);
  assert.deepEqual(p.critique, {
    main_flaw: 'A',
    dimension: 'incorrect_reasoning',
    general_feedback: 'g1\ng2',
    specific_feedback: 's',
    explanation_score: 3,
  });
  const none = parseCritique(
    'The explanation states or suggests the following:\n* Main flaw (standalone statement): "None"\n* Dimension: none\n\nExplanation score: 5',
  );
  assert.ok(none.ok);
  assert.deepEqual(none.critique, {
    main_flaw: null,
    dimension: null,
    general_feedback: null,
    specific_feedback: null,
    explanation_score: 5,
  });
});

test('malformed critiques are reported with reasons, not guessed', () => {
  const cases: [string, RegExp][] = [
    ['The explanation is mostly fine.', /no "Explanation score:" line/],
    ['* Main flaw: "x"\n* Dimension: incorrect_information\nExplanation score: 6', /outside 0–5/],
    ['* Main flaw: "x"\n* Dimension: incorrect_information\nExplanation score: 3.5', /not an integer/],
    ['* Main flaw: "x"\n* Dimension: incorrect_information\nExplanation score: two', /not an integer/],
    ['* Main flaw: "x"\n* Dimension: bad_logic\nExplanation score: 2', /dimension "bad_logic" is not one of/],
    ['* Main flaw: "x"\nExplanation score: 2', /no "Dimension:" line/],
    [
      '* Main flaw: "x"\n* Dimension: irrelevant\nExplanation score: 2\nExplanation score: 4',
      /conflicting explanation scores 2 and 4/,
    ],
  ];
  for (const [text, re] of cases) {
    const p = parseCritique(text);
    assert.equal(p.ok, false, text);
    if (!p.ok)
      assert.ok(
        p.errors.some((e) => re.test(e)),
        `${text}: ${p.errors.join('; ')}`,
      );
  }
});

test('pearson and spearman (scipy conventions: average ranks for ties; NaN when undefined)', () => {
  assert.deepEqual(averageRanks([3, 1, 3, 2]), [3.5, 1, 3.5, 2]);
  assert.ok(Math.abs(pearson([1, 2, 3, 4], [2, 4, 5, 9]) - 0.9647638212377321) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(pearson([1], [1])));
});

test('the official DSCB-prompts.json layout is read; a broken one names the file', () => {
  const t = templateFromPromptsJson(
    JSON.stringify({
      digital_socrates_v1: { system: 'S', main: '[[QUESTION]] [[EXPLANATION]] [[PREDICTEDANSWER]] [[ANSWERKEY]]' },
    }),
    'DSCB-prompts.json',
  );
  assert.equal(t.source, 'DSCB-prompts.json digital_socrates_v1');
  assert.throws(
    () =>
      templateFromPromptsJson(
        '{"digital_socrates_v1": {"system": "S", "main": "[[QUESTION]]"}}',
        '/d/DSCB-prompts.json',
      ),
    /\/d\/DSCB-prompts.json: digital_socrates_v1.main has no \[\[EXPLANATION\]\] placeholder/,
  );
});

// ---------------------------------------------------------------------------------------------------------
// Self-made DSCB rows (real record schema) through the runner

const Q = (n: number) => `Question ${n}? (A) one (B) two (C) three (D) four`;
function dscbRow(n: number, studentModel: string, acc: number, human: number[], gpt4: { score: number; dim: string }) {
  return {
    id: `q${n}|${studentModel}|p1`,
    qid: `q${n}`,
    dataset: 'ARC',
    question: Q(n),
    gold_answer: 'C',
    student_model: studentModel,
    student_prompt: 'p1',
    student_llm_options: {},
    student_answer: acc ? 'C' : 'D',
    student_accuracy: acc,
    student_explanation: `explanation ${n}`,
    student_raw_output: `explanation ${n}\nAnswer: (${acc ? 'C' : 'D'})`,
    critiques: [
      {
        critique_model: 'gpt-4-0613',
        critique_llm_options: {},
        critique_text: '…',
        critique_elements: {
          main_flaw: 'f',
          dimension: gpt4.dim,
          general_feedback: 'g',
          specific_feedback: 's',
          explanation_score: gpt4.score,
        },
      },
    ],
    explanation_annotations: human.map((s, i) => ({ explanation_score: s, worker: `w${i}` })),
  };
}
const ROWS = [
  dscbRow(1, 'gpt-4-0613', 1, [5, 5], { score: 5, dim: 'irrelevant' }),
  dscbRow(2, 'Llama-2-7b-chat', 0, [1, 2], { score: 1, dim: 'incorrect_information' }),
  dscbRow(3, 'Llama-2-7b-chat', 0, [3], { score: 2, dim: 'incorrect_reasoning' }),
  dscbRow(4, 'gpt-4-0613', 1, [4, 4, 5], { score: 4, dim: 'missing_information' }),
  dscbRow(5, 'gpt-4-0613', 0, [2], { score: 2, dim: 'misunderstanding' }),
];
const critique = (flaw: string | null, dim: string, score: number) =>
  `The explanation states or suggests the following:\n* Main flaw (standalone statement): "${flaw ?? 'None'}"\n* Dimension: ${dim}\n\n` +
  `Consider these points for revising the explanation:\n* General: g\n* Specific: s\n\nExplanation score: ${score}`;
// the critic's answers, by explanation number: #5 is malformed (score out of range)
const ANSWERS: Record<number, string> = {
  1: critique(null, 'none', 5),
  2: critique('x', 'incorrect_information', 2),
  3: critique('y', 'incorrect_information', 2),
  4: critique('z', 'missing_information', 3),
  5: critique('w', 'misunderstanding', 9),
};
const numberOf = (ctx: string) => Number(/explanation (\d+)/.exec(ctx)![1]);

function writeDscb(root: string, rows: unknown[], text?: string): void {
  const dir = path.join(root, 'allenai', 'DS_Critique_Bank');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'DSCB-dev-crowd-anno.jsonl'),
    text ?? rows.map((r) => JSON.stringify(r)).join('\n') + '\n',
  );
}

test('digital_socrates end to end: oe-eval files, agreement metrics against humans and GPT-4, resume', async () => {
  const root = tmp('dscb');
  writeDscb(root, ROWS);
  const out = tmp('ds-out');
  const critic = new ScriptedBackend('fake-critic', (r) => ANSWERS[numberOf(r.context)]);
  const src = () => new CachingSource(new LocalHfFolderSource(root));
  const r = await runEval({ tasks: ['digital_socrates'], source: src(), outputDir: out, backend: critic });
  assert.equal(r.computed, 5);
  const files = readdirSync(out);
  for (const s of ['metrics.json', 'predictions.jsonl', 'requests.jsonl'])
    assert.ok(files.includes(`task-000-digital_socrates-${s}`), s);
  const m = r.tasks[0].metrics as Record<string, number>;
  // parsed: 4 of 5; human means 5, 1.5, 3, 4.333…, 2; predictions 5, 2, 2, 3, (unparseable)
  assert.equal(m.parsed, 0.8);
  assert.equal(m.unparseable, 1);
  assert.equal(m.n_correlated, 4);
  const pred = [5, 2, 2, 3];
  const human = [5, 1.5, 3, 13 / 3];
  assert.ok(Math.abs(m.score_pearson - pearson(pred, human)) < 1e-12);
  assert.ok(Math.abs(m.score_spearman - spearman(pred, human)) < 1e-12);
  assert.equal(m.primary_score, m.score_pearson);
  // exact (|pred − ref| ≤ 0.5): 5/5 yes, 2/1.5 yes, 2/3 no, 3/4.33 no, malformed no
  assert.equal(m.score_exact, 2 / 5);
  assert.equal(m.score_within1, 3 / 5);
  // dimensions vs gpt-4-0613: none≠irrelevant, =, ≠, =, malformed
  assert.equal(m.dimension_acc, 2 / 5);
  assert.equal(m.flaw_rate_student_correct, 0.5); // #1 no flaw, #4 flaw
  assert.equal(m.flaw_rate_student_wrong, 1); // #2, #3
  assert.equal(m['pred_score_student_Llama_2_7b_chat'], 2);
  assert.equal(m.dimension_share_incorrect_information, 0.5);

  const preds = lines(path.join(out, 'task-000-digital_socrates-predictions.jsonl'));
  const bad = preds.find((p) => p.native_id === 'q5|gpt-4-0613|p1');
  assert.equal(bad.model_output[0].parsed, false);
  assert.match(bad.model_output[0].parse_errors.join(';'), /explanation score 9 is outside 0–5/);
  assert.equal(bad.metrics.parsed, 0);
  const good = preds.find((p) => p.native_id === 'q2|Llama-2-7b-chat|p1');
  assert.deepEqual(good.model_output[0].critique_elements, {
    main_flaw: 'x',
    dimension: 'incorrect_information',
    general_feedback: 'g',
    specific_feedback: 's',
    explanation_score: 2,
  });
  const reqs = lines(path.join(out, 'task-000-digital_socrates-requests.jsonl'));
  assert.equal(reqs[0].request_type, 'generate_until');
  assert.ok(reqs[0].request.context.startsWith('[INST] <<SYS>>\nYou are a helpful and rigorous tutor.\n<</SYS>'));
  assert.ok(reqs[0].request.context.endsWith(' [/INST]\n\n'));
  assert.deepEqual(reqs[0].request.generation_kwargs, {
    max_gen_toks: 512,
    do_sample: false,
    temperature: 0,
    stop_sequences: [],
  });
  const cfg = JSON.parse(readFileSync(path.join(out, 'task-000-digital_socrates-metrics.json'), 'utf8')).task_config;
  assert.equal(cfg.prompt_source, OURS_TEMPLATE.source);

  // resume: nothing recomputed, same metrics
  const again = await runEval({
    tasks: ['digital_socrates'],
    source: src(),
    outputDir: out,
    backend: new ScriptedBackend('fake-critic', () => assert.fail('recomputed')),
  });
  assert.equal(again.computed, 0);
  assert.deepEqual(again.tasks[0].metrics, r.tasks[0].metrics);
  await assertRescoreIdentical(out); // Pearson and Spearman from the saved critiques
});

test('digital_socrates_dev scores against the gpt-4-0613 critique; DSCB-prompts.json beside the data is used', async () => {
  const root = tmp('dscb-dev');
  const dir = path.join(root, 'allenai', 'DS_Critique_Bank');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'DSCB-dev-non-anno.jsonl'),
    ROWS.slice(0, 4)
      .map((r) => JSON.stringify({ ...r, explanation_annotations: undefined }))
      .join('\n'),
  );
  writeFileSync(
    path.join(dir, 'DSCB-prompts.json'),
    JSON.stringify({
      digital_socrates_v1: {
        system: 'OFFICIAL',
        main: 'Q [[QUESTION]] E [[EXPLANATION]] P [[PREDICTEDANSWER]] K [[ANSWERKEY]]',
      },
    }),
  );
  const backend = new ScriptedBackend('fake-critic', (r) => ANSWERS[numberOf(r.context)]);
  const r = await runEval({
    tasks: ['digital_socrates_dev'],
    source: new LocalHfFolderSource(root),
    outputDir: tmp('ds-dev-out'),
    backend,
  });
  const m = r.tasks[0].metrics as Record<string, number>;
  assert.ok(backend.seen[0].context.startsWith('[INST] <<SYS>>\nOFFICIAL\n<</SYS>Q Question 1?'));
  assert.equal(
    (r.tasks[0].task_config as unknown as Record<string, unknown>).prompt_source,
    'DSCB-prompts.json digital_socrates_v1',
  );
  // predictions 5, 2, 2, 3 against GPT-4's 5, 1, 2, 4
  assert.equal(m.score_exact, 2 / 4);
  assert.equal(m.score_within1, 1);
  assert.ok(Math.abs(m.score_pearson - pearson([5, 2, 2, 3], [5, 1, 2, 4])) < 1e-12);
  assert.equal(m.dimension_acc, 2 / 4);
});

test('malformed DSCB rows give errors naming file and line', async () => {
  const cases: [string, RegExp][] = [
    [
      JSON.stringify(ROWS[0]) + '\n\n' + JSON.stringify({ ...ROWS[1], student_explanation: 7 }) + '\n',
      /DSCB-dev-crowd-anno\.jsonl:3: field "student_explanation" must be a string/,
    ],
    [
      JSON.stringify({ ...ROWS[0], explanation_annotations: [{ explanation_score: 'high' }] }) + '\n',
      /DSCB-dev-crowd-anno\.jsonl:1: explanation_annotations\[0\]\.explanation_score must be a number/,
    ],
    [
      JSON.stringify({
        ...ROWS[0],
        critiques: [{ critique_model: 'gpt-4-0613', critique_elements: { dimension: 'vague', explanation_score: 2 } }],
      }) + '\n',
      /jsonl:1: critique_elements\.dimension "vague" is not one of/,
    ],
    ['{"id": 1,\n', /DSCB-dev-crowd-anno\.jsonl:1: malformed JSON line/],
  ];
  for (const [text, re] of cases) {
    const root = tmp('dscb-bad');
    writeDscb(root, [], text);
    await assert.rejects(
      runEval({
        tasks: ['digital_socrates'],
        source: new LocalHfFolderSource(root),
        outputDir: tmp('ds-bad-out'),
        backend: new ScriptedBackend('x', () => ''),
      }),
      re,
    );
  }
});

test('task ids: registered names, no rc/mc format, unknown regime', () => {
  const plan = planTasks(
    ['digital_socrates', 'digital_socrates_dev::olmes', 'digital_socrates_expert', 'digital_socrates_student'],
    { limit: 3 },
  );
  assert.deepEqual(
    plan.tasks.map((t) => t.config.alias),
    [
      'digital_socrates::olmes',
      'digital_socrates_dev::olmes',
      'digital_socrates_expert::olmes',
      'digital_socrates_student::olmes',
    ],
  );
  assert.equal(plan.tasks[0].config.limit, 3);
  assert.equal(plan.tasks[1].config.split, 'DSCB-dev-non-anno');
  assert.throws(
    () => planTasks(['digital_socrates:mc']),
    /digital_socrates is a generation task and has no :mc format/,
  );
  assert.throws(() => planTasks(['digital_socrates::zzz']), /unknown regime "zzz"/);
});

test('student answers: explanation before the last "Answer:", the letter, or null (never guessed)', () => {
  assert.deepEqual(parseStudentOutput('1) heat is energy.\n2) so C.\nAnswer: (C)'), {
    explanation: '1) heat is energy.\n2) so C.',
    answer: 'C',
  });
  assert.deepEqual(parseStudentOutput('I think it is about entropy.'), {
    explanation: 'I think it is about entropy.',
    answer: null,
  });
});

test("critic mode: a second backend critiques the student model's explanations; both stages write files and resume", async () => {
  const root = tmp('dscb-critic');
  writeDscb(root, ROWS);
  const out = tmp('ds-critic-out');
  // the student explains question n and answers C for odd n, D for even n
  const student = new ScriptedBackend('fake-student', (r) => {
    const n = Number(/Question (\d+)\?/.exec(r.context)![1]);
    return n === 5 ? 'No idea.' : `Reasoning for ${n}.\nAnswer: (${n % 2 ? 'C' : 'D'})`;
  });
  // the critic gives 5 without a flaw to right answers, 1 with a flaw to wrong ones
  const critic = new ScriptedBackend('fake-critic', (r) => {
    const right = /Student answer: \(C\)/.test(r.context);
    return right ? critique(null, 'none', 5) : critique('wrong', 'incorrect_reasoning', 1);
  });
  const res = await runDigitalSocratesCriticMode({
    student,
    critic,
    source: new LocalHfFolderSource(root),
    outputDir: out,
    promptStyle: 'plain',
  });
  assert.ok(existsSync(path.join(out, 'student', 'task-000-digital_socrates_student-predictions.jsonl')));
  assert.ok(existsSync(path.join(out, 'critic', 'task-000-digital_socrates_critic-metrics.json')));
  const sm = res.student.tasks[0].metrics as Record<string, number>;
  assert.equal(sm.accuracy, 2 / 5); // q1, q3 right; q5 unanswered
  assert.equal(sm.answer_parsed, 4 / 5);
  assert.equal(res.items.length, 5);
  assert.equal(res.items[4].student_answer, 'none');
  const cm = res.critic.tasks[0].metrics as Record<string, number>;
  // scores 5, 1, 5, 1, 1 (q5: answer "none" is not C)
  assert.equal(cm.pred_score, 13 / 5);
  assert.equal(cm.primary_score, 13 / 5);
  assert.equal(cm.flaw_rate_student_correct, 0);
  assert.equal(cm.flaw_rate_student_wrong, 1);
  assert.equal(cm.dimension_share_incorrect_reasoning, 3 / 5);
  assert.equal(cm['pred_score_student_fake_student'], 13 / 5);
  assert.ok(critic.seen[0].context.startsWith('You are a helpful and rigorous tutor.\n\n'));
  assert.ok(critic.seen.some((r) => r.context.includes('Reasoning for 2.')));
  // resume: both stages from their caches
  const again = await runDigitalSocratesCriticMode({
    student: new ScriptedBackend('fake-student', () => assert.fail('student recomputed')),
    critic: new ScriptedBackend('fake-critic', () => assert.fail('critic recomputed')),
    source: new LocalHfFolderSource(root),
    outputDir: out,
    promptStyle: 'plain',
  });
  assert.equal(again.student.computed + again.critic.computed, 0);
  assert.deepEqual(again.critic.tasks[0].metrics, res.critic.tasks[0].metrics);
  await assertRescoreAllIdentical(out, 2);
});
