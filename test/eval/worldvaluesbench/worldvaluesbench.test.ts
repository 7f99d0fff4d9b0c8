// WorldValuesBench: W1 against scipy references from the real samples (skipped when ../shared is absent), a self-made
// release folder and WVS CSV (no real survey answers anywhere), and fake-backend runs through the OLMES runner.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { planTasks } from '../../../src/eval/registry.ts';
import type { Backend } from '../../../src/eval/runner/backend.ts';
import { runEval } from '../../../src/eval/runner/run.ts';
import type { GenerateUntilRequest, LoglikelihoodRequest } from '../../../src/eval/types.ts';
import { assertRescoreIdentical } from '../rescore-check.ts';
import {
  coerceScore,
  evaluateOfficial,
  extractScore,
  majorityBaseline,
  officialTsv,
  ordinalAnswer,
  paperPrompt,
  parseProbe,
  questionW1,
  questionW1Strict,
  readTsv,
  shareWithin,
  uniformBaseline,
  wasserstein1,
  splitCsvLine,
} from '../../../src/eval/tasks/worldvaluesbench/index.ts';

const SAMPLES = new URL('../../../../shared/fixtures/benchmarks/worldvaluesbench/', import.meta.url).pathname;
const haveSamples = existsSync(join(SAMPLES, 'expected_w1_reference.json'));
const skipMsg = haveSamples
  ? false
  : `WorldValuesBench samples not found at ${SAMPLES} (../shared/fixtures/benchmarks/worldvaluesbench); skipping the reference checks`;

function modelScores(file: string, q: string): number[] {
  return readTsv(join(SAMPLES, 'model_outputs_subset', file))
    .filter((r) => r.QUESTION_ID === q)
    .map((r) => coerceScore(r.SCORE))
    .filter((x): x is number => x !== null);
}

test(
  'reference: W1 equals scipy on the real model outputs, uniform baselines and synthetic cases (1e-9)',
  { skip: skipMsg },
  () => {
    const ref = JSON.parse(readFileSync(join(SAMPLES, 'expected_w1_reference.json'), 'utf8'));
    let n = 0;
    for (const c of ref.cases) {
      const scale = { min: c.scale[0], max: c.scale[1] };
      const file = (s: string) => /model_outputs_subset\/(\S+\.tsv)/.exec(s)?.[1];
      const side = (s: string) =>
        s.startsWith('uniform')
          ? Array.from({ length: scale.max - scale.min + 1 }, (_, i) => scale.min + i)
          : modelScores(file(s)!, c.question);
      const u = side(c.u);
      const v = side(c.v);
      if (c.n_u !== undefined) assert.equal(u.length, c.n_u, `${c.question} ${c.u}`);
      if (c.n_v !== undefined) assert.equal(v.length, c.n_v, `${c.question} ${c.v}`);
      if (c.max_u_raw !== undefined) assert.equal(Math.max(...u), c.max_u_raw);
      const w = questionW1(u, v, scale);
      assert.ok(Math.abs(w - c.w1_normalized) <= 1e-9, `${c.question} ${c.u} vs ${c.v}: ${w} ≠ ${c.w1_normalized}`);
      n++;
    }
    for (const c of ref.synthetic_cases) {
      const w = questionW1(c.u_raw, c.v_raw, { min: c.scale[0], max: c.scale[1] });
      assert.ok(Math.abs(w - c.w1_normalized) <= 1e-9, JSON.stringify(c));
      n++;
    }
    assert.equal(n, 13);
    // the notebook's threshold curve (≤ t) from the 36 per-question values
    const w1s = Object.values(ref.threshold_case.per_question) as number[];
    assert.equal(w1s.length, 36);
    for (const [t, pct] of Object.entries(ref.threshold_case.pct_le) as [string, number][]) {
      assert.ok(Math.abs(shareWithin(w1s, Number(t)).le - pct) <= 1e-9, `t=${t}`);
    }
    assert.deepEqual(shareWithin(w1s, 0.2), { le: (100 * 6) / 36, lt: (100 * 6) / 36 });
  },
);

test('reference: the probe index parses (230 rows per question, 46 groups)', { skip: skipMsg }, () => {
  const path = join(SAMPLES, 'probe_samples_Q1_Q57_Q106.tsv');
  const probe = parseProbe(readTsv(path), path);
  assert.equal(probe.length, 690);
  for (const q of ['Q1', 'Q57', 'Q106']) assert.equal(probe.filter((p) => p.question === q).length, 230);
  assert.equal(new Set(probe.map((p) => `${p.continent}/${p.urbanRural}/${p.education}`)).size, 46);
});

