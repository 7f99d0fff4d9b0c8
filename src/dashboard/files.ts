// Reading the files the dashboard shows, never failing on a bad one: a missing, unreadable or malformed file comes
// back as a Problem naming it, so that one broken run folder is shown as broken instead of breaking the page.
import { readFileSync, statSync } from 'node:fs';
import type { JsonValue, Problem } from './api-types.ts';

export type Read<T> = { value: T; problem: null } | { value: null; problem: Problem };

/** Parses a JSON file; `shown` is the path the problem names (relative to the root). */
export function readJson(abs: string, shown: string): Read<JsonValue> {
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    return { value: null, problem: { file: shown, message: `cannot be read: ${(err as Error).message}` } };
  }
  try {
    return { value: JSON.parse(text) as JsonValue, problem: null };
  } catch (err) {
    return { value: null, problem: { file: shown, message: `malformed JSON: ${(err as Error).message}` } };
  }
}

/** A JSON file that must hold an object. */
export function readJsonObject(abs: string, shown: string): Read<{ [key: string]: JsonValue }> {
  const r = readJson(abs, shown);
  if (r.problem) return r;
  if (r.value === null || typeof r.value !== 'object' || Array.isArray(r.value))
    return { value: null, problem: { file: shown, message: `expected a JSON object, found ${describe(r.value)}` } };
  return { value: r.value, problem: null };
}

function describe(v: JsonValue): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

export function isObject(v: unknown): v is { [key: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** Modification time as ISO 8601, null when the file is gone. */
export function modifiedIso(abs: string): string | null {
  const ms = mtimeMs(abs);
  return ms === null ? null : new Date(ms).toISOString();
}

export function mtimeMs(abs: string): number | null {
  try {
    return statSync(abs).mtimeMs;
  } catch {
    return null;
  }
}
