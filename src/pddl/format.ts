// Plan text: the official Proc2PDDL plan-file format, a PDDL-style format, and a reader for both.

import { PlanSyntaxError } from './errors.ts';
import type { PlanResult } from './search-common.ts';
import type { PlanStep } from './types.ts';

/** One official plan line: `name ('a', 'b')` (an action without parameters prints `name ('')`). */
export function formatStep(step: PlanStep): string {
  return `${step.action} ('${step.args.join("', '")}')`;
}

/** The official plan-file body for a found plan: one line per step, each ending in a newline. */
export function formatPlan(plan: PlanStep[]): string {
  return plan.map((s) => formatStep(s) + '\n').join('');
}

/** PDDL-style plan text, one `(name a b)` per line (as VAL and most planners write it). */
export function formatPlanPddl(plan: PlanStep[]): string {
  return plan.map((s) => `(${[s.action, ...s.args].join(' ')})\n`).join('');
}

export const OFFICIAL_TIMEOUT_TEXT = 'Error: Running time exceeds 30 seconds';

/**
 * What the official evaluation writes to the plan file for a planner result: the plan, `No solution`
 * (no plan, or the goal already held initially), or `Error: ...` (timeout or an official parse error).
 * Our memory-limit outcome has no official counterpart; it is written as `Error: memory limit ...`.
 */
export function formatOfficialPlanFile(r: PlanResult): string {
  switch (r.status) {
    case 'solved':
      return formatPlan(r.plan ?? []);
    case 'goal-already-satisfied':
    case 'unsolvable':
      return 'No solution';
    case 'timeout':
      return OFFICIAL_TIMEOUT_TEXT;
    case 'memory-limit':
      return `Error: memory limit (${r.message ?? 'state limit reached'})`;
    case 'error':
      return `Error: ${r.error?.officialMessage ?? r.message ?? 'error'}`;
  }
}

export interface ParsedPlanStep extends PlanStep {
  /** 1-based line in the plan text. */
  line: number;
}

const OFFICIAL_LINE = /^([^\s(]+)\s*\((.*)\)$/;

/**
 * Reads a plan in any of: the official format `name ('a', 'b')`, PDDL `(name a b)` (with `;` comments, as in
 * sas_plan files), or plain `name a b`. Blank lines are skipped; a plan file that reads `No solution` or
 * `Error: ...` is rejected with a PlanSyntaxError, because it holds no plan.
 */
export function parsePlan(text: string, source = '<plan>'): ParsedPlanStep[] {
  const out: ParsedPlanStep[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/;.*$/, '').trim();
    if (raw === '') continue;
    const line = i + 1;
    if (/^no solution$/i.test(raw) || /^error:/i.test(raw)) {
      throw new PlanSyntaxError(source, line, `the file holds no plan ('${raw}')`);
    }
    if (raw.startsWith('(')) {
      if (!raw.endsWith(')')) throw new PlanSyntaxError(source, line, `expected '(name arg ...)', found '${raw}'`);
      const parts = raw.slice(1, -1).trim().split(/\s+/).filter(Boolean);
      if (parts.length === 0) throw new PlanSyntaxError(source, line, 'expected an action name inside ( )');
      out.push({ action: parts[0].toLowerCase(), args: parts.slice(1).map((a) => a.toLowerCase()), line });
      continue;
    }
    const m = OFFICIAL_LINE.exec(raw);
    if (m) {
      const inner = m[2].trim();
      const args: string[] = [];
      if (inner !== "''" && inner !== '') {
        for (const part of inner.split(',')) {
          const p = part.trim();
          if (p === '') continue; // Python one-tuple trailing comma
          const q = /^'([^']*)'$/.exec(p) ?? /^"([^"]*)"$/.exec(p);
          if (!q) throw new PlanSyntaxError(source, line, `expected a quoted argument like 'name', found '${p}'`);
          args.push(q[1].toLowerCase());
        }
      }
      out.push({ action: m[1].toLowerCase(), args, line });
      continue;
    }
    const parts = raw.split(/\s+/);
    out.push({ action: parts[0].toLowerCase(), args: parts.slice(1).map((a) => a.toLowerCase()), line });
  }
  return out;
}
