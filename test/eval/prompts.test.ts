// Exact request strings (context, continuation) for sample rows of every task and format, as the OLMES standard
// (Gu et al., https://arxiv.org/abs/2406.08446; allenai/olmes, https://github.com/allenai/olmes) gives them:
// cloze and MC forms, few-shot assembly, MMLU header, BoolQ passage, HellaSwag cleaning with Python's
// capitalize, WinoGrande partial contexts and the PMI requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeTask } from '../../src/eval/registry.ts';
import type { Format } from '../../src/eval/task.ts';
import type { LoglikelihoodRequest, Row } from '../../src/eval/types.ts';
import { requestRecord } from '../../src/eval/runner/outputs.ts';

function requests(name: string, format: Format, row: Row, shots: Row[] = []) {
  const task = makeTask(name, format, 'olmes');
  const doc = task.def.processDoc(row, 0, 'test row');
  const shotDocs = shots.map((r, i) => task.def.processDoc(r, i, `shot ${i}`));
  const insts = task.buildInstances(doc, 0, shotDocs);
  return {
    doc,
    insts,
    pairs: insts
      .filter((i) => !i.uncond)
      .map((i) => [(i.request as LoglikelihoodRequest).context, (i.request as LoglikelihoodRequest).continuation]),
    uncond: insts
      .filter((i) => i.uncond)
      .map((i) => [(i.request as LoglikelihoodRequest).context, (i.request as LoglikelihoodRequest).continuation]),
  };
}

const arc = {
  id: 'Q1',
  question: 'Which gas do plants absorb?',
  choices: { text: ['oxygen', 'carbon dioxide', 'helium', 'neon'], label: ['A', 'B', 'C', 'D'] },
  answerKey: 'B',
};

test('ARC RC: cloze prompt, answer continuations with a leading space, PMI requests on "Answer:"', () => {
  const ctx = 'Question: Which gas do plants absorb?\nAnswer:';
  for (const name of ['arc_easy', 'arc_challenge']) {
    const r = requests(name, 'rc', arc);
    assert.deepEqual(r.pairs, [
      [ctx, ' oxygen'],
      [ctx, ' carbon dioxide'],
      [ctx, ' helium'],
      [ctx, ' neon'],
    ]);
    assert.deepEqual(r.uncond, [
      ['Answer:', ' oxygen'],
      ['Answer:', ' carbon dioxide'],
      ['Answer:', ' helium'],
      ['Answer:', ' neon'],
    ]);
    assert.equal(r.doc.gold, 1);
  }
  assert.equal(makeTask('arc_easy', 'rc', 'olmes').config.primary_metric, 'acc_per_char');
  assert.equal(makeTask('arc_challenge', 'rc', 'olmes').config.primary_metric, 'acc_uncond');
});

test('ARC MC: lettered choices " A. text", continuation " B"; numeric answerKey maps to letters; 3 choices', () => {
  const r = requests('arc_easy', 'mc', arc);
  const ctx = 'Question: Which gas do plants absorb?\n A. oxygen\n B. carbon dioxide\n C. helium\n D. neon\nAnswer:';
  assert.deepEqual(r.pairs, [
    [ctx, ' A'],
    [ctx, ' B'],
    [ctx, ' C'],
    [ctx, ' D'],
  ]);
  assert.deepEqual(r.uncond, []);
  const three = {
    id: 'Q2',
    question: 'Pick one',
    choices: { text: ['x', 'y', 'z'], label: ['1', '2', '3'] },
    answerKey: '3',
  };
  const r3 = requests('arc_challenge', 'mc', three);
  assert.equal(r3.doc.gold, 2);
  assert.deepEqual(
    r3.pairs.map((p) => p[1]),
    [' A', ' B', ' C'],
  );
  assert.equal(r3.pairs[0][0], 'Question: Pick one\n A. x\n B. y\n C. z\nAnswer:');
});