test('W1 basics: weights, symmetry, ≤ vs <, strict charge, baselines, coercion', () => {
  assert.equal(wasserstein1([0], [1]), 1);
  assert.ok(Math.abs(wasserstein1([0, 1], [0, 1], undefined, [3, 1]) - 0.25) < 1e-15);
  assert.equal(wasserstein1([1, 2, 3], [3, 1, 2]), 0);
  assert.equal(wasserstein1([0, 5], [1]), wasserstein1([1], [5, 0]));
  // a threshold hit exactly: ≤ counts it, < does not
  assert.deepEqual(shareWithin([0.2, 0.1, 0.3], 0.2), { le: 200 / 3, lt: 100 / 3 });
  // strict: half the answers off-scale → half the mass charged 1
  const s = questionW1Strict([1, 1], [1, 9], { min: 1, max: 4 });
  assert.equal(s.validShare, 0.5);
  assert.equal(s.w1, 0.5);
  // paper: not clipped — the off-scale 9 sits at (9−1)/3 = 8/3, so W1 = ½·8/3
  assert.ok(Math.abs(questionW1([1, 1], [1, 9], { min: 1, max: 4 }) - 4 / 3) < 1e-15);
  assert.equal(uniformBaseline([1, 1, 1, 1], { min: 1, max: 4 }), 0.5);
  assert.ok(Math.abs(majorityBaseline([2, 2, 3], { min: 1, max: 4 }) - 1 / 9) < 1e-15);
  assert.equal(coerceScore('3'), 3);
  assert.equal(coerceScore('3.9'), 3);
  assert.equal(coerceScore(' 11 '), 11);
  assert.equal(coerceScore('three'), null);
  assert.equal(coerceScore(''), null);
  assert.equal(extractScore('{"thoughtful explanation": "x", "answer as a score": "4"}'), '4');
  assert.equal(extractScore('{"answer as a score": 7}'), '7');
  assert.equal(extractScore(' 2 '), '2');
  assert.equal(extractScore('I think 2 or 3'), null);
  assert.deepEqual(splitCsvLine('1,"a, b",3', ','), ['1', 'a, b', '3']);
  assert.equal(ordinalAnswer('2', 'Q56', { Q56: { '2': '3', '3': '2' } }), 3);
  assert.equal(ordinalAnswer('-1', 'Q1', {}), null);
  assert.equal(ordinalAnswer('3.0', 'Q111', { Q111: { '3': '' } }), null);
});

// ---- a self-made release and WVS CSV (invented participants and answers) ----

const CONTINENT: Record<string, string> = { '840': 'North America', '276': 'Europe' };
const COUNTRY: Record<string, string> = { '840': 'United States', '276': 'Germany' };
const EDU = ['Primary education (ISCED 1)', 'Bachelor or equivalent (ISCED 6)'];
const LEVEL = ['Primary or No Education', 'Tertiary'];

