// Strict semantic checks the official Proc2PDDL tooling does not make: every literal (action preconditions and
// effects, :init, :goal) uses a predicate declared in :predicates with its declared number of arguments, every
// ?variable in an action is one of its parameters, every other action term is a domain constant, and every
// :init/:goal term is a declared object or constant. The official planner accepts all of these, so an
// undeclared object in :init or :goal only makes the goal unreachable ("unsolvable"). `olmo pddl` runs the
// checks by default; Proc2PDDL scoring does not, because the official evaluation scores such files as it
// parses them.

import type { SourcePos } from './errors.ts';
import type { SExpr } from './sexpr.ts';
import type { Atom, Domain, Problem } from './types.ts';

export type PddlIssueKind = 'undeclared-predicate' | 'wrong-arity' | 'undeclared-object' | 'undeclared-variable';

export interface PddlIssue {
  kind: PddlIssueKind;
  source: string;
  line: number;
  column: number;
  /** `source:line:column: expected …, found …` */
  message: string;
  /** The predicate of the literal. */
  predicate: string;
  /** For 'wrong-arity': declared and written numbers of arguments. */
  expectedArity?: number;
  actualArity?: number;
  /** For 'undeclared-object' / 'undeclared-variable': the term. */
  name?: string;
}

/** Raised by strict parsing: all the issues found in one file, each with its line and column. */
export class PddlCheckError extends Error {
  override readonly name = 'PddlCheckError';
  constructor(readonly issues: PddlIssue[]) {
    const shown = issues.slice(0, 20).map((i) => i.message);
    if (issues.length > 20) shown.push(`… and ${issues.length - 20} more`);
    super(shown.join('\n'));
  }
}

/** Where a literal was written: its '(' and each of its items (predicate first). */
interface LiteralPos {
  at: SourcePos;
  items: SourcePos[];
}

// Atoms are plain string arrays (what the planner works on); their positions live beside them.
const positions = new WeakMap<Atom, LiteralPos>();

/** Records where the parser read a literal (called by the parser for every atom it builds). */
export function recordLiteral(atom: Atom, from: SExpr): void {
  const at = { line: from.line, column: from.column };
  const items = from.kind === 'list' ? from.items.map((e) => ({ line: e.line, column: e.column })) : [];
  positions.set(atom, { at, items });
}

/** Where a literal was written, or `fallback` for atoms that were not parsed from text. */
export function literalPos(atom: Atom, fallback: SourcePos = { line: 1, column: 1 }): SourcePos {
  return positions.get(atom)?.at ?? fallback;
}

function termPos(atom: Atom, k: number, fallback: SourcePos): SourcePos {
  return positions.get(atom)?.items[k] ?? literalPos(atom, fallback);
}

const lit = (a: Atom) => `(${a.join(' ')})`;

/** Checks one literal's predicate and arity, then each term with `term` (which returns a problem or null). */
function checkLiteral(
  out: PddlIssue[],
  source: string,
  domain: Domain,
  atom: Atom,
  where: string,
  fallback: SourcePos,
  term: (name: string) => { kind: PddlIssueKind; expected: string } | null,
): void {
  const issue = (kind: PddlIssueKind, pos: SourcePos, text: string, extra: Partial<PddlIssue> = {}) =>
    out.push({
      kind,
      source,
      ...pos,
      message: `${source}:${pos.line}:${pos.column}: ${text}`,
      predicate: atom[0],
      ...extra,
    });
  const at = literalPos(atom, fallback);
  const decl = domain.predicates.get(atom[0]);
  if (decl === undefined) {
    issue(
      'undeclared-predicate',
      at,
      `expected a predicate declared in the domain's :predicates, found undeclared predicate '${atom[0]}' in ${lit(atom)} in ${where}`,
    );
    return;
  }
  const actual = atom.length - 1;
  // `?x -type` (no space after the hyphen) reads as two parameters to the official parser; its author meant a
  // type, and the arity is counted that way.
  const args = decl.filter((p) => !p.name.startsWith('-'));
  if (args.length !== actual) {
    const declared = `(${[atom[0], ...args.map((p) => p.name)].join(' ')})`;
    issue(
      'wrong-arity',
      at,
      `expected ${args.length} argument(s) for predicate '${atom[0]}' (declared ${declared}), found ${actual} in ${lit(atom)} in ${where}`,
      {
        expectedArity: args.length,
        actualArity: actual,
      },
    );
  }
  for (let k = 1; k < atom.length; k++) {
    const bad = term(atom[k]);
    if (bad) {
      const what = bad.kind === 'undeclared-variable' ? 'variable' : 'object';
      issue(
        bad.kind,
        termPos(atom, k, at),
        `expected ${bad.expected}, found undeclared ${what} '${atom[k]}' in ${lit(atom)} in ${where}`,
        { name: atom[k] },
      );
    }
  }
}

function constantsOf(domain: Domain): Set<string> {
  return new Set([...domain.constants.values()].flat());
}

/** Strict checks of a parsed domain's actions (see the file comment). */
export function checkDomain(domain: Domain): PddlIssue[] {
  const out: PddlIssue[] = [];
  const constants = constantsOf(domain);
  for (const a of domain.actions) {
    const params = new Set(a.parameters.map((p) => p.name));
    const term = (t: string) =>
      t.startsWith('?')
        ? params.has(t)
          ? null
          : { kind: 'undeclared-variable' as const, expected: `a parameter of action ${a.name}` }
        : constants.has(t)
          ? null
          : { kind: 'undeclared-object' as const, expected: `a parameter of action ${a.name} or a domain constant` };
    const fallback = { line: a.line, column: a.column };
    const groups: [Atom[], string][] = [
      [a.pos, 'the precondition'],
      [a.neg, 'the precondition'],
      [a.add, 'the effect'],
      [a.del, 'the effect'],
    ];
    for (const [atoms, part] of groups) {
      for (const atom of atoms)
        checkLiteral(out, domain.source, domain, atom, `${part} of action ${a.name}`, fallback, term);
    }
  }
  return sortIssues(out);
}

/** Strict checks of a parsed problem's :init and :goal against its domain (see the file comment). */
export function checkProblem(domain: Domain, problem: Problem): PddlIssue[] {
  const out: PddlIssue[] = [];
  const objects = new Set([...problem.objects.values()].flat());
  const term = (t: string) =>
    objects.has(t)
      ? null
      : { kind: 'undeclared-object' as const, expected: 'an object declared in :objects or a domain constant' };
  const fallback = { line: 1, column: 1 };
  for (const atom of problem.init) checkLiteral(out, problem.source, domain, atom, ':init', fallback, term);
  for (const atom of [...problem.goalPos, ...problem.goalNeg])
    checkLiteral(out, problem.source, domain, atom, ':goal', fallback, term);
  return sortIssues(out);
}

function sortIssues(issues: PddlIssue[]): PddlIssue[] {
  return issues.sort((x, y) => x.line - y.line || x.column - y.column);
}
