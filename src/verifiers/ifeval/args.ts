// Reading IFEval instruction kwargs: the shape of `build_description(**kwargs)` in IFEval's `instructions.py`.
// IFEval fills a missing argument with a random value; a verifier cannot, so a missing or malformed argument is a
// ground-truth error here (`IfEvalArgError`, turned into `VerifierGroundTruthError` by the callers).

export class IfEvalArgError extends Error {}

export type Kwargs = Record<string, unknown>;

/** A checker built from kwargs: response in, followed or not out. Must not throw on any response. */
export type Check = (response: string) => boolean;

/** Builds a checker for one instruction id from its kwargs (throws IfEvalArgError on bad kwargs). */
export type CheckBuilder = (kwargs: Kwargs) => Check;

export interface InstructionSpec {
  /** kwargs the instruction takes (others are rejected) */
  args: readonly string[];
  build: CheckBuilder;
}

export const RELATIONS = ['less than', 'at least'] as const;
export type Relation = (typeof RELATIONS)[number];

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function int(kwargs: Kwargs, name: string, min = 0): number {
  const v = kwargs[name];
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min)
    throw new IfEvalArgError(`kwarg '${name}' must be an integer >= ${min}, got ${describe(v)}`);
  return n;
}

export function str(kwargs: Kwargs, name: string): string {
  const v = kwargs[name];
  if (typeof v !== 'string' || v === '')
    throw new IfEvalArgError(`kwarg '${name}' must be a non-empty string, got ${describe(v)}`);
  return v;
}

export function strList(kwargs: Kwargs, name: string): string[] {
  const v = kwargs[name];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string'))
    throw new IfEvalArgError(`kwarg '${name}' must be a non-empty list of strings, got ${describe(v)}`);
  return v as string[];
}

export function relation(kwargs: Kwargs, name: string): Relation {
  const v = kwargs[name];
  if (typeof v !== 'string' || !(RELATIONS as readonly string[]).includes(v))
    throw new IfEvalArgError(
      `kwarg '${name}' must be one of ${RELATIONS.map((r) => `'${r}'`).join(', ')}, got ${describe(v)}`,
    );
  return v as Relation;
}

export function compare(actual: number, rel: Relation, threshold: number): boolean {
  return rel === 'less than' ? actual < threshold : actual >= threshold;
}

/**
 * The instruction "count(response) is less than / at least N": N is kwarg `countArg`, the relation kwarg
 * `relationArg` (both read when the instruction is built, so a bad kwarg fails before any response is checked).
 */
export function countRelation(
  countArg: string,
  relationArg: string,
  count: (value: string) => number,
): InstructionSpec {
  return {
    args: [countArg, relationArg],
    build: (kw) => {
      const n = int(kw, countArg);
      const rel = relation(kw, relationArg);
      return (value) => compare(count(value), rel, n);
    },
  };
}
