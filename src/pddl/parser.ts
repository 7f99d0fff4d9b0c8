// Domain and problem parsers for the Proc2PDDL subset. Acceptance and rejection follow the official tooling
// (pucrs-automated-planning/pddl-parser as vendored in evaluate_scripts/pddl-parser/ of zharry29/proc2pddl,
// https://github.com/zharry29/proc2pddl):
// what it accepts we accept with the same meaning (quirks included), what it rejects we reject with an error
// that names the line and column, what was expected, and which Python exception the official code raises.
//
// Quirks kept on purpose (each changes plans or scores in the official evaluation):
// - `?p -player` is two tokens; `-player` becomes a parameter and the next ` - T` types both: (?p, -player : T).
// - requirements are checked against :strips :negative-preconditions :typing only; usage is never checked.
// - a literal written as a bare word inside `(and ...)` becomes the atom of its characters (Python tuple('ab')).
// - `(or ...)`, `(forall ...)`, nested `(and ...)` and other nested lists inside a literal are TypeErrors.
// - a type named before being declared as a supertype cannot be declared later ("Redefined supertype").
// - unknown sections and unknown action keys are ignored (with a warning here).

import { checkDomain, checkProblem, literalPos, PddlCheckError, recordLiteral } from './check.ts';
import { PddlParseError, type PyErrorClass, type SourcePos } from './errors.ts';
import { describe, posOf, readSExpr, type SExpr, type SList } from './sexpr.ts';
import type { ActionSchema, Atom, Domain, Parameter, PddlWarning, Problem } from './types.ts';

export const SUPPORTED_REQUIREMENTS = [':strips', ':negative-preconditions', ':typing'];

export interface ParseOptions {
  /** File name used in error messages. */
  source?: string;
  /**
   * Also refuse what the official tooling accepts silently (check.ts): undeclared predicates, wrong numbers of
   * arguments, undeclared objects and variables. Throws a PddlCheckError listing each with line and column.
   * Default false: Proc2PDDL scoring must read model output exactly as the official evaluation does.
   */
  strict?: boolean;
}

/** Renders an s-expression the way it reads (used for names that are lists, which Python compares by value). */
export function render(e: SExpr): string {
  return e.kind === 'atom' ? e.value : `(${e.items.map(render).join(' ')})`;
}

class Ctx {
  readonly warnings: PddlWarning[] = [];
  constructor(readonly source: string) {}

  fail(
    pos: SourcePos,
    expected: string,
    found: string,
    pyClass: PyErrorClass,
    officialMessage: string,
    hint?: string,
  ): never {
    throw new PddlParseError({ source: this.source, pos, expected, found, pyClass, officialMessage, hint });
  }

  warn(pos: SourcePos, message: string): void {
    this.warnings.push({ line: pos.line, column: pos.column, message });
  }
}

function endPos(l: SList): SourcePos {
  return { line: l.endLine, column: l.endColumn };
}

function dedupe(atoms: Atom[]): Atom[] {
  const seen = new Set<string>();
  const out: Atom[] = [];
  for (const a of atoms) {
    // key with a separator that cannot occur inside a token
    const k = a.join(' ');
    if (!seen.has(k)) {
      seen.add(k);
      out.push(a);
    }
  }
  return out;
}

/** tuple(t) in Python: a list of atoms becomes its values; a nested list is unhashable (TypeError). */
function toAtom(ctx: Ctx, e: SExpr): Atom {
  if (e.kind === 'atom') {
    const chars = Array.from(e.value); // tuple('abc') == ('a', 'b', 'c')
    recordLiteral(chars, e);
    return chars;
  }
  const out: string[] = [];
  recordLiteral(out, e);
  for (const it of e.items) {
    if (it.kind === 'list') {
      ctx.fail(
        posOf(it),
        'a predicate argument (a name or ?variable)',
        describe(it),
        'TypeError',
        "unhashable type: 'list'",
        'Connectives other than and/not (or, forall, exists, when, nested and) are not supported.',
      );
    }
    out.push(it.value);
  }
  return out;
}

