// Grounding with the official order (the planner vendored in zharry29/proc2pddl's evaluate_scripts/pddl-parser/,
// https://github.com/zharry29/proc2pddl): actions in domain order; for each parameter the candidate
// objects come from a LIFO walk of the type hierarchy starting at the parameter's type; assignments are the
// Cartesian product in parameter order, last parameter varying fastest; one object may bind several
// parameters. Substitution replaces every atom element equal to a parameter name by the value bound to the
// first parameter of that name (the official `replace`, which also applies to the predicate-name position).
//
// Ground actions that can never be applicable are dropped (static preconditions false in the initial state,
// preconditions outside the relaxed-reachable atoms). This never changes which applicable action the BFS
// meets first, so official plans are unchanged, but it keeps grounding and search small.

import { PddlParseError } from './errors.ts';
import type { ActionSchema, Atom, Domain, Problem } from './types.ts';

export interface GroundAction {
  /** Index of the schema in domain.actions. */
  schema: number;
  name: string;
  /** Objects bound to the schema's parameters, in parameter order (what the official plan prints). */
  args: string[];
  pre: Int32Array;
  neg: Int32Array;
  add: Int32Array;
  del: Int32Array;
}

export interface GroundTask {
  /** Atom id → terms. */
  atoms: string[][];
  atomIds: Map<string, number>;
  init: Int32Array;
  goalPos: Int32Array;
  goalNeg: Int32Array;
  actions: GroundAction[];
  /** Assignments enumerated before pruning (the official grounding size). */
  enumerated: number;
}

export type GroundOutcome =
  | { status: 'ok'; task: GroundTask }
  | { status: 'timeout' | 'memory-limit'; message: string; enumerated: number }
  | { status: 'error'; error: PddlParseError };

export interface GroundOptions {
  /** performance.now() value after which grounding gives up with 'timeout'. */
  deadline?: number;
  /** Maximum number of ground actions kept (memory guard). */
  maxGroundActions?: number;
  /** Drop actions whose preconditions are not relaxed-reachable (default true). */
  reachability?: boolean;
  /** Drop assignments that fail a static precondition while enumerating (default true). */
  pruneStatic?: boolean;
}

/** Candidate objects for a parameter type, in the official order; null when the hierarchy has a cycle. */
export function candidatesForType(
  type: string,
  objects: Map<string, string[]>,
  types: Map<string, string[]>,
): string[] | null {
  const stack = [type];
  const items: string[] = [];
  let steps = 0;
  const limit = 1000 + 50 * (types.size + 1) * (types.size + 1);
  while (stack.length) {
    if (++steps > limit) return null; // the official loop never ends on a cyclic hierarchy
    const t = stack.pop()!;
    const objs = objects.get(t);
    if (objs) items.push(...objs);
    const sub = types.get(t);
    if (sub) stack.push(...sub);
  }
  return items;
}

/** Reachability through the type graph: does the hierarchy contain a cycle reachable from `type`? */
function hasCycleFrom(type: string, types: Map<string, string[]>): boolean {
  const state = new Map<string, number>(); // 1 on stack, 2 done
  const visit = (t: string): boolean => {
    const s = state.get(t);
    if (s === 1) return true;
    if (s === 2) return false;
    state.set(t, 1);
    for (const c of types.get(t) ?? []) if (visit(c)) return true;
    state.set(t, 2);
    return false;
  };
  return visit(type);
}

class AtomTable {
  readonly atoms: string[][] = [];
  readonly ids = new Map<string, number>();
  id(terms: readonly string[]): number {
    const k = terms.join(' ');
    let i = this.ids.get(k);
    if (i === undefined) {
      i = this.atoms.length;
      this.atoms.push([...terms]);
      this.ids.set(k, i);
    }
    return i;
  }
  lookup(terms: readonly string[]): number | undefined {
    return this.ids.get(terms.join(' '));
  }
}

/** A literal compiled for substitution: each element is a parameter index (≥0) or a constant (-1 + name). */
interface CompiledLit {
  slots: Int32Array; // parameter index or -1
  consts: string[];
  /** Highest parameter index used (-1 if ground). */
  maxParam: number;
}