function writeRelease(
  root: string,
  withCsv: boolean,
): { dir: string; people: { id: string; c: string; u: number; e: number; q1: number; q57: number }[] } {
  const dir = join(root, 'Demon702', 'WorldValuesBench');
  mkdirSync(join(dir, 'dataset_construction'), { recursive: true });
  mkdirSync(join(dir, 'WorldValuesBench', 'probe'), { recursive: true });
  const meta = {
    Q1: {
      question:
        "On a scale of 1 to 4, 1 meaning 'Very important' and 4 meaning 'Not at all important', how important is family in your life?",
      category: 'Social Values, Norms, Stereotypes',
      use_case: 'value',
      answer_scale_min: 1,
      answer_scale_max: 4,
      answer_data_type: 'ordinal',
    },
    Q57: {
      question:
        "On a scale of 1 to 2, 1 meaning 'Most people can be trusted' and 2 meaning 'Need to be very careful', generally speaking, would you say people can be trusted or you need to be careful in dealing with people?",
      category: 'Social Capital, Trust and Organizational Membership',
      use_case: 'value',
      answer_scale_min: 1,
      answer_scale_max: 2,
      answer_data_type: 'ordinal',
    },
    D_INTERVIEW: {
      question: 'What is the unique ID for this interview?',
      category: 'Technical Variables',
      use_case: 'demographic',
      answer_scale_min: '',
      answer_scale_max: '',
      answer_data_type: 'non_ordinal',
    },
    B_COUNTRY: {
      question: 'In what country was the interview conducted?',
      category: 'Technical Variables',
      use_case: 'demographic',
      answer_scale_min: '',
      answer_scale_max: '',
      answer_data_type: 'non_ordinal',
    },
    H_URBRURAL: {
      question: 'What is the type of settlement in which the interview was conducted? Urban or Rural?',
      category: 'Technical Variables',
      use_case: 'demographic',
      answer_scale_min: '',
      answer_scale_max: '',
      answer_data_type: 'non_ordinal',
    },
    Q275: {
      question: 'What is the highest educational level that you have attained?',
      category: 'Demographic and Socioeconomic Variables',
      use_case: 'demographic',
      answer_scale_min: '',
      answer_scale_max: '',
      answer_data_type: 'non_ordinal',
    },
    Q260: {
      question: 'What is your sex?',
      category: 'Demographic and Socioeconomic Variables',
      use_case: 'demographic',
      answer_scale_min: '',
      answer_scale_max: '',
      answer_data_type: 'non_ordinal',
    },
  };
  const codebook = {
    B_COUNTRY: { question: 'ISO 3166-1 numeric country code', choices: COUNTRY },
    H_URBRURAL: { question: 'Urban-Rural', choices: { '1': 'Urban', '2': 'Rural' } },
    Q275: { question: 'Education', choices: { '1': EDU[0], '6': EDU[1] } },
    Q260: { question: 'Sex', choices: { '1': 'Male', '2': 'Female' } },
  };
  writeFileSync(join(dir, 'dataset_construction', 'question_metadata.json'), JSON.stringify(meta));
  writeFileSync(join(dir, 'dataset_construction', 'codebook.json'), JSON.stringify(codebook));
  writeFileSync(
    join(dir, 'dataset_construction', 'answer_adjustment.json'),
    JSON.stringify({ Q56: { '2': '3', '3': '2' } }),
  );
  const people = Array.from({ length: 16 }, (_, i) => ({
    id: `${i % 2 ? '276' : '840'}07${String(1000 + i)}`,
    c: i % 2 ? '276' : '840',
    u: (Math.floor(i / 2) % 2) + 1,
    e: Math.floor(i / 4) % 2,
    q1: (i % 4) + 1,
    q57: i % 3 === 0 ? 1 : 2,
  }));
  const probe = ['Question\tQuestion Category\tContinent\tUrban / Rural\tEducation\tD_INTERVIEW'];
  for (const q of ['Q1', 'Q57']) {
    for (const p of people)
      probe.push(
        `${q}\t${meta[q as 'Q1'].category}\t${CONTINENT[p.c]}\t${p.u === 1 ? 'Urban' : 'Rural'}\t${LEVEL[p.e]}\t${p.id}`,
      );
  }
  writeFileSync(join(dir, 'WorldValuesBench', 'probe', 'samples.tsv'), probe.join('\n') + '\n');
  if (withCsv) {
    const head = 'version,D_INTERVIEW,B_COUNTRY,H_URBRURAL,Q1,Q56,Q57,Q260,Q275';
    const rows = people.map(
      (p, i) => `"5-0-0",${p.id},${p.c},${p.u},${p.q1},2,${p.q57},${i % 3 === 0 ? -2 : 1},${p.e ? 6 : 1}`,
    );
    rows.push(`"5-0-0",858069901,840,1,1,1,1,1,1`, `"5-0-0",99907999,840,1,-1,1,1,1,1`);
    writeFileSync(join(dir, 'WVS_Cross-National_Wave_7_csv_v5_0.csv'), [head, ...rows].join('\n') + '\n');
  }
  return { dir, people };
}

/** Sampling: "2" for urban participants, else "1"; rural graduates: junk in Germany, 11 (off-scale) in the US. Log-probs favour " 1}". */
class FakeSurveyModel implements Backend {
  readonly name = 'fake-survey';
  readonly maxLength = 4096;
  gen: GenerateUntilRequest[] = [];
  async loglikelihood(rs: LoglikelihoodRequest[]) {
    return rs.map((r) => ({
      logprob: r.continuation === ' 1}' ? -0.1 : r.context.includes('Answer: Rural') ? -1 : -3,
      isGreedy: false,
      numTokens: 2,
    }));
  }
  async loglikelihoodRolling(): Promise<never> {
    throw new Error('unused');
  }
  async generateUntil(rs: GenerateUntilRequest[]) {
    this.gen.push(...rs);
    return rs.map((r) => {
      const ruralBachelor = r.context.includes('Answer: Rural') && r.context.includes('Bachelor');
      if (ruralBachelor && r.context.includes('Germany')) return 'I cannot say.';
      if (ruralBachelor && r.context.includes('United States'))
        return '{"thoughtful explanation": "x", "answer as a score": "11"}';
      return `{"thoughtful explanation": "They value it.", "answer as a score": "${r.context.includes('Answer: Urban') ? 2 : 1}"}`;
    });
  }
}

