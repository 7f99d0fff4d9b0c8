// Proc2PDDL as an eval task: the real gpt-4o ZPD completions of the shared samples, served by a scripted backend,
// reproduce the official plans, success rate and intrinsic scores through the runner (skipped without the
// samples); the paper's prompts; self-made domains end to end (official and stricter metrics, resume); errors.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { planTasks } from '../../../src/eval/registry.ts';
import { runEval } from '../../../src/eval/runner/run.ts';
import { RowsSource } from '../../../src/eval/data/dataset-files.ts';
import {
  actionTextPairs,
  goalOf,
  headerComponents,
  loadProc2PddlDomains,
  proc2pddlMessages,
  Proc2PddlTask,
  type PromptTemplates,
} from '../../../src/eval/tasks/proc2pddl/index.ts';
import { sampleDir, ScriptedBackend, tmp } from '../digital-socrates/fake-backend.ts';
import { assertRescoreIdentical } from '../rescore-check.ts';

const SAMPLES = sampleDir('proc2pddl');
const IDS = ['114061278', '114756331', '114905535'];
const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
const rd = (...p: string[]) => readFileSync(path.join(SAMPLES.dir, ...p), 'utf8');

/** Answers each domain's request with that domain's real raw gpt-4o ZPD completion (matched by its action list). */
function sampleBackend(): ScriptedBackend {
  const byActions = IDS.map((id) => ({
    actions: rd(id, 'actions.txt').trim(),
    raw: rd(id, 'predicted_actions', 'gpt4o_desc_ZPD_raw_completion.txt'),
  }));
  return new ScriptedBackend('gpt-4o-replay', (r) => {
    const hit = byActions.find((b) => r.context.includes(b.actions));
    if (!hit) throw new Error('unexpected prompt');
    return hit.raw;
  });
}

test(
  'sample acceptance: real gpt-4o ZPD completions through the runner give the official plans, 10/13 solved and the intrinsic scores',
  { skip: SAMPLES.skip },
  async () => {
    const out = tmp('p2p-sample');
    const task = Proc2PddlTask.create({ dataDir: SAMPLES.dir });
    const backend = sampleBackend();
    const r = await runEval({
      tasks: { tasks: [task], suites: [] },
      source: new RowsSource({}),
      outputDir: out,
      backend,
    });
    const m = r.tasks[0].metrics as Record<string, number>;
    assert.equal(r.tasks[0].num_instances, 3);
    assert.equal(m.total_problems, 13);
    assert.equal(m.success_rate, 10 / 13);
    assert.equal(m.primary_score, 10 / 13);
    assert.equal(m.timeout_rate + m.parse_error_rate + m.memory_limit_rate, 0);
    // official intrinsic (expected_intrinsic_gpt4o_desc_ZPD.json: 0/7 + 2/12 + 3/13 equal)
    assert.equal(m.parsed_domains, 3);
    assert.equal(m.gold_actions, 32);
    assert.equal(m.action_accuracy, 5 / 32);
    assert.equal(m.parameter_accuracy, 17 / 32);
    assert.equal(m.precondition_accuracy, 11 / 32);
    assert.equal(m.effect_accuracy, 18 / 32);
    // ours, stricter: no gpt-4o plan replays under the gold domain
    assert.equal(m.valid_under_gold_rate, 0);

    const preds = lines(path.join(out, 'task-000-proc2pddl_desc_zpd-predictions.jsonl'));
    const expectedIntrinsic = JSON.parse(rd('expected_intrinsic_gpt4o_desc_ZPD.json'));
    for (const p of preds) {
      const o = p.model_output[0];
      assert.equal(
        o.predicted_actions.trim(),
        rd(p.native_id, 'predicted_actions', 'gpt4o_desc_ZPD.txt').trim(),
        `${p.native_id} post-processing`,
      );
      for (const prob of o.problems) {
        const exp = rd(
          p.native_id,
          'expected_plans',
          'gpt4o_desc_zpD',
          `${p.native_id}_${prob.problem.replace(/\.pddl$/, '')}.txt`,
        );
        assert.equal(prob.plan.trim(), exp.trim(), `${p.native_id} ${prob.problem}`);
      }
      assert.deepEqual(
        o.intrinsic.map((a: Record<string, unknown>) => ({
          gold: a.gold,
          pred: a.pred,
          equal: a.equal,
          param: a.param,
          pre: a.pre,
          eff: a.eff,
        })),
        expectedIntrinsic[p.native_id].per_action,
      );
    }
    // the official prompt structure went to the backend: system, task + ZPD, zero-shot sentence, no-text prompt
    const req = backend.seen[0];
    assert.equal(req.messages!.length, 4);
    assert.equal(req.messages![0].content, 'you are a helpful assistant.');
    assert.equal(req.messages![2].content, 'please follow the instruction and generate pddl actions.');
    assert.equal(req.context, req.messages!.map((x) => x.content).join('\n\n') + '\n\n');
  },
);