/** The official split_predicates: `(and l1 l2 ...)` or a single literal; literals are atoms or `(not atom)`. */
function splitLiterals(ctx: Ctx, e: SExpr, pos: Atom[], neg: Atom[], what: string): void {
  if (e.kind === 'atom') {
    ctx.fail(posOf(e), `a parenthesised condition for ${what}`, describe(e), 'ValueError', `Error with ${what}`);
  }
  if (e.items.length === 0) return;
  const head = e.items[0];
  const lits = head.kind === 'atom' && head.value === 'and' ? e.items.slice(1) : [e];
  for (const lit of lits) {
    if (lit.kind === 'list') {
      if (lit.items.length === 0) {
        ctx.fail(posOf(lit), 'a literal', '()', 'IndexError', 'list index out of range');
      }
      const h = lit.items[0];
      if (h.kind === 'atom' && h.value === 'not') {
        if (lit.items.length !== 2) {
          ctx.fail(
            posOf(lit),
            '(not ATOM) with exactly one atom',
            `${lit.items.length - 1} arguments to not`,
            'ValueError',
            `Unexpected not in ${what}`,
          );
        }
        neg.push(toAtom(ctx, lit.items[1]));
        continue;
      }
    }
    pos.push(toAtom(ctx, lit));
  }
}

/** The official parse_hierarchy for :types / :constants / :objects: `a b - t c - u d` (d is an object). */
function parseHierarchy(
  ctx: Ctx,
  group: SList,
  items: SExpr[],
  structure: Map<string, string[]>,
  name: string,
  redefine: boolean,
): void {
  let pending: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const el = items[i];
    if (el.kind === 'list') {
      ctx.fail(posOf(el), `a name in ${name}`, describe(el), 'TypeError', "unhashable type: 'list'");
    }
    if (redefine && structure.has(el.value)) {
      ctx.fail(
        posOf(el),
        `a type that has not already been used as a supertype`,
        `'${el.value}'`,
        'ValueError',
        `Redefined supertype of ${el.value}`,
        `Declare '${el.value}' (and its own supertype) before the types that use it as their parent.`,
      );
    }
    if (el.value === '-') {
      if (pending.length === 0) {
        ctx.fail(posOf(el), `names before '-' in ${name}`, "'-'", 'ValueError', `Unexpected hyphen in ${name}`);
      }
      const t = items[i + 1];
      if (t === undefined) {
        ctx.fail(endPos(group), `a type name after '-' in ${name}`, describe(t), 'IndexError', 'pop from empty list');
      }
      if (t.kind === 'list') {
        ctx.fail(posOf(t), `a type name after '-' in ${name}`, describe(t), 'TypeError', "unhashable type: 'list'");
      }
      i++;
      const list = structure.get(t.value) ?? [];
      list.push(...pending);
      structure.set(t.value, list);
      pending = [];
    } else {
      pending.push(el.value);
    }
  }
  if (pending.length) {
    const list = structure.get('object') ?? [];
    list.push(...pending);
    structure.set('object', list);
  }
}

/** Typed variable list `?a ?b - t ?c` (untyped → object). */
function parseTypedList(
  ctx: Ctx,
  l: SList,
  what: string,
  onListType: (param: Parameter, typeExpr: SList) => void,
): Parameter[] {
  const out: Parameter[] = [];
  let pending: string[] = [];
  for (let i = 0; i < l.items.length; i++) {
    const el = l.items[i];
    if (el.kind === 'atom' && el.value === '-') {
      if (pending.length === 0) {
        ctx.fail(posOf(el), `a variable before '-' in ${what}`, "'-'", 'ValueError', `Unexpected hyphen in ${what}`);
      }
      const t = l.items[i + 1];
      if (t === undefined) {
        ctx.fail(endPos(l), `a type name after '-' in ${what}`, 'end of list', 'IndexError', 'pop from empty list');
      }
      i++;
      for (const name of pending) {
        const p: Parameter = { name, type: render(t) };
        if (t.kind === 'list') onListType(p, t);
        out.push(p);
      }
      pending = [];
    } else {
      pending.push(render(el));
    }
  }
  for (const name of pending) out.push({ name, type: 'object' });
  return out;
}

