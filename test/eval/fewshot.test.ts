// The curated OLMES few-shot examples: resolved from a training split by id or leading text, in stored order,
// with errors (never substitutes) when one is missing. Uses the real rows of ../shared/fixtures/olmes when present.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FewshotResolutionError, OLMES_FEWSHOT_KEYS, resolveFewshotRows } from '../../src/eval/data/fewshot-sources.ts';
import { makeTask } from '../../src/eval/registry.ts';
import type { Row } from '../../src/eval/types.ts';
import { FEWSHOT_FIXTURE, FEWSHOT_FIXTURE_ALT, arcRow } from './fixtures.ts';

const fixturePath = [FEWSHOT_FIXTURE, FEWSHOT_FIXTURE_ALT].find((p) => existsSync(p));
const skip = fixturePath
  ? false
  : `shared OLMES few-shot fixture not found at ${FEWSHOT_FIXTURE} (or ${FEWSHOT_FIXTURE_ALT})`;
const fixture = fixturePath
  ? (JSON.parse(readFileSync(fixturePath, 'utf8')) as {
      sources: Record<string, Row[]>;
      mmlu_dev: Record<string, Row[]>;
    })
  : null;

test('every curated key resolves to the real OLMES row, in stored order, among shuffled rows', { skip }, () => {
  for (const [source, keys] of Object.entries(OLMES_FEWSHOT_KEYS)) {
    const rows = fixture!.sources[source];
    assert.ok(rows, `fixture has ${source}`);
    const shuffled = [...rows].reverse();
    const got = resolveFewshotRows(source, shuffled, 5, 'fixture');
    assert.deepEqual(got, rows.slice(0, 5), source);
    assert.equal(keys.length, 5);
  }
});

test('5-shot ARC-Easy RC and HellaSwag RC contexts from the real rows', { skip }, () => {
  const arc = makeTask('arc_easy', 'rc', 'olmes');
  const shots = resolveFewshotRows('OLMES:ARC-Easy', fixture!.sources['OLMES:ARC-Easy'], 5, 'fixture').map((r, i) =>
    arc.def.processDoc(r, i, 'shot'),
  );
  const doc = arc.def.processDoc(arcRow(1), 0, 'doc');
  const ctx = arc.context(doc, shots);
  assert.ok(
    ctx.startsWith(
      'Question: Lichens are symbiotic organisms made of green algae and fungi. What do the green algae supply to the fungi in this symbiotic relationship?\nAnswer: food\n\n' +
        'Question: When a switch is used in an electrical circuit, the switch can\nAnswer: stop and start the flow of current.\n\n',
    ),
    ctx.slice(0, 300),
  );
  assert.ok(ctx.endsWith('\n\nQuestion: Which item number 1 is a metal?\nAnswer:'));
  assert.equal(ctx.split('\n\n').length, 6);
  // NYSEDREGENTS_2006_8_10 has answerKey "3" → C
  assert.equal(shots[3].gold, 2);

  const hs = makeTask('hellaswag', 'rc', 'olmes');
  const hshots = resolveFewshotRows('OLMES:hellaswag', fixture!.sources['OLMES:hellaswag'], 5, 'fixture').map((r, i) =>
    hs.def.processDoc(r, i, 'shot'),
  );
  const ex = hs.fewshotExamples(hshots);
  // expected strings computed with Python's re and str.capitalize from the same rows
  assert.equal(
    ex[0].text,
    "Health: How to cope with suicidal thoughts. Put off any plans. Promise yourself that you'll wait 48 hours before doing anything. Remember, thoughts don't have the power to force you to act.",
  );
  assert.equal(
    ex[0].target,
    ' Sometimes extreme pain can distort our perception. Waiting before taking action will give your mind time to clear.',
  );
  assert.equal(
    ex[2].text,
    'Baking cookies: A female chef in white uniform shows a stack of baking pans in a large kitchen presenting them. The pans are filled with pastries and loaded into the oven. A knife',
  );
  assert.equal(ex[2].target, ' is used to cut cylinder shaped dough into rounds.');
});

test('MMLU shots are the first 5 dev rows in order (real dev rows)', { skip }, () => {
  const t = makeTask('mmlu_abstract_algebra', 'mc', 'olmes');
  const dev = fixture!.mmlu_dev.abstract_algebra;
  const shots = dev.slice(0, 5).map((r, i) => t.def.processDoc(r, i, 'dev'));
  const ctx = t.context(t.def.processDoc(dev[4], 0, 'doc'), shots);
  assert.ok(
    ctx.startsWith(
      'The following are multiple choice questions (with answers) about abstract algebra.\n\nQuestion: Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\n A. 0\n B. 1\n C. 2\n D. 3\nAnswer: B\n\n',
    ),
  );
});

test('a missing curated example is an error naming it and where it was searched', () => {
  const rows = [arcRow(1), arcRow(2)];
  assert.throws(
    () => resolveFewshotRows('OLMES:ARC-Easy', rows, 5, 'allenai/ai2_arc (config ARC-Easy) split train'),
    (e: unknown) =>
      e instanceof FewshotResolutionError &&
      /id="MCAS_2007_8_5189"/.test(e.message) &&
      /ARC-Easy\) split train/.test(e.message) &&
      /no substitute/.test(e.message),
  );
  assert.throws(
    () => resolveFewshotRows('OLMES:nope', rows, 5, 'x'),
    /unknown few-shot source OLMES:nope; known: OLMES:ARC-Challenge/,
  );
});

test('two different rows matching one key is an error; identical duplicates are accepted', () => {
  const a = { goal: 'how do you stab something?', sol1: 'stick a sharp object through it.', sol2: 'x', label: 0 };
  const keys = OLMES_FEWSHOT_KEYS['OLMES:piqa'];
  assert.equal(keys[0].goal, a.goal);
  assert.throws(
    () => resolveFewshotRows('OLMES:piqa', [a, { ...a, sol2: 'y' }], 1, 'piqa train'),
    /matches 2 different rows/,
  );
  assert.deepEqual(resolveFewshotRows('OLMES:piqa', [a, { ...a }], 1, 'piqa train'), [a]);
});