test(
  'sample prompts: slots filled from domain_header.pddl, actions.txt, the wikiHow text and action_step_map.txt',
  { skip: SAMPLES.skip },
  () => {
    const t = JSON.parse(rd('prompt_templates.json')) as PromptTemplates;
    const [d] = loadProc2PddlDomains(SAMPLES.dir).filter((x) => x.id === '114756331');
    const h = headerComponents(d.domainHeader);
    assert.equal(h.domain, '(define (domain get_out_of_quicksand)');
    assert.equal(goalOf(h.domain), 'get out of quicksand');
    assert.equal(h.requirements, '    (:requirements :strips :typing)');
    assert.ok(h.types.startsWith('    (:types\n        stick - item'));
    assert.ok(
      h.predicates.startsWith('   (:predicates\n      (at ?obj - object ?loc - location) ; an object is at a location'),
    );
    const desc = proc2pddlMessages(d, t, 'desc', 'zpd');
    assert.equal(desc[1].content, `${t.instruction_task}\n${t.instruction_ZPD}`);
    assert.equal(
      desc[3].content,
      `here are the actions I want for get out of quicksand:\n${d.actionsTxt.trim()}\n\nhere are the requirements I have:\n${h.requirements}\n\n` +
        `here are the types I have:\n${h.types}\n\nhere are the predicates I have:\n${h.predicates}`,
    );
    assert.equal(proc2pddlMessages(d, t, 'desc', 'plain')[1].content, t.instruction_task);
    assert.equal(proc2pddlMessages(d, t, 'whole', 'cot')[1].content, `${t.instruction_task}\n${t.instruction_CoT}`);
    assert.ok(
      proc2pddlMessages(d, t, 'whole', 'cot')[3].content.endsWith(
        `here are the texts containing steps to get out of quicksand:\n${d.wikihow!.trim()}`,
      ),
    );
    const pair = proc2pddlMessages(d, t, 'pair', 'plain')[3].content;
    assert.ok(
      pair.startsWith(
        'here are the actions I want for get out of quicksand:\n(:action go\n\n\n------\n\n(:action get\n\n\n------\n\n(:action breathe\n\n5. Relax.',
      ),
    );
  },
);

// ---------------------------------------------------------------------------------------------------------
// Self-made domains (real file layout)

const HEADER = `(define (domain how_to_fetch_a_coin)
  (:requirements :strips :typing)
  (:types agent room coin)

  (:predicates
    (at ?a - agent ?r - room) ; the agent is in a room
    (coin_in ?c - coin ?r - room) ; a coin lies in a room
    (holding ?a - agent ?c - coin) ; the agent holds a coin
    (door ?x - room ?y - room) ; a door joins two rooms
  )`;