const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l));

test('end to end: sampled (paper) and log-prob runs write outputs; metrics match the metric functions', async () => {
  const root = mkdtempSync(join(tmpdir(), 'wvb-data-'));
  const { people } = writeRelease(root, true);
  const out = mkdtempSync(join(tmpdir(), 'wvb-run-'));
  const backend = new FakeSurveyModel();
  const ids = ['worldvaluesbench::paper', 'worldvaluesbench::logprob', 'worldvaluesbench::paper-nodemo'];
  const r = await runEval({ tasks: ids, source: new LocalHfFolderSource(root), outputDir: out, backend, batchSize: 5 });
  assert.equal(r.tasks.length, 3);
  // the paper's prompt, with the demographic block in the README's order, codebook text, missing answers left out
  const first = backend.gen[0];
  assert.ok(
    first.context.startsWith(
      'Person X provided the following demographic information in an interview:\n1. Question: In what country was the interview conducted?\n Answer: United States\n2. Question: What is the type of settlement in which the interview was conducted? Urban or Rural?\n Answer: Urban\n3. Question: What is the highest educational level that you have attained?\n Answer: Primary education (ISCED 1)\n',
    ),
  );
  assert.ok(!first.context.includes('What is your sex?')); // person 0 has Q260 = -2 (no answer)
  assert.ok(
    first.context.endsWith(
      'What would Person X answer to the following question and why?\nQuestion: ' +
        "On a scale of 1 to 4, 1 meaning 'Very important' and 4 meaning 'Not at all important', how important is family in your life?" +
        '\n\nYour output should be in the following format:\n{\n  "thoughtful explanation": "... upto 30 words (keep their demographics in mind) ...",\n  "answer as a score": "... score ..."\n}',
    ),
  );
  // no-demographics prompts are identical per question but stay distinct requests (one sample per row)
  const nodemo = backend.gen.filter((g) => g.context.startsWith('What would a person'));
  assert.equal(nodemo.length, 32);
  assert.equal(new Set(nodemo.map((g) => g.generation_kwargs.seed)).size, 32);

  const paper = r.tasks.find((t) => t.task_config.alias === 'worldvaluesbench::paper')!;
  assert.equal(paper.num_instances, 2);
  // recompute Q1 by hand: human answers from the CSV, model answers as the fake gives them
  const human = people.map((p) => p.q1);
  const model: (number | null)[] = people.map((p) =>
    p.u === 2 && p.e === 1 ? (p.c === '276' ? null : 11) : p.u === 1 ? 2 : 1,
  );
  const w1q1 = questionW1(
    human,
    model.filter((x): x is number => x !== null),
    { min: 1, max: 4 },
  );
  const preds = lines(join(out, 'task-000-worldvaluesbench-predictions.jsonl'));
  const q1 = preds.find((p) => p.native_id === 'Q1');
  assert.ok(Math.abs(q1.metrics.w1 - w1q1) < 1e-12);
  assert.ok(Math.abs(q1.metrics.w1_strict - questionW1Strict(human, model, { min: 1, max: 4 }).w1) < 1e-12);
  assert.equal(q1.metrics.valid_frac, 14 / 16);
  assert.equal(q1.metrics.out_of_range_frac, 2 / 16);
  assert.ok(
    'w1:continent=Europe' in q1.metrics &&
      'w1:urban_rural=Rural' in q1.metrics &&
      'w1:education=Tertiary' in q1.metrics &&
      'w1:group=Europe/Rural/Tertiary' in q1.metrics,
  );
  // the Urban group: model says 2 everywhere except the off-scale/junk rows
  const urban = people.map((p, i) => [p, i] as const).filter(([p]) => p.u === 1);
  const wUrban = questionW1(
    urban.map(([p]) => p.q1),
    urban.map(([, i]) => model[i]).filter((x): x is number => x !== null),
    { min: 1, max: 4 },
  );
  assert.ok(Math.abs(q1.metrics['w1:urban_rural=Urban'] - wUrban) < 1e-12);
  // task metrics = means over questions; primary = share with W1 ≤ 0.2
  const mean = (k: string) => preds.reduce((s, p) => s + p.metrics[k], 0) / preds.length;
  assert.equal(paper.metrics.primary_score, mean('within_0.2_le'));
  assert.equal(paper.metrics.w1, mean('w1'));
  assert.ok(
    'within_0.2_lt' in paper.metrics && 'within_0.40_le' in paper.metrics && 'w1_majority_baseline' in paper.metrics,
  );
  // the official evaluate.py input, re-scored by the port of evaluate.py, gives the same W1
  const tsv = officialTsv(preds);
  const rows = tsv
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [a, b, c] = l.split('\t');
      return { QUESTION_ID: a, PARTICIPANT_ID: b, SCORE: c };
    });
  const hmap = new Map<string, number>(
    people.flatMap(
      (p) =>
        [
          [`Q1:${p.id}`, p.q1],
          [`Q57:${p.id}`, p.q57],
        ] as [string, number][],
    ),
  );
  const off = evaluateOfficial(
    rows,
    (q, id) => hmap.get(`${q}:${id}`) ?? null,
    (q) => (q === 'Q1' ? { min: 1, max: 4 } : { min: 1, max: 2 }),
  );
  assert.ok(Math.abs(off.Q1 - w1q1) < 1e-12);

  // log-prob: the model distribution is the mean of per-row softmaxes over the scale points
  const lp = lines(join(out, 'task-001-worldvaluesbench-predictions.jsonl')).find((p) => p.native_id === 'Q57');
  const soft = (rural: boolean) => {
    const a = Math.exp(-0.1),
      b = Math.exp(rural ? -1 : -3);
    return [a / (a + b), b / (a + b)];
  };
  const w = [0, 1].map((k) => people.reduce((s, p) => s + soft(p.u === 2)[k], 0) / people.length);
  const expectLp = wasserstein1(
    people.map((p) => p.q57 - 1),
    [0, 1],
    undefined,
    w,
  );
  assert.ok(Math.abs(lp.metrics.w1 - expectLp) < 1e-12);
  assert.equal(lp.model_output.length, 16);
  const reqs = lines(join(out, 'task-001-worldvaluesbench-requests.jsonl'));
  assert.equal(reqs.length, 16 * 4 + 16 * 2);
  assert.ok(reqs[0].request.context.endsWith('{"answer as a score":') && reqs[0].request.continuation === ' 1}');

  // resume: nothing recomputed
  const again = new FakeSurveyModel();
  const r2 = await runEval({ tasks: ids, source: new LocalHfFolderSource(root), outputDir: out, backend: again });
  assert.equal(r2.computed, 0);
  assert.deepEqual(r2.metrics.all_primary_scores, r.metrics.all_primary_scores);
  // rescore: sampled and log-prob protocols, group breakdowns, from the saved rows and raw results (no CSV)
  await assertRescoreIdentical(out);
});

