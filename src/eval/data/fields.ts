// Typed access to dataset row fields with errors that name the dataset, split, row and field.
import type { Row } from '../types.ts';

export class RowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RowError';
  }
}

/** Where a row comes from, e.g. "allenai/ai2_arc (config ARC-Easy) split test row 17". */
export type RowWhere = string;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (field missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

function get(row: Row, path: string): unknown {
  let v: unknown = row;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function fieldStr(row: Row, path: string, where: RowWhere): string {
  const v = get(row, path);
  if (typeof v !== 'string') throw new RowError(`${where}: field "${path}" must be a string, got ${describe(v)}`);
  return v;
}

export function fieldStrList(row: Row, path: string, where: RowWhere, minLength = 1): string[] {
  const v = get(row, path);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new RowError(`${where}: field "${path}" must be a list of strings, got ${describe(v)}`);
  }
  if (v.length < minLength)
    throw new RowError(`${where}: field "${path}" has ${v.length} entries, need at least ${minLength}`);
  return v as string[];
}

/** Python int(x) for an int field or a digit string (labels are stored either way across exports). */
export function fieldInt(row: Row, path: string, where: RowWhere): number {
  const v = get(row, path);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return parseInt(v, 10);
  throw new RowError(`${where}: field "${path}" must be an integer (or a digit string), got ${describe(v)}`);
}

/** A field value usable as a native id (string or number), or null when absent. */
export function fieldId(row: Row, path: string): string | number | null {
  const v = get(row, path);
  return typeof v === 'string' || typeof v === 'number' ? v : null;
}

export function checkIndex(i: number, n: number, where: RowWhere, what: string): number {
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new RowError(`${where}: ${what} ${i} is out of range for ${n} choices`);
  return i;
}