const ACTIONS = `(:action move
  :parameters (?a - agent ?x - room ?y - room)
  :precondition (and (at ?a ?x) (door ?x ?y))
  :effect (and (at ?a ?y) (not (at ?a ?x))))

(:action take
  :parameters (?a - agent ?c - coin ?r - room)
  :precondition (and (at ?a ?r) (coin_in ?c ?r))
  :effect (and (holding ?a ?c) (not (coin_in ?c ?r))))`;
const PROBLEM = `(define (problem get_coin)
  (:domain how_to_fetch_a_coin)
  (:objects bob - agent hall vault - room gold - coin)
  (:init (at bob hall) (coin_in gold vault) (door hall vault) (door vault hall))
  (:goal (and (holding bob gold) (at bob hall))))`;
const PROBLEM2 = PROBLEM.replace('get_coin', 'stay').replace(
  '(:goal (and (holding bob gold) (at bob hall)))',
  '(:goal (and (at bob vault)))',
);
const TEMPLATES: PromptTemplates = {
  instruction_task: 'TASK',
  instruction_ZPD: 'ZPD',
  instruction_CoT: 'COT',
  instruction_few_shot: 'FS',
  instruction_text:
    'A:<insert_action_names>|R:<insert_requirements>|T:<insert_types>|P:<insert_predicates>|G:<insert_goal>|X:<insert_text>',
  instruction_pair: 'G:<insert_goal>|PAIRS:<insert_action_text_pairs>',
  instruction_no_text: 'G:<insert_goal>|A:<insert_action_names>',
};

function writeDomain(root: string, id: string, note = ''): void {
  const d = path.join(root, 'pddl_data', id);
  mkdirSync(path.join(d, 'problems'), { recursive: true });
  writeFileSync(path.join(d, 'domain_header.pddl'), HEADER);
  writeFileSync(path.join(d, 'domain.pddl'), `${HEADER}\n\n${ACTIONS}\n)\n`);
  writeFileSync(
    path.join(d, 'actions.txt'),
    `(:action move ; walk through a door${note}\n(:action take ; pick up the coin\n`,
  );
  writeFileSync(path.join(d, 'action_step_map.txt'), '(:action move ; 1\n(:action take ; 2,1\n');
  writeFileSync(path.join(d, 'wikihow-fetch_a_coin.txt'), '1. Walk to the vault.\n\n2. Pick up the coin.\n');
  writeFileSync(path.join(d, 'problems', 'problem-get_coin.pddl'), PROBLEM);
  writeFileSync(path.join(d, 'problems', 'problem-stay.pddl'), PROBLEM2);
}

function writeClone(): string {
  const root = tmp('p2p-clone');
  const repo = path.join(root, 'zharry29', 'proc2pddl');
  writeDomain(repo, 'd1');
  writeDomain(repo, 'd2', ' (second)');
  mkdirSync(path.join(repo, 'predict_scripts'), { recursive: true });
  writeFileSync(path.join(repo, 'predict_scripts', 'prompts.json'), JSON.stringify(TEMPLATES));
  return root;
}

