// Public API of the PDDL layer: parsing, grounding, the official Proc2PDDL BFS planner, a heuristic planner,
// plan validation and formatting, and Proc2PDDL scoring.
//
// Typical use (what `olmo pddl plan|validate` wraps):
//   const domain = parseDomain(domainText, { source: 'domain.pddl' });
//   const problem = parseProblem(problemText, domain, { source: 'problem.pddl' });
//   const r = planBfs(domain, problem, { timeLimitMs: 30_000 });      // or planHeuristic(...)
//   if (r.status === 'solved') process.stdout.write(formatPlan(r.plan!));
//   const v = validatePlan(domain, problem, parsePlan(planText));      // v.failure names the first bad step

export { PddlParseError, PlanSyntaxError, type PyErrorClass, type SourcePos } from './errors.ts';
export type { ActionSchema, Atom, Domain, Parameter, PddlWarning, PlanStep, Problem } from './types.ts';
export { atomToString } from './types.ts';
export { parseDomain, parseProblem, SUPPORTED_REQUIREMENTS, type ParseOptions } from './parser.ts';
export { checkDomain, checkProblem, PddlCheckError, type PddlIssue, type PddlIssueKind } from './check.ts';
export { readSExpr, type SExpr } from './sexpr.ts';
export {
  candidatesForType,
  groundTask,
  type GroundAction,
  type GroundOptions,
  type GroundOutcome,
  type GroundTask,
} from './ground.ts';
export {
  DEFAULT_LIMITS,
  type PlanResult,
  type PlanStatus,
  type SearchLimits,
  type SearchStats,
} from './search-common.ts';
export { planBfs, type BfsOptions } from './bfs.ts';
export { planHeuristic, RelaxedHeuristic, type HeuristicName, type HeuristicOptions } from './heuristic.ts';
export {
  validatePlan,
  type ValidateOptions,
  type ValidationFailure,
  type ValidationFailureReason,
  type ValidationResult,
} from './validate.ts';
export {
  formatOfficialPlanFile,
  formatPlan,
  formatPlanPddl,
  formatStep,
  OFFICIAL_TIMEOUT_TEXT,
  parsePlan,
  type ParsedPlanStep,
} from './format.ts';
export { BLOCKSWORLD_DOMAIN, blocksworldProblem } from './blocksworld.ts';
export {
  actionDistOfficial,
  actionEqualOfficial,
  actionEqualStrict,
  assembleDomain,
  checkActionList,
  evaluateDomain,
  evaluateProblem,
  extractActionBlocks,
  parseActionList,
  predictedActionsFromCompletion,
  scoreIntrinsic,
  summarizeIntrinsic,
  summarizeSuccess,
  type ActionDistance,
  type ActionListEntry,
  type DomainEvaluation,
  type DomainInput,
  type EvaluateOptions,
  type IntrinsicActionResult,
  type IntrinsicDomainResult,
  type IntrinsicStatus,
  type IntrinsicSummary,
  type ProblemEvaluation,
  type ProblemOutcome,
  type SuccessSummary,
} from './proc2pddl.ts';

import { planBfs } from './bfs.ts';
import { planHeuristic, type HeuristicOptions } from './heuristic.ts';
import type { SearchLimits, PlanResult } from './search-common.ts';
import type { Domain, Problem } from './types.ts';

/** One entry point for the CLI: `planner` 'bfs' (official, default) or 'gbfs' / 'astar' (heuristic). */
export function plan(
  domain: Domain,
  problem: Problem,
  opts: SearchLimits & { planner?: 'bfs' | 'gbfs' | 'astar'; heuristic?: HeuristicOptions['heuristic'] } = {},
): PlanResult {
  const planner = opts.planner ?? 'bfs';
  if (planner === 'bfs') return planBfs(domain, problem, opts);
  return planHeuristic(domain, problem, { ...opts, algorithm: planner });
}