test('few-shot assembly: shots are text+target joined by "\\n\\n", one more "\\n\\n", then the query', () => {
  const s1 = {
    id: 'S1',
    question: 'What is ice?',
    choices: { text: ['water', 'fire'], label: ['A', 'B'] },
    answerKey: 'A',
  };
  const s2 = {
    id: 'S2',
    question: 'What glows?',
    choices: { text: ['rock', 'lamp'], label: ['A', 'B'] },
    answerKey: 'B',
  };
  const rc = requests('arc_easy', 'rc', arc, [s1, s2]);
  assert.equal(
    rc.pairs[0][0],
    'Question: What is ice?\nAnswer: water\n\nQuestion: What glows?\nAnswer: lamp\n\nQuestion: Which gas do plants absorb?\nAnswer:',
  );
  assert.deepEqual(rc.uncond[0], ['Answer:', ' oxygen']); // no shots in the unconditioned context
  const mc = requests('arc_easy', 'mc', arc, [s1]);
  assert.equal(
    mc.pairs[0][0],
    'Question: What is ice?\n A. water\n B. fire\nAnswer: A\n\nQuestion: Which gas do plants absorb?\n A. oxygen\n B. carbon dioxide\n C. helium\n D. neon\nAnswer:',
  );
});

test('BoolQ: passage form with "?" appended, " yes"/" no", gold = 1 - label, no PMI', () => {
  const row = { question: 'is the sky blue', passage: 'Sky -- The sky is blue on clear days.', idx: 5, label: 1 };
  const rc = requests('boolq', 'rc', row);
  const ctx = 'Sky -- The sky is blue on clear days.\nQuestion: is the sky blue?\nAnswer:';
  assert.deepEqual(rc.pairs, [
    [ctx, ' yes'],
    [ctx, ' no'],
  ]);
  assert.deepEqual(rc.uncond, []);
  assert.equal(rc.doc.gold, 0);
  assert.equal(rc.doc.native_id, 5);
  const mc = requests('boolq', 'mc', { ...row, label: 0 });
  const mctx = 'Sky -- The sky is blue on clear days.\nQuestion: is the sky blue?\n A. yes\n B. no\nAnswer:';
  assert.deepEqual(mc.pairs, [
    [mctx, ' A'],
    [mctx, ' B'],
  ]);
  assert.equal(mc.doc.gold, 1);
});

test('CommonsenseQA: 5 choices, gold from answerKey, PMI primary', () => {
  const row = {
    id: 'c1',
    question: 'Where do you keep  milk?',
    question_concept: 'milk',
    choices: { label: ['A', 'B', 'C', 'D', 'E'], text: ['fridge', 'oven', 'garage', 'roof', 'car'] },
    answerKey: 'D',
  };
  const rc = requests('csqa', 'rc', row);
  assert.deepEqual(
    rc.pairs.map((p) => p[1]),
    [' fridge', ' oven', ' garage', ' roof', ' car'],
  );
  assert.equal(rc.pairs[0][0], 'Question: Where do you keep  milk?\nAnswer:'); // fields are not stripped
  assert.equal(rc.uncond.length, 5);
  assert.equal(rc.doc.gold, 3);
  const mc = requests('csqa', 'mc', row);
  assert.equal(
    mc.pairs[0][0],
    'Question: Where do you keep  milk?\n A. fridge\n B. oven\n C. garage\n D. roof\n E. car\nAnswer:',
  );
});

const hs = {
  ind: 4,
  activity_label: 'Baking cookies',
  ctx_a: 'A woman pours flour into a bowl.',
  ctx_b: 'she THEN adds Sugar',
  ctx: 'A woman pours flour into a bowl. she THEN adds Sugar',
  endings: [' stirs the [title] mix.', 'leaves the  kitchen.', 'eats the bowl.', 'paints the wall. [step] quickly'],
  source_id: 'x',
  split: 'val',
  split_type: 'indomain',
  label: '1',
};