test('self-made domains end to end: perfect and broken predictions, official and stricter metrics, files, resume', async () => {
  const root = writeClone();
  const out = tmp('p2p-out');
  // d1: the gold actions in a fenced block; d2: prose without a code block (the official post-processing keeps nothing)
  const backend = new ScriptedBackend('fake', (q) =>
    q.context.includes('(second)')
      ? 'I would move and then take the coin.'
      : `Here you go:\n\`\`\`pddl\n${ACTIONS}\n\`\`\`\nDone.`,
  );
  const plan = planTasks(['proc2pddl']);
  const task = plan.tasks[0] as Proc2PddlTask;
  const r = await runEval({
    tasks: plan,
    source: new LocalHfFolderSource(root),
    outputDir: out,
    backend,
    batchSize: 1,
  });
  const m = r.tasks[0].metrics as Record<string, number>;
  assert.equal(task.config.alias, 'proc2pddl::olmes');
  assert.equal(m.total_problems, 4);
  // d1: get_coin solved (move, take, move); stay solved (move); d2: no actions → nothing applies → unsolved
  assert.equal(m.success_rate, 2 / 4);
  assert.equal(m.valid_under_gold_rate, 2 / 4);
  assert.equal(m.unsolved_rate, 2 / 4);
  assert.equal(m.intrinsic_pass_rate, 1 / 2); // d2 is action_incomplete
  assert.equal(m.parsed_domains, 2);
  assert.equal(m.gold_actions, 4);
  assert.equal(m.action_accuracy, 2 / 4);
  assert.equal(m.strict_action_accuracy, 2 / 4);
  assert.equal(m.domain_parsed, 1);
  assert.equal(m.actions_complete, 1 / 2);
  const preds = lines(path.join(out, 'task-000-proc2pddl-predictions.jsonl'));
  assert.deepEqual(
    preds.map((p) => p.native_id),
    ['d1', 'd2'],
  );
  assert.deepEqual(
    preds[0].model_output[0].problems.map((p: { problem: string; outcome: string; plan: string }) => [
      p.problem,
      p.outcome,
      p.plan.trim(),
    ]),
    [
      [
        'problem-get_coin.pddl',
        'solved',
        "move ('bob', 'hall', 'vault')\ntake ('bob', 'gold', 'vault')\nmove ('bob', 'vault', 'hall')",
      ],
      ['problem-stay.pddl', 'solved', "move ('bob', 'hall', 'vault')"],
    ],
  );
  assert.equal(preds[1].model_output[0].intrinsic_status, 'action_incomplete');
  assert.deepEqual(preds[1].model_output[0].missing_actions, ['move', 'take']);
  const reqs = lines(path.join(out, 'task-000-proc2pddl-requests.jsonl'));
  assert.equal(
    reqs[0].request.messages[3].content,
    'G:fetch a coin|A:(:action move ; walk through a door\n(:action take ; pick up the coin',
  );
  assert.equal(reqs[0].request.messages[1].content, 'TASK\nZPD');
  const cfg = JSON.parse(readFileSync(path.join(out, 'task-000-proc2pddl-metrics.json'), 'utf8')).task_config;
  assert.equal(cfg.time_limit_ms, 30000);
  assert.equal(cfg.primary_metric, 'success_rate');
  // resume: same metrics, nothing recomputed
  const again = await runEval({
    tasks: ['proc2pddl'],
    source: new LocalHfFolderSource(root),
    outputDir: out,
    backend: new ScriptedBackend('fake', () => assert.fail('recomputed')),
  });
  assert.equal(again.computed, 0);
  assert.deepEqual(again.tasks[0].metrics, r.tasks[0].metrics); // rescore: the domains come back from the saved docs and are planned again (no clone, no model)
  await assertRescoreIdentical(out);
});

