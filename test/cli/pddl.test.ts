// `olmo pddl plan|validate` on a generated blocksworld problem and on malformed input.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCKSWORLD_DOMAIN, blocksworldProblem } from '../../src/pddl/index.ts';
import { olmo } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'olmo-pddl-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('olmo pddl', () => {
  const domain = join(dir, 'domain.pddl');
  const problem = join(dir, 'problem.pddl');
  writeFileSync(domain, BLOCKSWORLD_DOMAIN);
  writeFileSync(problem, blocksworldProblem(6, 3));

  it('plans with BFS and GBFS, and the plans validate', () => {
    for (const planner of ['bfs', 'gbfs']) {
      const r = olmo([
        'pddl',
        'plan',
        '--domain',
        domain,
        '--problem',
        problem,
        '--planner',
        planner,
        '--timeout',
        '20',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^[a-z-]+ \('[^']+'(, '[^']+')*\)$/m);
      const plan = join(dir, `${planner}.txt`);
      writeFileSync(plan, r.stdout);
      const v = olmo(['pddl', 'validate', '--domain', domain, '--problem', problem, '--plan', plan]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /^VALID \(\d+ steps\)/);
    }
  });

  it('reports an invalid plan step and malformed PDDL with line and column', () => {
    const plan = join(dir, 'bad-plan.txt');
    writeFileSync(plan, "stack ('b1', 'b2')\n");
    const v = olmo(['pddl', 'validate', '--domain', domain, '--problem', problem, '--plan', plan]);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /^INVALID at step 1/);
    const broken = join(dir, 'broken.pddl');
    writeFileSync(broken, '(define (domain d)\n  (:predicates (p ?x)\n');
    const r = olmo(['pddl', 'plan', '--domain', broken, '--problem', problem]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.pddl.*:\d+:\d+|line \d+.*column \d+/);
    const usage = olmo(['pddl', 'plan', '--domain', domain, '--problem', problem, '--planner', 'dfs']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--planner must be bfs, gbfs or astar, got 'dfs'/);
  });
});
