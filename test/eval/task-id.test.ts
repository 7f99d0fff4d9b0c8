import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORE_9MCQA, listTaskIds, makeTask, planTasks } from '../../src/eval/registry.ts';
import { formatTaskId, parseTaskId } from '../../src/eval/task-id.ts';

test('parse and format name[:format]::regime', () => {
  assert.deepEqual(parseTaskId('arc_challenge:rc::olmes'), { name: 'arc_challenge', format: 'rc', regime: 'olmes' });
  assert.deepEqual(parseTaskId('mmlu::olmes:full'), { name: 'mmlu', format: undefined, regime: 'olmes:full' });
  assert.deepEqual(parseTaskId('piqa:mc'), { name: 'piqa', format: 'mc', regime: 'olmes' });
  assert.equal(formatTaskId({ name: 'piqa', format: 'mc', regime: 'olmes' }), 'piqa:mc::olmes');
  assert.throws(() => parseTaskId('piqa:cot::olmes'), /unknown format "cot"; known formats: rc, mc/);
  assert.throws(() => parseTaskId('a:b:c::olmes'), /expected name\[:format\]::regime/);
  assert.throws(() => parseTaskId('piqa::'), /empty regime/);
});

test('unknown task and regime errors list the known ones', () => {
  assert.throws(
    () => planTasks(['arc_chalenge:rc::olmes']),
    /unknown task "arc_chalenge"; known tasks: core_9mcqa, mmlu, arc_challenge, .*mmlu_<subject>/,
  );
  assert.throws(() => planTasks(['arc_challenge:rc::tulu']), /unknown regime "tulu"; known regimes: olmes, olmes:full/);
  assert.throws(() => makeTask('mmlu_cooking', 'mc', 'olmes'), /unknown task "mmlu_cooking"/);
});

test('plans: leaf tasks deduplicated, suites with members first', () => {
  const p = planTasks(['arc_easy::olmes', 'arc_easy:mc::olmes']);
  assert.deepEqual(
    p.tasks.map((t) => t.config.alias),
    ['arc_easy:mc::olmes', 'arc_easy:rc::olmes'],
  );
  assert.deepEqual(p.suites, [
    { alias: 'arc_easy::olmes', how: 'mc_or_rc', members: ['arc_easy:mc::olmes', 'arc_easy:rc::olmes'] },
  ]);

  const core = planTasks(['core_9mcqa::olmes']);
  assert.equal(core.tasks.length, 18);
  assert.equal(core.suites.length, 10);
  assert.deepEqual(core.suites.at(-1), {
    alias: 'core_9mcqa::olmes',
    how: 'macro',
    members: CORE_9MCQA.map((n) => `${n}::olmes`),
  });

  const mmlu = planTasks(['mmlu::olmes']);
  assert.equal(mmlu.tasks.length, 114);
  assert.deepEqual(
    mmlu.suites.map((s) => [s.alias, s.how, s.members.length]),
    [
      ['mmlu:mc::olmes', 'macro', 57],
      ['mmlu:rc::olmes', 'macro', 57],
      ['mmlu::olmes', 'mc_or_rc', 2],
    ],
  );
  assert.ok(listTaskIds().includes('mmlu_virology:rc::olmes'));
});

test('OLMES configs: splits, limits, primary metrics; regime and overrides', () => {
  const cfg = (id: string) => planTasks([id]).tasks[0].config;
  assert.deepEqual([cfg('arc_easy:rc::olmes').split, cfg('arc_easy:rc::olmes').limit], ['test', 1000]);
  assert.equal(cfg('arc_challenge:rc::olmes').limit, null);
  assert.equal(cfg('boolq:rc::olmes').split, 'validation');
  assert.equal(cfg('hellaswag:mc::olmes').primary_metric, 'acc_raw');
  assert.equal(cfg('winogrande:rc::olmes').primary_metric, 'acc_raw');
  assert.equal(cfg('csqa:rc::olmes').primary_metric, 'acc_uncond');
  assert.equal(cfg('openbookqa:rc::olmes').primary_metric, 'acc_uncond');
  assert.equal(cfg('piqa:rc::olmes').primary_metric, 'acc_per_char');
  assert.equal(cfg('boolq:rc::olmes').uncond, false);
  assert.equal(cfg('hellaswag::olmes:full'.replace('::', ':rc::')).limit, null);
  assert.equal(planTasks(['piqa:rc::olmes'], { limit: 10, num_shots: 0 }).tasks[0].config.limit, 10);
});