function headOf(ctx: Ctx, group: SExpr, where: string): { head: SExpr; rest: SExpr[]; list: SList } {
  if (group.kind === 'atom') {
    ctx.fail(
      posOf(group),
      `a parenthesised section in ${where}`,
      describe(group),
      'AttributeError',
      "'str' object has no attribute 'pop'",
    );
  }
  if (group.items.length === 0) {
    ctx.fail(posOf(group), `a section keyword in ${where}`, '()', 'IndexError', 'pop from empty list');
  }
  return { head: group.items[0], rest: group.items.slice(1), list: group };
}

function readDefine(ctx: Ctx, text: string, kind: 'domain' | 'problem'): SExpr[] {
  const top = readSExpr(text, ctx.source);
  const pattern = `File ${ctx.source} does not match ${kind} pattern`;
  if (top.kind === 'atom') {
    ctx.fail(posOf(top), `(define (${kind} NAME) ...)`, describe(top), 'ValueError', pattern);
  }
  if (top.items.length === 0) {
    ctx.fail(posOf(top), `(define (${kind} NAME) ...)`, '()', 'IndexError', 'pop from empty list');
  }
  const d = top.items[0];
  if (d.kind !== 'atom' || d.value !== 'define') {
    ctx.fail(posOf(d), `'define'`, describe(d), 'ValueError', pattern);
  }
  return top.items.slice(1);
}

function parseAction(ctx: Ctx, list: SList, rest: SExpr[], existing: ActionSchema[]): ActionSchema {
  const nameEl = rest[0];
  if (nameEl === undefined) {
    ctx.fail(endPos(list), 'an action name after :action', 'end of list', 'IndexError', 'pop from empty list');
  }
  if (nameEl.kind !== 'atom') {
    ctx.fail(
      posOf(nameEl),
      'an action name after :action',
      describe(nameEl),
      'ValueError',
      'Action without name definition',
    );
  }
  const name = nameEl.value;
  if (existing.some((a) => a.name === name)) {
    ctx.fail(posOf(nameEl), `a new action name`, `'${name}' defined twice`, 'ValueError', `Action ${name} redefined`);
  }
  const action: ActionSchema = {
    name,
    parameters: [],
    pos: [],
    neg: [],
    add: [],
    del: [],
    line: list.line,
    column: list.column,
  };
  const body = rest.slice(1);
  for (let i = 0; i < body.length; i++) {
    const t = body[i];
    const key = t.kind === 'atom' ? t.value : null;
    if (key === ':parameters' || key === ':precondition' || key === ':effect') {
      const arg = body[i + 1];
      if (arg === undefined) {
        ctx.fail(
          endPos(list),
          `a value after ${key} in action ${name}`,
          'end of list',
          'IndexError',
          'pop from empty list',
        );
      }
      i++;
      if (key === ':parameters') {
        if (arg.kind === 'atom') {
          ctx.fail(
            posOf(arg),
            `a parenthesised parameter list for action ${name}`,
            describe(arg),
            'AttributeError',
            "'str' object has no attribute 'pop'",
          );
        }
        action.parameters = parseTypedList(ctx, arg, `${name} parameters`, (p, te) => {
          action.deferredError ??= new PddlParseError({
            source: ctx.source,
            pos: posOf(te),
            expected: `a type name for parameter ${p.name} of action ${name}`,
            found: describe(te),
            pyClass: 'TypeError',
            officialMessage: "unhashable type: 'list'",
          });
        });
      } else if (key === ':precondition') {
        splitLiterals(ctx, arg, action.pos, action.neg, `${name} preconditions`);
      } else {
        splitLiterals(ctx, arg, action.add, action.del, `${name} effects`);
      }
    } else {
      ctx.warn(posOf(t), `${describe(t)} is not recognized in action ${name} (ignored)`);
    }
  }
  action.pos = dedupe(action.pos);
  action.neg = dedupe(action.neg);
  action.add = dedupe(action.add);
  action.del = dedupe(action.del);
  return action;
}

