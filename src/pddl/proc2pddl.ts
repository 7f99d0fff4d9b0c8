// Proc2PDDL evaluation as its official repository does it (zharry29/proc2pddl, https://github.com/zharry29/proc2pddl:
// predict_scripts/, evaluate_scripts/evaluate.py, compare_actions.py): turning a model completion into a
// predicted domain, the official success rate (BFS, 30 s per problem file, empty plans count as unsolved),
// the official intrinsic action scores (bug-for-bug `action_equal` and the second `action_dist`), and two
// stricter checks of our own: plans that are valid under the gold domain, and action equality up to a real
// renaming of parameters.

import { planBfs } from './bfs.ts';
import { PddlParseError } from './errors.ts';
import { formatOfficialPlanFile } from './format.ts';
import { parseDomain, parseProblem } from './parser.ts';
import type { PlanResult, SearchLimits } from './search-common.ts';
import type { ActionSchema, Atom, Domain } from './types.ts';
import { validatePlan, type ValidationResult } from './validate.ts';

// ---------------------------------------------------------------------------------------------------------
// Completion → predicted domain

/**
 * The fenced code blocks of a completion whose content (after an optional language tag such as `pddl` and
 * trimming) starts with `(:action`, in order.
 */
export function extractActionBlocks(completion: string): string[] {
  const parts = completion.split('```');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i += 2) {
    let b = parts[i];
    const tag = /^[A-Za-z][\w+-]*(?=\s)/.exec(b);
    if (tag) b = b.slice(tag[0].length);
    b = b.trim();
    if (b.startsWith('(:action')) out.push(b);
  }
  return out;
}

/** The official post-processing: the action blocks joined by blank lines, then `\n\n)` to close the domain. */
export function predictedActionsFromCompletion(completion: string): string {
  return extractActionBlocks(completion).join('\n\n') + '\n\n)';
}

/** The predicted domain: `domain_header.pddl` followed by the predicted actions text. */
export function assembleDomain(domainHeader: string, predictedActions: string): string {
  return domainHeader + predictedActions;
}

export interface ActionListEntry {
  name: string;
  description: string;
}

/** `actions.txt` lines `(:action NAME ; description` (the official regex `:action\s+.+;`, greedy). */
export function parseActionList(actionsTxt: string): ActionListEntry[] {
  const out: ActionListEntry[] = [];
  for (const m of actionsTxt.matchAll(/:action\s+.+;/g)) {
    const name = m[0].slice(0, -1).replace(':action', '').trim();
    const rest = actionsTxt
      .slice(m.index! + m[0].length)
      .split('\n')[0]
      .trim();
    out.push({ name, description: rest });
  }
  return out;
}

/**
 * The official completeness check: each gold action name must match `:action\s+NAME` somewhere in the
 * predicted actions text (a prefix match, case-sensitive, on the raw text).
 */
