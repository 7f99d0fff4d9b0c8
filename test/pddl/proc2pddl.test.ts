// Acceptance checks against the official Proc2PDDL samples (skipped when the shared fixtures are absent),
// plus self-made checks of completion post-processing and the intrinsic scores.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  actionDistOfficial,
  actionEqualOfficial,
  actionEqualStrict,
  checkActionList,
  evaluateDomain,
  extractActionBlocks,
  formatOfficialPlanFile,
  parseDomain,
  parseProblem,
  planBfs,
  predictedActionsFromCompletion,
  scoreIntrinsic,
  summarizeIntrinsic,
  summarizeSuccess,
  type DomainEvaluation,
} from '../../src/pddl/index.ts';
import { PROC2PDDL_DIR, PROC2PDDL_IDS, PROC2PDDL_SKIP } from './fixtures.ts';

const read = (...p: string[]) => readFileSync(path.join(PROC2PDDL_DIR, ...p), 'utf8');
const problemsOf = (id: string) =>
  readdirSync(path.join(PROC2PDDL_DIR, id, 'problems'))
    .filter((f) => f.endsWith('.pddl'))
    .sort()
    .map((name) => ({ name, text: read(id, 'problems', name) }));
const expectedPlan = (run: string, id: string, problem: string) =>
  read(id, 'expected_plans', run, `${id}_${problem.replace(/\.pddl$/, '')}.txt`);
const officiallySolved = (planFile: string) => !/^(No solution|Error:)/.test(planFile.trim());

/** Gold domains are evaluated as header + the action text of domain.pddl (what the gold run does). */
function evaluateRun(run: 'gold' | 'gpt4o_desc_zpD'): DomainEvaluation[] {
  return PROC2PDDL_IDS.map((id) => {
    const header = read(id, 'domain_header.pddl');
    const gold = read(id, 'domain.pddl');
    const predicted = run === 'gold' ? '' : read(id, 'predicted_actions', 'gpt4o_desc_ZPD.txt');
    return evaluateDomain({
      id,
      domainHeader: run === 'gold' ? gold : header,
      predictedActions: predicted,
      goldActionsTxt: run === 'gold' ? undefined : read(id, 'actions.txt'),
      problems: problemsOf(id),
      goldDomain: gold,
    });
  });
}

for (const run of ['gold', 'gpt4o_desc_zpD'] as const) {
  test(`official BFS reproduces every ${run} plan file exactly; success rate matches`, { skip: PROC2PDDL_SKIP }, () => {
    const evals = evaluateRun(run);
    let expectedSolved = 0;
    let files = 0;
    for (const d of evals) {
      for (const p of d.problems) {
        const exp = expectedPlan(run, d.id, p.problem);
        files++;
        if (officiallySolved(exp)) expectedSolved++;
        assert.equal(p.planText.trim(), exp.trim(), `${run} ${d.id} ${p.problem}`);
      }
    }
    const s = summarizeSuccess(evals);
    assert.equal(files, 13);
    assert.equal(s.total, 13);
    assert.equal(s.solved, expectedSolved);
    assert.equal(s.successRate, expectedSolved / 13);
    assert.equal(s.solved, 10); // gold: 6 + 3 + 1; gpt-4o ZPD: 6 + 3 + 1
    assert.equal(s.timeout + s.parseError + s.crash + s.memoryLimit, 0);
    if (run === 'gold') {
      // gold plans are, of course, valid under the gold domain
      assert.equal(s.validUnderGold, 10);
    } else {
      // ours, stricter: most gpt-4o plans are degenerate (e.g. `get ('coconut_broken')`) and fail under gold
      assert.equal(s.intrinsic.pass, 3);
      assert.equal(s.validUnderGold, 0);
      const coconut = evals[0].problems.find((p) => p.problem === 'problem-hit_coconut_with_mallet.pddl')!;
      assert.equal(coconut.planText.trim(), "get ('coconut_broken')");
      assert.equal(coconut.goldValidation?.failure?.reason, 'precondition-false');
      assert.deepEqual(coconut.goldValidation?.failure?.unsatisfied, ['(not (is_item_broken_coconut coconut_broken))']);
    }
  });
}

test('grounding pruning does not change any sample plan', { skip: PROC2PDDL_SKIP }, () => {
  for (const id of PROC2PDDL_IDS) {
    const header = read(id, 'domain_header.pddl');
    for (const [run, text] of [
      ['gold', read(id, 'domain.pddl')],
      ['gpt4o_desc_zpD', header + read(id, 'predicted_actions', 'gpt4o_desc_ZPD.txt')],
    ]) {
      const d = parseDomain(text);
      for (const p of problemsOf(id)) {
        const prob = parseProblem(p.text, d);
        const r = planBfs(d, prob, { pruneStatic: false, reachability: false });
        assert.equal(formatOfficialPlanFile(r).trim(), expectedPlan(run, id, p.name).trim(), `${run} ${id} ${p.name}`);
      }
    }
  }
});

