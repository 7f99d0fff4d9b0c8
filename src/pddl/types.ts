// The parsed form of the PDDL subset used by Proc2PDDL (STRIPS + typing + negative preconditions + constants).
// It keeps exactly what the official tooling keeps, so grounding and search can reproduce its behaviour.

import type { PddlParseError } from './errors.ts';

/** A literal's atom: predicate name followed by its terms (variables or object names), all lower-cased. */
export type Atom = readonly string[];

export interface Parameter {
  /** Variable name as written (normally `?x`; the official parser accepts any token). */
  name: string;
  /** Declared type, `object` when untyped. */
  type: string;
}

export interface ActionSchema {
  name: string;
  parameters: Parameter[];
  /** Positive / negative preconditions, add / delete effects, each a set (duplicates removed, first-occurrence order). */
  pos: Atom[];
  neg: Atom[];
  add: Atom[];
  del: Atom[];
  line: number;
  column: number;
  /**
   * An error the official planner raises only when this action is grounded (for example a parameter whose type
   * is a list). Parsing succeeds; planning reports it.
   */
  deferredError?: PddlParseError;
}

export interface PddlWarning {
  line: number;
  column: number;
  message: string;
}

export interface Domain {
  name: string | null;
  requirements: string[];
  /** Supertype → direct subtypes, in declaration order. Parentless types are listed under `object`. */
  types: Map<string, string[]>;
  /** `:constants`, type → names in declaration order (merged with problem objects at grounding). */
  constants: Map<string, string[]>;
  /** Declared predicates: name → typed arguments. Not used for checking by the official tooling. */
  predicates: Map<string, Parameter[]>;
  actions: ActionSchema[];
  /** Things the official tooling silently accepts but a user probably wants to know. */
  warnings: PddlWarning[];
  source: string;
}

export interface Problem {
  name: string | null;
  domainName: string | null;
  /** Domain constants followed by problem objects: type → names, in declaration order. */
  objects: Map<string, string[]>;
  /** Initial state as a set of atoms (first-occurrence order). */
  init: Atom[];
  goalPos: Atom[];
  goalNeg: Atom[];
  warnings: PddlWarning[];
  source: string;
}

/** One plan step: an action name and its arguments in the action's parameter order. */
export interface PlanStep {
  action: string;
  args: string[];
}

export function atomKey(a: Atom): string {
  return a.join(' ');
}

export function atomToString(a: Atom): string {
  return `(${a.join(' ')})`;
}