test('pair and whole prompts on self-made data; pddl_evaluation/true preferred for evaluation files', async () => {
  const root = writeClone();
  const repo = path.join(root, 'zharry29', 'proc2pddl');
  // an evaluator copy of d1 whose only problem differs
  cpSync(path.join(repo, 'pddl_data', 'd1'), path.join(repo, 'pddl_evaluation', 'true', 'd1'), { recursive: true });
  const tp = path.join(repo, 'pddl_evaluation', 'true', 'd1', 'problems');
  for (const f of readdirSync(tp)) if (f !== 'problem-stay.pddl') writeFileSync(path.join(tp, f), PROBLEM2);
  const plan = planTasks(['proc2pddl_pair', 'proc2pddl_whole_cot'], { limit: 1 });
  assert.equal(planTasks(['proc2pddl_pair']).tasks[0].config.limit, null);
  assert.deepEqual(
    plan.tasks.map((t) => t.config.alias),
    ['proc2pddl_pair::olmes', 'proc2pddl_whole_cot::olmes'],
  );
  const seen: string[] = [];
  const outDir = tmp('p2p-pair');
  const r = await runEval({
    tasks: plan,
    source: new LocalHfFolderSource(root),
    outputDir: outDir,
    backend: new ScriptedBackend('fake', (q) => (seen.push(q.messages![3].content), '```\n' + ACTIONS + '\n```')),
  });
  assert.ok(
    seen.includes(
      'G:fetch a coin|PAIRS:(:action move\n\n1. Walk to the vault.\n------\n\n(:action take\n\n2. Pick up the coin.\n1. Walk to the vault.\n------',
    ),
  );
  assert.ok(seen.some((s) => s.endsWith('|G:fetch a coin|X:1. Walk to the vault.\n\n2. Pick up the coin.')));
  assert.equal(r.tasks[0].num_instances, 1);
  assert.equal(r.tasks[0].metrics.total_problems, 2);
  // d1's problems come from pddl_evaluation/true: there get_coin has the goal (at bob vault)
  const all = await runEval({
    tasks: ['proc2pddl_pair::olmes:full'],
    source: new LocalHfFolderSource(root),
    outputDir: outDir + '-full',
    backend: new ScriptedBackend('fake', () => '```\n' + ACTIONS + '\n```'),
  });
  assert.equal(all.tasks[0].num_instances, 2);
  const d1 = lines(path.join(outDir + '-full', 'task-000-proc2pddl_pair-predictions.jsonl')).find(
    (p) => p.native_id === 'd1',
  );
  assert.deepEqual(
    d1.model_output[0].problems.map((p: { plan: string }) => p.plan.trim()),
    ["move ('bob', 'hall', 'vault')", "move ('bob', 'hall', 'vault')"],
  );
});

test('errors: missing data names where it looked; missing files name the domain; rc/mc formats refused; few-shot refused', async () => {
  const empty = tmp('p2p-empty');
  const backend = new ScriptedBackend('fake', () => '');
  await assert.rejects(
    runEval({ tasks: ['proc2pddl'], source: new LocalHfFolderSource(empty), outputDir: tmp('p2p-e'), backend }),
    /Proc2PDDL data not found \(looked in .*zharry29\/proc2pddl\).*git clone https:\/\/github.com\/zharry29\/proc2pddl/,
  );
  const root = writeClone();
  const d1 = path.join(root, 'zharry29', 'proc2pddl', 'pddl_data', 'd1');
  writeFileSync(path.join(d1, 'actions.txt'), '');
  const { rmSync } = await import('node:fs');
  rmSync(path.join(d1, 'actions.txt'));
  await assert.rejects(
    runEval({ tasks: ['proc2pddl'], source: new LocalHfFolderSource(root), outputDir: tmp('p2p-e2'), backend }),
    /Proc2PDDL domain d1: missing actions.txt/,
  );
  assert.throws(() => planTasks(['proc2pddl:rc']), /proc2pddl is a generation task and has no :rc format/);
  const root2 = writeClone();
  await assert.rejects(
    runEval({
      tasks: ['proc2pddl'],
      overrides: { num_shots: 3 },
      source: new LocalHfFolderSource(root2),
      outputDir: tmp('p2p-e3'),
      backend,
    }),
    /few-shot prompts need the official few-shot examples/,
  );
  assert.throws(
    () => actionTextPairs('1. a\n\nno number here', '(:action x ; 1', 'wiki.txt'),
    /wiki.txt: paragraph 2 does not start with a step number/,
  );
  assert.throws(() => actionTextPairs('1. a', '(:action x ; 7', 'wiki.txt'), /refers to step 7/);
});

test('a planner time limit from the task config bounds each problem file', async () => {
  const root = writeClone();
  const task = Proc2PddlTask.create({ timeLimitMs: 0 });
  const r = await runEval({
    tasks: { tasks: [task], suites: [] },
    source: new LocalHfFolderSource(root),
    outputDir: tmp('p2p-time'),
    backend: new ScriptedBackend('fake', () => '```\n' + ACTIONS + '\n```'),
  });
  assert.equal(r.tasks[0].metrics.timeout_rate, 1);
  assert.equal(r.tasks[0].metrics.success_rate, 0);
});