/** Parses a domain file with the official semantics. Throws PddlParseError (with line:column) when it would. */
export function parseDomain(text: string, opts: ParseOptions = {}): Domain {
  const ctx: Ctx = new Ctx(opts.source ?? '<domain>');
  const groups = readDefine(ctx, text, 'domain');
  const domain: Domain = {
    name: null,
    requirements: [],
    types: new Map(),
    constants: new Map(),
    predicates: new Map(),
    actions: [],
    warnings: ctx.warnings,
    source: ctx.source,
  };
  for (const g of groups) {
    const { head, rest, list } = headOf(ctx, g, 'the domain');
    const t = head.kind === 'atom' ? head.value : null;
    if (t === 'domain') {
      if (rest.length === 0) {
        ctx.fail(endPos(list), 'a domain name', 'end of list', 'IndexError', 'list index out of range');
      }
      domain.name = render(rest[0]);
    } else if (t === ':requirements') {
      for (const r of rest) {
        if (r.kind === 'list') {
          ctx.fail(
            posOf(r),
            'a requirement keyword',
            describe(r),
            'TypeError',
            'can only concatenate str (not "list") to str',
          );
        }
        if (!SUPPORTED_REQUIREMENTS.includes(r.value)) {
          ctx.fail(
            posOf(r),
            `one of ${SUPPORTED_REQUIREMENTS.join(' ')}`,
            `'${r.value}'`,
            'ValueError',
            `Requirement ${r.value} not supported`,
          );
        }
      }
      domain.requirements = rest.map(render);
    } else if (t === ':constants') {
      parseHierarchy(ctx, list, rest, domain.constants, ':constants', false);
    } else if (t === ':predicates') {
      for (const p of rest) {
        if (p.kind === 'atom') {
          ctx.fail(
            posOf(p),
            '(PREDICATE ?arg ...)',
            describe(p),
            'AttributeError',
            "'str' object has no attribute 'pop'",
          );
        }
        if (p.items.length === 0) ctx.fail(posOf(p), '(PREDICATE ?arg ...)', '()', 'IndexError', 'pop from empty list');
        const nameEl = p.items[0];
        if (nameEl.kind === 'list') {
          ctx.fail(posOf(nameEl), 'a predicate name', describe(nameEl), 'TypeError', "unhashable type: 'list'");
        }
        if (domain.predicates.has(nameEl.value)) {
          ctx.fail(
            posOf(nameEl),
            'a new predicate name',
            `'${nameEl.value}' declared twice`,
            'ValueError',
            `Predicate ${nameEl.value} redefined`,
          );
        }
        const args = parseTypedList(ctx, { ...p, items: p.items.slice(1) }, 'predicates', () => {});
        domain.predicates.set(nameEl.value, args);
      }
    } else if (t === ':types') {
      parseHierarchy(ctx, list, rest, domain.types, 'types', true);
    } else if (t === ':action') {
      domain.actions.push(parseAction(ctx, list, rest, domain.actions));
    } else {
      ctx.warn(posOf(head), `${describe(head)} is not recognized in domain (ignored)`);
    }
  }
  lintDomain(ctx, domain);
  if (opts.strict) {
    const issues = checkDomain(domain);
    if (issues.length > 0) throw new PddlCheckError(issues);
  }
  return domain;
}