test('raw gpt-4o completions post-process into the official predicted actions', { skip: PROC2PDDL_SKIP }, () => {
  for (const id of PROC2PDDL_IDS) {
    const raw = read(id, 'predicted_actions', 'gpt4o_desc_ZPD_raw_completion.txt');
    assert.equal(predictedActionsFromCompletion(raw), read(id, 'predicted_actions', 'gpt4o_desc_ZPD.txt'), id);
  }
});

test('intrinsic scores equal the official action_equal / action_dist results', { skip: PROC2PDDL_SKIP }, () => {
  const expected = JSON.parse(read('expected_intrinsic_gpt4o_desc_ZPD.json'));
  const results = [];
  for (const id of PROC2PDDL_IDS) {
    const e = expected[id];
    const predicted = read(id, 'domain_header.pddl') + read(id, 'predicted_actions', 'gpt4o_desc_ZPD.txt');
    const r = scoreIntrinsic(predicted, read(id, 'domain.pddl'));
    results.push(r);
    assert.equal(r.perAction.length, e.n_gold);
    r.perAction.forEach((a, i) => {
      const x = e.per_action[i];
      assert.deepEqual(
        { gold: a.gold, pred: a.pred, equal: a.equal, param: a.param, pre: a.pre, eff: a.eff },
        { gold: x.gold, pred: x.pred, equal: x.equal, param: x.param, pre: x.pre, eff: x.eff },
        `${id} action ${i} (${x.gold})`,
      );
    });
    assert.equal(r.perAction.filter((a) => a.equal).length, e.action_equal);
    assert.equal(r.perAction.filter((a) => a.param).length, e.param_dist0);
    assert.equal(r.perAction.filter((a) => a.pre).length, e.precond_dist0);
    assert.equal(r.perAction.filter((a) => a.eff).length, e.effect_dist0);
  }
  const s = summarizeIntrinsic(results);
  assert.equal(s.parsedDomains, 3);
  assert.equal(s.goldActions, 32);
  assert.equal(s.actionAccuracy, 5 / 32);
  assert.equal(s.parameterAccuracy, 17 / 32);
  assert.equal(s.preconditionAccuracy, 11 / 32);
  assert.equal(s.effectAccuracy, 18 / 32);
  // a domain that does not parse is left out of every denominator
  const broken = scoreIntrinsic('(define (domain x) (:action a', read(PROC2PDDL_IDS[0], 'domain.pddl'));
  assert.equal(broken.parsed, false);
  assert.deepEqual(summarizeIntrinsic([...results, broken]), s);
});

test('completion extraction: fenced (:action blocks only, any language tag, closing paren appended', () => {
  const raw =
    'intro\n```pddl\n(:action a\n :effect (p))\n```\ntext\n```\n(define (domain x))\n```\n```lisp\n  (:action b :effect (q))\n```\n';
  assert.deepEqual(extractActionBlocks(raw), ['(:action a\n :effect (p))', '(:action b :effect (q))']);
  assert.equal(predictedActionsFromCompletion(raw), '(:action a\n :effect (p))\n\n(:action b :effect (q))\n\n)');
  assert.equal(predictedActionsFromCompletion('no code'), '\n\n)');
});

test('completeness check is the official prefix match on the raw text', () => {
  const actions = '(:action get ; pick up\n(:action get_water ; fetch water\n(:action cook ; cook';
  const c = checkActionList(actions, '(:action get_water\n)');
  assert.deepEqual(c, { found: 2, total: 3, missing: ['cook'] }); // `get` matches `get_water`
});

test('official vs strict action equality on self-made actions', () => {
  const gold = parseDomain(`(define (domain t) (:action m :parameters (?a - agent ?x ?y - place)
    :precondition (and (at ?a ?x) (link ?x ?y)) :effect (and (at ?a ?y) (not (at ?a ?x)))))`).actions[0];
  const renamed = parseDomain(`(define (domain t) (:action m :parameters (?y - place ?p - agent ?z - place)
    :precondition (and (link ?z ?y) (at ?p ?z)) :effect (and (not (at ?p ?z)) (at ?p ?y))))`).actions[0];
  const swapped = parseDomain(`(define (domain t) (:action m :parameters (?a - agent ?x ?y - place)
    :precondition (and (at ?a ?x) (link ?y ?x)) :effect (and (at ?a ?y) (not (at ?a ?x)))))`).actions[0];
  assert.equal(actionEqualOfficial(renamed, gold), true);
  assert.equal(actionEqualStrict(renamed, gold), true);
  assert.equal(actionEqualStrict(swapped, gold), false); // link direction reversed
  assert.deepEqual(actionDistOfficial(swapped, gold), { param: 0, precondition: 0, effect: 0 }); // name-level only
  const fewer = parseDomain(`(define (domain t) (:action m :parameters (?a - agent ?x - place)
    :precondition (at ?a ?x) :effect (done)))`).actions[0];
  assert.equal(actionEqualOfficial(fewer, gold), false);
  // params: m = 2 of 2 predicted types occur in gold → |2−2| + |3−2| = 1
  assert.deepEqual(actionDistOfficial(fewer, gold), { param: 1, precondition: 1, effect: 3 });
});