export function checkActionList(
  goldActionsTxt: string,
  predictedActions: string,
): { found: number; total: number; missing: string[] } {
  const names = parseActionList(goldActionsTxt).map((a) => a.name);
  const missing: string[] = [];
  for (const n of names) {
    let re: RegExp;
    try {
      re = new RegExp(`:action\\s+${n}`);
    } catch {
      re = new RegExp(`:action\\s+${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    }
    if (!re.test(predictedActions)) missing.push(n);
  }
  return { found: names.length - missing.length, total: names.length, missing };
}

// ---------------------------------------------------------------------------------------------------------
// Extrinsic: one problem file

/**
 * Official outcome of one problem file. `crash` marks inputs on which the official script itself aborts (an
 * exception it does not catch, such as IndexError); `memory_limit` is ours (the official planner has none).
 */
export type ProblemOutcome = 'solved' | 'unsolved' | 'timeout' | 'parse_error' | 'memory_limit' | 'crash';

export interface ProblemEvaluation {
  problem: string;
  outcome: ProblemOutcome;
  /** What the official evaluation writes to the plan file. */
  planText: string;
  result?: PlanResult;
  error?: PddlParseError;
  /** Our stricter check: the found plan replayed under the gold domain (args in any order) reaches the goal. */
  validUnderGold?: boolean;
  goldValidation?: ValidationResult;
}

export type EvaluateOptions = SearchLimits;

function errorOutcome(e: PddlParseError): ProblemOutcome {
  return e.pyClass === 'IndexError' ? 'crash' : 'parse_error';
}

/** Parses domain and problem and runs the official BFS, exactly as `evaluate.py` does for one file. */
export function evaluateProblem(
  domainText: string,
  problemText: string,
  opts: EvaluateOptions & { problem?: string; domainSource?: string; goldDomainText?: string } = {},
): ProblemEvaluation {
  const name = opts.problem ?? '<problem>';
  let result: PlanResult;
  try {
    const d = parseDomain(domainText, { source: opts.domainSource ?? '<domain>' });
    const p = parseProblem(problemText, d, { source: name });
    result = planBfs(d, p, opts);
  } catch (e) {
    if (!(e instanceof PddlParseError)) throw e;
    return { problem: name, outcome: errorOutcome(e), planText: `Error: ${e.officialMessage}`, error: e };
  }
  let outcome: ProblemOutcome;
  switch (result.status) {
    case 'solved':
      outcome = 'solved';
      break;
    case 'goal-already-satisfied':
    case 'unsolvable':
      outcome = 'unsolved';
      break;
    case 'timeout':
      outcome = 'timeout';
      break;
    case 'memory-limit':
      outcome = 'memory_limit';
      break;
    case 'error':
      outcome = result.error ? errorOutcome(result.error) : 'parse_error';
      break;
  }
  const ev: ProblemEvaluation = {
    problem: name,
    outcome,
    planText: formatOfficialPlanFile(result),
    result,
    error: result.error,
  };
  if (opts.goldDomainText !== undefined) {
    ev.validUnderGold = false;
    if (outcome === 'solved' && result.plan) {
      try {
        const gd = parseDomain(opts.goldDomainText, { source: '<gold domain>' });
        const gp = parseProblem(problemText, gd, { source: name });
        ev.goldValidation = validatePlan(gd, gp, result.plan, { argOrder: 'any' });
        ev.validUnderGold = ev.goldValidation.valid;
      } catch (e) {
        if (!(e instanceof PddlParseError)) throw e;
      }
    }
  }
  return ev;
}

// ---------------------------------------------------------------------------------------------------------
// Extrinsic: one domain

export type IntrinsicStatus = 'pass' | 'parsing_error' | 'action_incomplete';

export interface DomainEvaluation {
  id: string;
  intrinsic: IntrinsicStatus;
  actionsFound?: number;
  actionsTotal?: number;
  missingActions?: string[];
  problems: ProblemEvaluation[];
}

export interface DomainInput {
  id: string;
  domainHeader: string;
  /** Post-processed predicted actions (see predictedActionsFromCompletion). */
  predictedActions: string;
  /** The gold `actions.txt`, for the completeness check. */
  goldActionsTxt?: string;
  /** Problem files, name (e.g. `problem-x.pddl`) and text. */
  problems: { name: string; text: string }[];
  /** The gold domain text, to compute the stricter "valid under gold" check. */
  goldDomain?: string;
}

/** The official per-domain evaluation: intrinsic status, then every problem file (30 s each by default). */
export function evaluateDomain(input: DomainInput, opts: EvaluateOptions = {}): DomainEvaluation {
  const domainText = assembleDomain(input.domainHeader, input.predictedActions);
  const ev: DomainEvaluation = { id: input.id, intrinsic: 'pass', problems: [] };
  let parsed = true;
  try {
    parseDomain(domainText, { source: `${input.id}/domain` });
  } catch (e) {
    if (!(e instanceof PddlParseError)) throw e;
    ev.intrinsic = 'parsing_error';
    parsed = false;
  }
  if (parsed && input.goldActionsTxt !== undefined) {
    const c = checkActionList(input.goldActionsTxt, input.predictedActions);
    ev.actionsFound = c.found;
    ev.actionsTotal = c.total;
    ev.missingActions = c.missing;
    if (c.total > c.found) ev.intrinsic = 'action_incomplete';
  }
  for (const p of input.problems) {
    ev.problems.push(
      evaluateProblem(domainText, p.text, {
        ...opts,
        problem: p.name,
        domainSource: `${input.id}/domain`,
        goldDomainText: input.goldDomain,
      }),
    );
  }
  return ev;
}

export interface SuccessSummary {
  total: number;
  solved: number;
  unsolved: number;
  timeout: number;
  parseError: number;
  memoryLimit: number;
  crash: number;
  /** Official success rate: solved / total. */
  successRate: number;
  /** Ours: solved plans that are also valid under the gold domain, over total (when gold was given). */
  validUnderGold?: number;
  validUnderGoldRate?: number;
  intrinsic: Record<IntrinsicStatus, number>;
}

export function summarizeSuccess(domains: DomainEvaluation[]): SuccessSummary {
  const all = domains.flatMap((d) => d.problems);
  const count = (o: ProblemOutcome) => all.filter((p) => p.outcome === o).length;
  const s: SuccessSummary = {
    total: all.length,
    solved: count('solved'),
    unsolved: count('unsolved'),
    timeout: count('timeout'),
    parseError: count('parse_error'),
    memoryLimit: count('memory_limit'),
    crash: count('crash'),
    successRate: all.length ? count('solved') / all.length : 0,
    intrinsic: { pass: 0, parsing_error: 0, action_incomplete: 0 },
  };
  for (const d of domains) s.intrinsic[d.intrinsic]++;
  if (all.some((p) => p.validUnderGold !== undefined)) {
    s.validUnderGold = all.filter((p) => p.validUnderGold).length;
    s.validUnderGoldRate = all.length ? s.validUnderGold / all.length : 0;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Intrinsic: official action_equal (bug-for-bug) and the second action_dist

class PyIndexError extends Error {}

function at<T>(arr: readonly T[], i: number): T {
  if (i < 0 || i >= arr.length) throw new PyIndexError();
  return arr[i];
}

/** Stable sort of parameters by type, as Python's sorted(key=type). */
function sortByType(ps: readonly { name: string; type: string }[]) {
  return ps
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.type < b.p.type ? -1 : a.p.type > b.p.type ? 1 : a.i - b.i))
    .map((x) => x.p);
}

/**
 * The official `action_equal(pred, gold)`, including its quirks: literals are paired greedily with the first
 * remaining gold literal of the same name and arity; a type mismatch between paired variables ends the
 * argument check without failing; a buggy index in the consistency check can raise IndexError, which makes
 * the result False. Literal sets are iterated in first-occurrence order (Python iterates frozensets in hash
 * order, so in rare cases the official result depends on the process's hash seed).
 */
export function actionEqualOfficial(pred: ActionSchema, gold: ActionSchema): boolean {
  if (
    pred.parameters.length !== gold.parameters.length ||
    pred.pos.length !== gold.pos.length ||
    pred.neg.length !== gold.neg.length ||
    pred.add.length !== gold.add.length ||
    pred.del.length !== gold.del.length
  ) {
    return false;
  }
  const p1 = sortByType(pred.parameters);
  const p2 = sortByType(gold.parameters);
  const pd1 = new Map<string, string>();
  const pd2 = new Map<string, string>();
  const d1 = new Map<string, string[]>();
  const d2 = new Map<string, string[]>();
  for (let i = 0; i < p1.length; i++) {
    if (p1[i].type !== p2[i].type) return false;
    pd1.set(p1[i].name, p1[i].type);
    const l1 = d1.get(p1[i].type) ?? [];
    if (l1.includes(p1[i].name)) return false;
    l1.push(p1[i].name);
    d1.set(p1[i].type, l1);
    pd2.set(p2[i].name, p2[i].type);
    const l2 = d2.get(p2[i].type) ?? [];
    if (l2.includes(p2[i].name)) return false;
    l2.push(p2[i].name);
    d2.set(p2[i].type, l2);
  }
  const entryEqual = (a: readonly Atom[], b: readonly Atom[]): boolean => {
    const pp1 = a.slice();
    const pp2 = b.slice();
    let count = 0;
    const cd1 = new Map<string, number>();
    const cd2 = new Map<string, number>();
    for (let i = 0; i < pp1.length; i++) {
      let flag = false;
      for (let j = 0; j < pp2.length; j++) {
        if (at(pp2[j], 0) === at(pp1[i], 0) && pp2[j].length === pp1[i].length) {
          for (let k = 1; k < pp1[i].length; k++) {
            const x = pp1[i][k];
            const y = pp2[j][k];
            if (!pd2.has(y) && !pd1.has(x)) {
              if (y !== x) return false;
            } else if (!pd2.has(y) || !pd1.has(x)) {
              return false;
            } else if (pd2.get(y) !== pd1.get(x)) {
              break;
            } else if (!cd1.has(x) && !cd2.has(y)) {
              cd1.set(x, count);
              cd2.set(y, count);
              count++;
            } else {
              // the official code indexes [i][j] here instead of [i][k]
              const u = at(pp1[i], j);
              if (cd1.has(u)) {
                const v = at(at(pp2, i), j);
                if (cd2.has(v)) {
                  if (cd1.get(u) !== cd2.get(v)) break;
                  continue;
                }
              }
              break;
            }
          }
          flag = true;
          pp2.splice(j, 1);
          break;
        }
      }
      if (!flag) return false;
    }
    return true;
  };
  try {
    return (
      entryEqual(pred.pos, gold.pos) &&
      entryEqual(pred.add, gold.add) &&
      entryEqual(pred.neg, gold.neg) &&
      entryEqual(pred.del, gold.del)
    );
  } catch (e) {
    if (e instanceof PyIndexError) return false;
    throw e;
  }
}

export interface ActionDistance {
  param: number;
  precondition: number;
  effect: number;
}

/**
 * The official `action_dist(pred, gold)` (the second definition, which shadows the first): name-level
 * matching where gold entries are never consumed. Parameters match by type; literals by name and arity.
 */
export function actionDistOfficial(pred: ActionSchema, gold: ActionSchema): ActionDistance {
  const goldTypes = new Set(gold.parameters.map((p) => p.type));
  const m = pred.parameters.filter((p) => goldTypes.has(p.type)).length;
  const param = Math.abs(pred.parameters.length - m) + Math.abs(gold.parameters.length - m);
  const entry = (c1: readonly Atom[], c2: readonly Atom[]): number => {
    let n = 0;
    for (const i of c1) {
      if (i.length === 0) continue;
      if (c2.some((j) => j.length === i.length && j[0] === i[0])) n++;
    }
    return Math.abs(c1.length - n) + Math.abs(c2.length - n);
  };
  return {
    param,
    precondition: entry(pred.pos, gold.pos) + entry(pred.neg, gold.neg),
    effect: entry(pred.add, gold.add) + entry(pred.del, gold.del),
  };
}

/**
 * Strict equality (ours): same parameter count and a bijection between parameters of equal types under
 * which the four literal sets are identical (constants compared exactly).
 */
export function actionEqualStrict(pred: ActionSchema, gold: ActionSchema): boolean {
  const n = pred.parameters.length;
  if (n !== gold.parameters.length) return false;
  const sets = (a: ActionSchema) => [a.pos, a.neg, a.add, a.del];
  const gs = sets(gold).map((ls) => new Set(ls.map((l) => l.join(' '))));
  const ps = sets(pred);
  if (ps.some((ls, i) => ls.length !== gs[i].size)) return false;
  const predNames = pred.parameters.map((p) => p.name);
  const goldNames = gold.parameters.map((p) => p.name);
  if (new Set(predNames).size !== n || new Set(goldNames).size !== n) return false;
  const map = new Array<number>(n).fill(-1);
  const used = new Array<boolean>(n).fill(false);
  const check = (): boolean => {
    const rename = new Map(predNames.map((nm, i) => [nm, goldNames[map[i]]]));
    return ps.every((ls, si) => ls.every((l) => gs[si].has(l.map((t) => rename.get(t) ?? t).join(' '))));
  };
  const search = (i: number): boolean => {
    if (i === n) return check();
    for (let j = 0; j < n; j++) {
      if (used[j] || gold.parameters[j].type !== pred.parameters[i].type) continue;
      used[j] = true;
      map[i] = j;
      if (search(i + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return search(0);
}

export interface IntrinsicActionResult {
  gold: string;
  pred: string | null;
  equal: boolean;
  param: boolean;
  pre: boolean;
  eff: boolean;
  /** Ours: equal up to a real renaming of parameters. */
  strictEqual: boolean;
}

export interface IntrinsicDomainResult {
  /** False when the predicted domain does not parse: the domain is then left out of every denominator. */
  parsed: boolean;
  perAction: IntrinsicActionResult[];
}

/** Compares predicted actions with gold actions by position, as `compare_actions.py` does. */
export function scoreIntrinsic(predicted: Domain | string | null, gold: Domain | string): IntrinsicDomainResult {
  const g = typeof gold === 'string' ? parseDomain(gold, { source: '<gold domain>' }) : gold;
  let p: Domain | null = null;
  if (typeof predicted === 'string') {
    try {
      p = parseDomain(predicted, { source: '<predicted domain>' });
    } catch (e) {
      if (!(e instanceof PddlParseError)) throw e;
    }
  } else p = predicted;
  if (!p) return { parsed: false, perAction: [] };
  const perAction = g.actions.map((ga, i): IntrinsicActionResult => {
    const pa = p!.actions[i];
    if (!pa)
      return { gold: ga.name, pred: null, equal: false, param: false, pre: false, eff: false, strictEqual: false };
    const d = actionDistOfficial(pa, ga);
    return {
      gold: ga.name,
      pred: pa.name,
      equal: actionEqualOfficial(pa, ga),
      param: d.param < 0.01,
      pre: d.precondition < 0.01,
      eff: d.effect < 0.01,
      strictEqual: actionEqualStrict(pa, ga),
    };
  });
  return { parsed: true, perAction };
}

export interface IntrinsicSummary {
  parsedDomains: number;
  goldActions: number;
  actionAccuracy: number;
  parameterAccuracy: number;
  preconditionAccuracy: number;
  effectAccuracy: number;
  strictActionAccuracy: number;
}

export function summarizeIntrinsic(results: IntrinsicDomainResult[]): IntrinsicSummary {
  const used = results.filter((r) => r.parsed);
  const all = used.flatMap((r) => r.perAction);
  const rate = (f: (a: IntrinsicActionResult) => boolean) => (all.length ? all.filter(f).length / all.length : 0);
  return {
    parsedDomains: used.length,
    goldActions: all.length,
    actionAccuracy: rate((a) => a.equal),
    parameterAccuracy: rate((a) => a.param),
    preconditionAccuracy: rate((a) => a.pre),
    effectAccuracy: rate((a) => a.eff),
    strictActionAccuracy: rate((a) => a.strictEqual),
  };
}