/** Parses a problem against its domain (domain constants come first in the object lists). */
export function parseProblem(text: string, domain: Domain, opts: ParseOptions = {}): Problem {
  const ctx: Ctx = new Ctx(opts.source ?? '<problem>');
  const groups = readDefine(ctx, text, 'problem');
  const objects = new Map<string, string[]>();
  for (const [k, v] of domain.constants) objects.set(k, [...v]);
  const problem: Problem = {
    name: null,
    domainName: null,
    objects,
    init: [],
    goalPos: [],
    goalNeg: [],
    warnings: ctx.warnings,
    source: ctx.source,
  };
  for (const g of groups) {
    const { head, rest, list } = headOf(ctx, g, 'the problem');
    const t = head.kind === 'atom' ? head.value : null;
    if (t === 'problem') {
      if (rest.length === 0)
        ctx.fail(endPos(list), 'a problem name', 'end of list', 'IndexError', 'list index out of range');
      problem.name = render(rest[0]);
    } else if (t === ':domain') {
      if (rest.length === 0)
        ctx.fail(endPos(list), 'a domain name', 'end of list', 'IndexError', 'list index out of range');
      const dn = render(rest[0]);
      problem.domainName = dn;
      if (dn !== domain.name) {
        ctx.fail(
          posOf(rest[0]),
          `the domain name '${domain.name ?? '(none)'}'`,
          `'${dn}'`,
          'ValueError',
          'Different domain specified in problem file',
        );
      }
    } else if (t === ':requirements') {
      // ignored, as officially
    } else if (t === ':objects') {
      parseHierarchy(ctx, list, rest, objects, ':objects', false);
    } else if (t === ':init') {
      problem.init = dedupe(rest.map((e) => toAtom(ctx, e)));
    } else if (t === ':goal') {
      if (rest.length === 0)
        ctx.fail(endPos(list), 'a goal condition', 'end of list', 'IndexError', 'list index out of range');
      const pos: Atom[] = [];
      const neg: Atom[] = [];
      splitLiterals(ctx, rest[0], pos, neg, 'goals');
      problem.goalPos = dedupe(pos);
      problem.goalNeg = dedupe(neg);
    } else {
      ctx.warn(posOf(head), `${describe(head)} is not recognized in problem (ignored)`);
    }
  }
  lintProblem(ctx, domain, problem);
  if (opts.strict) {
    const issues = checkProblem(domain, problem);
    if (issues.length > 0) throw new PddlCheckError(issues);
  }
  return problem;
}

// ---------------------------------------------------------------------------------------------------------
// Lint: problems the official tooling accepts silently. Reported as warnings, never as errors.

function declaredTypes(domain: Domain): Set<string> {
  const s = new Set<string>(['object']);
  for (const [k, v] of domain.types) {
    s.add(k);
    for (const x of v) s.add(x);
  }
  return s;
}

function lintDomain(ctx: Ctx, d: Domain): void {
  const types = declaredTypes(d);
  const usesNeg = d.actions.some((a) => a.neg.length > 0);
  if (usesNeg && !d.requirements.includes(':negative-preconditions')) {
    ctx.warn({ line: 1, column: 1 }, 'negative preconditions are used but :negative-preconditions is not declared');
  }
  for (const a of d.actions) {
    const at = { line: a.line, column: a.column };
    const params = new Set(a.parameters.map((p) => p.name));
    for (const p of a.parameters) {
      if (!p.name.startsWith('?')) ctx.warn(at, `action ${a.name}: parameter '${p.name}' does not start with '?'`);
      if (d.types.size > 0 && !types.has(p.type))
        ctx.warn(at, `action ${a.name}: parameter ${p.name} has undeclared type '${p.type}'`);
    }
    for (const lit of [...a.pos, ...a.neg, ...a.add, ...a.del]) {
      const decl = d.predicates.get(lit[0]);
      if (d.predicates.size > 0 && !decl)
        ctx.warn(literalPos(lit, at), `action ${a.name}: undeclared predicate '${lit[0]}'`);
      else if (decl && decl.length !== lit.length - 1) {
        ctx.warn(
          literalPos(lit, at),
          `action ${a.name}: (${lit.join(' ')}) has ${lit.length - 1} arguments, predicate declares ${decl.length}`,
        );
      }
      for (const term of lit.slice(1)) {
        if (term.startsWith('?') && !params.has(term)) {
          ctx.warn(at, `action ${a.name}: variable ${term} is not a parameter (it stays a literal name)`);
        }
      }
    }
  }
}

function lintProblem(ctx: Ctx, d: Domain, p: Problem): void {
  const types = declaredTypes(d);
  for (const t of p.objects.keys()) {
    if (!types.has(t)) ctx.warn({ line: 1, column: 1 }, `objects of undeclared type '${t}'`);
  }
  for (const lit of [...p.init, ...p.goalPos, ...p.goalNeg]) {
    if (d.predicates.size > 0 && !d.predicates.has(lit[0])) {
      ctx.warn(literalPos(lit), `(${lit.join(' ')}) uses undeclared predicate '${lit[0]}'`);
    }
  }
}