test('a missing WVS CSV says where to get it; unknown regimes are refused', async () => {
  const root = mkdtempSync(join(tmpdir(), 'wvb-nocsv-'));
  writeRelease(root, false);
  const saved = process.env.OLMO_WVS_CSV;
  delete process.env.OLMO_WVS_CSV;
  try {
    await assert.rejects(
      runEval({
        tasks: ['worldvaluesbench'],
        source: new LocalHfFolderSource(root),
        outputDir: mkdtempSync(join(tmpdir(), 'wvb-')),
        backend: new FakeSurveyModel(),
      }),
      /World Values Survey Wave 7 data not found .*forbid redistribution.*worldvaluessurvey\.org\/WVSDocumentationWV7\.jsp.*OLMO_WVS_CSV/s,
    );
  } finally {
    if (saved !== undefined) process.env.OLMO_WVS_CSV = saved;
  }
  await assert.rejects(
    runEval({
      tasks: ['worldvaluesbench::paper'],
      source: new LocalHfFolderSource(mkdtempSync(join(tmpdir(), 'empty-'))),
      outputDir: mkdtempSync(join(tmpdir(), 'wvb-')),
      backend: new FakeSurveyModel(),
    }),
    /WorldValuesBench release not found .*Clone https:\/\/github.com\/Demon702\/WorldValuesBench/,
  );
  assert.throws(
    () => planTasks(['worldvaluesbench::bogus']),
    /regimes are olmes \(= paper\), paper, paper-nodemo, logprob, logprob-nodemo/,
  );
  assert.equal(planTasks(['worldvaluesbench']).tasks[0].config.alias, 'worldvaluesbench::olmes');
  assert.equal(paperPrompt(null, 'Q?').startsWith('What would a person answer'), true);
});