function compileLit(lit: Atom, params: string[]): CompiledLit {
  const slots = new Int32Array(lit.length);
  let maxParam = -1;
  for (let i = 0; i < lit.length; i++) {
    const j = params.indexOf(lit[i]);
    slots[i] = j;
    if (j > maxParam) maxParam = j;
  }
  return { slots, consts: [...lit], maxParam };
}

function substitute(c: CompiledLit, values: string[]): string[] {
  const out = new Array<string>(c.slots.length);
  for (let i = 0; i < c.slots.length; i++) out[i] = c.slots[i] >= 0 ? values[c.slots[i]] : c.consts[i];
  return out;
}

/** Substitutes one literal of a schema with concrete arguments (official replace semantics). */
export function substituteLiteral(schema: ActionSchema, lit: Atom, args: string[]): string[] {
  return substitute(
    compileLit(
      lit,
      schema.parameters.map((p) => p.name),
    ),
    args,
  );
}

/** Grounds the task. Never throws for PDDL content: errors the official planner raises are returned. */
export function groundTask(domain: Domain, problem: Problem, opts: GroundOptions = {}): GroundOutcome {
  const deadline = opts.deadline ?? Infinity;
  const maxGround = opts.maxGroundActions ?? 5_000_000;
  const table = new AtomTable();
  const initIds = problem.init.map((a) => table.id(a));
  const initSet = new Set(problem.init.map((a) => a.join(' ')));
  const goalPos = problem.goalPos.map((a) => table.id(a));
  const goalNeg = problem.goalNeg.map((a) => table.id(a));

  // Predicates that some effect can change; any other predicate is static (true iff in the initial state).
  const fluent = new Set<string>();
  let fluentWildcard = false;
  for (const a of domain.actions) {
    const params = a.parameters.map((p) => p.name);
    for (const lit of [...a.add, ...a.del]) {
      if (lit.length > 0 && params.includes(lit[0])) fluentWildcard = true;
      fluent.add(lit.length > 0 ? lit[0] : '');
    }
  }
  const isStatic = (terms: string[]): boolean =>
    opts.pruneStatic !== false && !fluentWildcard && !fluent.has(terms.length > 0 ? terms[0] : '');

  const raw: { schema: number; args: string[]; pre: string[][]; neg: string[][]; add: string[][]; del: string[][] }[] =
    [];
  let enumerated = 0;
  let sinceCheck = 0;

  for (let ai = 0; ai < domain.actions.length; ai++) {
    const a = domain.actions[ai];
    if (a.deferredError) return { status: 'error', error: a.deferredError };
    const params = a.parameters.map((p) => p.name);
    const cands: string[][] = [];
    for (const p of a.parameters) {
      const c = candidatesForType(p.type, problem.objects, domain.types);
      if (c === null || hasCycleFrom(p.type, domain.types)) {
        return {
          status: 'timeout',
          message: `the type hierarchy has a cycle through '${p.type}' (the official grounding never terminates)`,
          enumerated,
        };
      }
      cands.push(c);
    }
    const pre = a.pos.map((l) => compileLit(l, params));
    const neg = a.neg.map((l) => compileLit(l, params));
    const add = a.add.map((l) => compileLit(l, params));
    const del = a.del.map((l) => compileLit(l, params));
    // Static checks, bucketed by the depth at which they become ground.
    const n = params.length;
    const staticAt: { lit: CompiledLit; positive: boolean }[][] = Array.from({ length: n + 1 }, () => []);
    for (const [lits, positive] of [
      [pre, true],
      [neg, false],
    ] as const) {
      for (const l of lits) {
        const nameSlot = l.slots.length > 0 ? l.slots[0] : -1;
        if (nameSlot >= 0) continue; // predicate name is a variable: cannot tell statically
        if (!isStatic(l.consts)) continue;
        staticAt[l.maxParam + 1].push({ lit: l, positive });
      }
    }
    const staticOk = (depth: number, values: string[]): boolean => {
      for (const s of staticAt[depth]) {
        const inInit = initSet.has(substitute(s.lit, values).join(' '));
        if (inInit !== s.positive) return false;
      }
      return true;
    };
    const emit = (values: string[]): void => {
      raw.push({
        schema: ai,
        args: values.slice(),
        pre: pre.map((l) => substitute(l, values)),
        neg: neg.map((l) => substitute(l, values)),
        add: add.map((l) => substitute(l, values)),
        del: del.map((l) => substitute(l, values)),
      });
    };
    if (!staticOk(0, [])) continue;
    if (n === 0) {
      enumerated++;
      emit([]);
      continue;
    }
    if (cands.some((c) => c.length === 0)) continue;
    // Odometer over the product, last parameter fastest, pruning subtrees that fail a static precondition.
    const idx = new Int32Array(n).fill(-1);
    const values = new Array<string>(n);
    let d = 0;
    while (d >= 0) {
      idx[d]++;
      if (idx[d] >= cands[d].length) {
        idx[d] = -1;
        d--;
        continue;
      }
      values[d] = cands[d][idx[d]];
      if (++sinceCheck >= 4096) {
        sinceCheck = 0;
        if (performance.now() > deadline) {
          return { status: 'timeout', message: 'time limit reached while grounding', enumerated };
        }
      }
      if (!staticOk(d + 1, values)) continue;
      if (d + 1 < n) {
        d++;
        continue;
      }
      enumerated++;
      emit(values);
      if (raw.length > maxGround) {
        return {
          status: 'memory-limit',
          message: `more than ${maxGround} applicable-looking ground actions`,
          enumerated,
        };
      }
    }
  }

  // Relaxed reachability (ignores negative preconditions and deletes): anything outside it is never true.
  let keep: boolean[] = raw.map(() => true);
  if (opts.reachability !== false) keep = relaxedReachable(raw, initSet);
  if (performance.now() > deadline) {
    return { status: 'timeout', message: 'time limit reached while grounding', enumerated };
  }
  const actions: GroundAction[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (!keep[i]) continue;
    const r = raw[i];
    const ids = (ls: string[][]) => Int32Array.from(ls.map((l) => table.id(l)));
    actions.push({
      schema: r.schema,
      name: domain.actions[r.schema].name,
      args: r.args,
      pre: ids(r.pre),
      neg: ids(r.neg),
      add: ids(r.add),
      del: ids(r.del),
    });
  }
  return {
    status: 'ok',
    task: {
      atoms: table.atoms,
      atomIds: table.ids,
      init: Int32Array.from(initIds),
      goalPos: Int32Array.from(goalPos),
      goalNeg: Int32Array.from(goalNeg),
      actions,
      enumerated,
    },
  };
}