test('HellaSwag RC: capitalize lowers the rest of ctx_b; preprocess cleans query and endings (strings from Python)', () => {
  const r = requests('hellaswag', 'rc', hs);
  const ctx = 'Baking cookies: A woman pours flour into a bowl. She then adds sugar';
  assert.deepEqual(r.pairs, [
    [ctx, ' stirs the. mix.'],
    [ctx, ' leaves the kitchen.'],
    [ctx, ' eats the bowl.'],
    [ctx, ' paints the wall. quickly'],
  ]);
  assert.deepEqual(r.uncond[1], ['Answer:', ' leaves the kitchen.']);
  assert.equal(r.doc.gold, 1);
  assert.equal(r.doc.native_id, 4);
});

test('HellaSwag MC: the whole MC prompt goes through preprocess once, no Question: prefix', () => {
  const r = requests('hellaswag', 'mc', hs);
  const ctx =
    'Baking cookies: A woman pours flour into a bowl. She then adds sugar\nChoose the best continuation:\n A. stirs the. mix.\n B. leaves the kitchen.\n C. eats the bowl.\n D. paints the wall. quickly\nAnswer:';
  assert.deepEqual(
    r.pairs.map((p) => p[0]),
    [ctx, ctx, ctx, ctx],
  );
  assert.deepEqual(
    r.pairs.map((p) => p[1]),
    [' A', ' B', ' C', ' D'],
  );
});

test('MMLU: header once before the first shot in RC and MC; shots from dev; PMI only for RC', () => {
  const row = { question: 'What is 2+2?', subject: 'elementary_mathematics', choices: ['3', '4', '5', '6'], answer: 1 };
  const shot = {
    question: 'What is 1+1?',
    subject: 'elementary_mathematics',
    choices: ['2', '3', '4', '5'],
    answer: 0,
  };
  const header = 'The following are multiple choice questions (with answers) about elementary mathematics.\n\n';
  const rc = requests('mmlu_elementary_mathematics', 'rc', row, [shot]);
  assert.deepEqual(rc.pairs[1], [
    header + 'Question: What is 1+1?\nAnswer: 2\n\nQuestion: What is 2+2?\nAnswer:',
    ' 4',
  ]);
  assert.deepEqual(rc.uncond[1], ['Answer:', ' 4']);
  const mc0 = requests('mmlu_elementary_mathematics', 'mc', row);
  assert.deepEqual(mc0.pairs[1], [header + 'Question: What is 2+2?\n A. 3\n B. 4\n C. 5\n D. 6\nAnswer:', ' B']);
  const mc = requests('mmlu_elementary_mathematics', 'mc', row, [shot]);
  assert.equal(
    mc.pairs[0][0],
    header +
      'Question: What is 1+1?\n A. 2\n B. 3\n C. 4\n D. 5\nAnswer: A\n\nQuestion: What is 2+2?\n A. 3\n B. 4\n C. 5\n D. 6\nAnswer:',
  );
});

test('OpenBookQA: question_stem, answerKey stripped', () => {
  const row = {
    id: '7-1',
    question_stem: 'The sun is a',
    choices: { text: ['star', 'planet', 'moon', 'comet'], label: ['A', 'B', 'C', 'D'] },
    answerKey: ' A ',
  };
  const rc = requests('openbookqa', 'rc', row);
  assert.deepEqual(rc.pairs[0], ['Question: The sun is a\nAnswer:', ' star']);
  assert.equal(rc.doc.gold, 0);
  assert.equal(rc.uncond.length, 4);
  assert.equal(
    requests('openbookqa', 'mc', row).pairs[0][0],
    'Question: The sun is a\n A. star\n B. planet\n C. moon\n D. comet\nAnswer:',
  );
});

test('PIQA: "Goal: " prefix in RC and MC', () => {
  const row = { goal: 'How to open a jar?', sol1: 'Twist the lid.', sol2: 'Hit it with a hammer.', label: 0 };
  const rc = requests('piqa', 'rc', row);
  assert.deepEqual(rc.pairs, [
    ['Goal: How to open a jar?\nAnswer:', ' Twist the lid.'],
    ['Goal: How to open a jar?\nAnswer:', ' Hit it with a hammer.'],
  ]);
  assert.equal(rc.uncond.length, 2);
  assert.equal(
    requests('piqa', 'mc', row).pairs[0][0],
    'Goal: How to open a jar?\n A. Twist the lid.\n B. Hit it with a hammer.\nAnswer:',
  );
});

