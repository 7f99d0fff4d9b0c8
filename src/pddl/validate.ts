// Plan validation: replays a plan on the initial state with the official semantics (substitution, typing by
// grounding candidates, positive and negative preconditions, delete-then-add effects) and checks the goal.
// It reports the first failing step and why.

import { candidatesForType, substituteLiteral } from './ground.ts';
import type { ActionSchema, Domain, PlanStep, Problem } from './types.ts';

export type ValidationFailureReason =
  | 'unknown-action'
  | 'wrong-arity'
  | 'unknown-object'
  | 'type-mismatch'
  | 'precondition-false'
  | 'goal-not-reached'
  | 'grounding-error';

export interface ValidationFailure {
  /** 1-based plan step; plan.length + 1 when the plan runs but the goal is not reached. */
  step: number;
  /** The step as written, `name a b` (absent for the goal). */
  action?: string;
  reason: ValidationFailureReason;
  message: string;
  /** Unsatisfied literals, e.g. `(at npc shore)` or `(not (lit campfire))`. */
  unsatisfied?: string[];
}

export interface ValidationResult {
  valid: boolean;
  /** Steps applied successfully. */
  stepsApplied: number;
  failure?: ValidationFailure;
  /** The arguments used for each applied step, in the schema's parameter order. */
  boundArgs: string[][];
  /** State after the last applied step, as `(pred a b)` strings. */
  finalState: string[];
}

export interface ValidateOptions {
  /**
   * 'positional' (default): args are in the schema's parameter order. 'any': the args may be in any order
   * (used to replay a plan made with a differently-ordered predicted action under the gold domain); the
   * first ordering that type-checks and is applicable is used.
   */
  argOrder?: 'positional' | 'any';
}

const lit = (t: readonly string[]) => `(${t.join(' ')})`;

function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  yield a.slice();
  // lexicographic next-permutation, starting from the identity
  for (;;) {
    let i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return;
    let j = n - 1;
    while (a[j] <= a[i]) j--;
    [a[i], a[j]] = [a[j], a[i]];
    for (let l = i + 1, r = n - 1; l < r; l++, r--) [a[l], a[r]] = [a[r], a[l]];
    yield a.slice();
  }
}

export function validatePlan(
  domain: Domain,
  problem: Problem,
  plan: PlanStep[],
  opts: ValidateOptions = {},
): ValidationResult {
  const state = new Set(problem.init.map((a) => a.join(' ')));
  const known = new Set<string>();
  for (const v of problem.objects.values()) for (const o of v) known.add(o);
  const candCache = new Map<string, Set<string> | null>();
  const cands = (type: string): Set<string> | null => {
    if (!candCache.has(type)) {
      const c = candidatesForType(type, problem.objects, domain.types);
      candCache.set(type, c ? new Set(c) : null);
    }
    return candCache.get(type)!;
  };
  const boundArgs: string[][] = [];
  const finish = (failure?: ValidationFailure): ValidationResult => ({
    valid: failure === undefined,
    stepsApplied: boundArgs.length,
    failure,
    boundArgs,
    finalState: [...state].map((k) => `(${k})`),
  });

  type Check = { ok: true } | { ok: false; reason: ValidationFailureReason; message: string; unsatisfied?: string[] };
  const check = (schema: ActionSchema, args: string[]): Check => {
    for (let i = 0; i < args.length; i++) {
      const p = schema.parameters[i];
      const c = cands(p.type);
      if (c === null) {
        return { ok: false, reason: 'grounding-error', message: `the type hierarchy has a cycle through '${p.type}'` };
      }
      if (!c.has(args[i])) {
        if (!known.has(args[i])) {
          return { ok: false, reason: 'unknown-object', message: `'${args[i]}' is not an object of the problem` };
        }
        return {
          ok: false,
          reason: 'type-mismatch',
          message: `'${args[i]}' is not of type '${p.type}' required by parameter ${p.name}`,
        };
      }
    }
    const unsat: string[] = [];
    for (const l of schema.pos) {
      const g = substituteLiteral(schema, l, args);
      if (!state.has(g.join(' '))) unsat.push(lit(g));
    }
    for (const l of schema.neg) {
      const g = substituteLiteral(schema, l, args);
      if (state.has(g.join(' '))) unsat.push(`(not ${lit(g)})`);
    }
    if (unsat.length) {
      return {
        ok: false,
        reason: 'precondition-false',
        message: `precondition not satisfied: ${unsat.join(', ')}`,
        unsatisfied: unsat,
      };
    }
    return { ok: true };
  };

  for (let si = 0; si < plan.length; si++) {
    const step = plan[si];
    const text = [step.action, ...step.args].join(' ');
    const fail = (reason: ValidationFailureReason, message: string, unsatisfied?: string[]) =>
      finish({ step: si + 1, action: text, reason, message: `step ${si + 1} (${text}): ${message}`, unsatisfied });
    const schema = domain.actions.find((a) => a.name === step.action.toLowerCase());
    if (!schema) {
      return fail(
        'unknown-action',
        `the domain has no action '${step.action}' (actions: ${domain.actions.map((a) => a.name).join(', ')})`,
      );
    }
    if (schema.deferredError) return fail('grounding-error', schema.deferredError.message);
    const args = step.args.map((a) => a.toLowerCase());
    if (args.length !== schema.parameters.length) {
      return fail(
        'wrong-arity',
        `action ${schema.name} takes ${schema.parameters.length} arguments, got ${args.length}`,
      );
    }
    let chosen: string[] | null = null;
    const first = check(schema, args);
    if (first.ok) chosen = args;
    else if (opts.argOrder === 'any' && args.length <= 7) {
      for (const perm of permutations(args.length)) {
        const cand = perm.map((i) => args[i]);
        if (check(schema, cand).ok) {
          chosen = cand;
          break;
        }
      }
    }
    if (!chosen) {
      if (first.ok) throw new Error('unreachable');
      return fail(first.reason, first.message, first.unsatisfied);
    }
    const dels = schema.del.map((l) => substituteLiteral(schema, l, chosen!).join(' '));
    const adds = schema.add.map((l) => substituteLiteral(schema, l, chosen!).join(' '));
    for (const d of dels) state.delete(d);
    for (const a of adds) state.add(a);
    boundArgs.push(chosen);
  }
  const unmet: string[] = [];
  for (const g of problem.goalPos) if (!state.has(g.join(' '))) unmet.push(lit(g));
  for (const g of problem.goalNeg) if (state.has(g.join(' '))) unmet.push(`(not ${lit(g)})`);
  if (unmet.length) {
    return finish({
      step: plan.length + 1,
      reason: 'goal-not-reached',
      message: `after ${plan.length} steps the goal is not reached: ${unmet.join(', ')}`,
      unsatisfied: unmet,
    });
  }
  return finish();
}