/** Counter-based relaxed reachability: which raw actions can ever fire when deletes and negations are ignored. */
function relaxedReachable(raw: { pre: string[][]; add: string[][] }[], init: Set<string>): boolean[] {
  const ids = new Map<string, number>();
  const id = (t: string[]): number => {
    const k = t.join(' ');
    let i = ids.get(k);
    if (i === undefined) {
      i = ids.size;
      ids.set(k, i);
    }
    return i;
  };
  const pre = raw.map((r) => r.pre.map(id));
  const add = raw.map((r) => r.add.map(id));
  const users: number[][] = Array.from({ length: ids.size }, () => []);
  const missing = new Int32Array(raw.length);
  const keep = raw.map(() => false);
  const reached = new Uint8Array(ids.size);
  const queue: number[] = [];
  for (const k of init) {
    const i = ids.get(k);
    if (i !== undefined && !reached[i]) {
      reached[i] = 1;
      queue.push(i);
    }
  }
  const fire = (a: number): void => {
    keep[a] = true;
    for (const e of add[a]) {
      if (!reached[e]) {
        reached[e] = 1;
        queue.push(e);
      }
    }
  };
  for (let a = 0; a < raw.length; a++) {
    const uniq = [...new Set(pre[a])];
    missing[a] = uniq.length;
    for (const p of uniq) users[p].push(a);
  }
  for (let a = 0; a < raw.length; a++) if (missing[a] === 0) fire(a);
  while (queue.length) {
    const atom = queue.pop()!;
    for (const a of users[atom]) {
      if (--missing[a] === 0) fire(a);
    }
  }
  return keep;
}