test('Social IQa: "Question: {context} {question}", gold = label - 1', () => {
  const row = {
    context: 'Kai gave Sam a gift.',
    question: 'How would Sam feel?',
    answerA: 'happy',
    answerB: 'sad',
    answerC: 'angry',
    label: '3',
  };
  const rc = requests('socialiqa', 'rc', row);
  assert.deepEqual(
    rc.pairs.map((p) => p[1]),
    [' happy', ' sad', ' angry'],
  );
  assert.equal(rc.pairs[0][0], 'Question: Kai gave Sam a gift. How would Sam feel?\nAnswer:');
  assert.equal(rc.doc.gold, 2);
  assert.equal(
    requests('socialiqa', 'mc', row).pairs[0][0],
    'Question: Kai gave Sam a gift. How would Sam feel?\n A. happy\n B. sad\n C. angry\nAnswer:',
  );
});

test('WinoGrande RC: partial contexts per option, one shared continuation, shots are completed sentences', () => {
  const row = {
    sentence: 'The trophy did not fit in the suitcase because the _ was too big.',
    option1: 'trophy',
    option2: 'suitcase',
    answer: '1',
  };
  const r0 = requests('winogrande', 'rc', row);
  assert.deepEqual(r0.pairs, [
    ['The trophy did not fit in the suitcase because the trophy', ' was too big.'],
    ['The trophy did not fit in the suitcase because the suitcase', ' was too big.'],
  ]);
  assert.deepEqual(r0.uncond, []);
  const shot = { sentence: 'Anna helped Beth because _ was kind.  ', option1: 'Anna', option2: 'Beth', answer: '2' };
  const r = requests('winogrande', 'rc', { ...row, answer: '2' }, [shot, shot]);
  const shotText = 'Anna helped Beth because Beth was kind.';
  assert.deepEqual(r.pairs, [
    [`${shotText}\n\n${shotText}\n\nThe trophy did not fit in the suitcase because the trophy`, ' was too big.'],
    [`${shotText}\n\n${shotText}\n\nThe trophy did not fit in the suitcase because the suitcase`, ' was too big.'],
  ]);
  assert.equal(r.doc.gold, 1);
});

test('WinoGrande MC: "Fill in the blank:" with ___', () => {
  const row = {
    sentence: 'The trophy did not fit in the suitcase because the _ was too big.',
    option1: 'trophy',
    option2: 'suitcase',
    answer: '2',
  };
  const r = requests('winogrande', 'mc', row);
  const ctx =
    'Fill in the blank: The trophy did not fit in the suitcase because the ___ was too big.\n A. trophy\n B. suitcase\nAnswer:';
  assert.deepEqual(r.pairs, [
    [ctx, ' A'],
    [ctx, ' B'],
  ]);
  assert.equal(r.doc.gold, 1);
});

test('requests.jsonl records: oe-eval fields, unconditioned doc_id + 1,000,000', () => {
  const task = makeTask('arc_easy', 'rc', 'olmes');
  const doc = task.def.processDoc(arc, 7, 'w');
  const insts = task.buildInstances(doc, 3, []);
  const recs = insts.map((i) => requestRecord(i, doc));
  assert.deepEqual(recs[1], {
    request_type: 'loglikelihood',
    doc: {
      id: 'Q1',
      index: 7,
      query: 'Question: Which gas do plants absorb?\nAnswer:',
      choices: ['oxygen', 'carbon dioxide', 'helium', 'neon'],
      gold: 1,
    },
    request: { context: 'Question: Which gas do plants absorb?\nAnswer:', continuation: ' carbon dioxide' },
    idx: 1,
    task_name: 'arc_easy',
    doc_id: 3,
    native_id: 'Q1',
    label: 1,
  });
  assert.equal(recs[5].doc_id, 1_000_003);
  assert.equal(recs[5].request.context, 'Answer:');
});
