// Resuming with an edited config: the new resolved config is compared with the one the checkpoint was trained
// with, field by field. A change that cannot apply to a run in progress (model shape, data, tokenizer, sequence
// length, batch, seed, …) is refused; one that can (learning rate and schedule, schedule length, checkpoint and
// evaluation intervals, keepLast, logging) needs --allow-config-change and is recorded in the run's history.jsonl
// (step, field, old, new), so the metrics can be read against what was in force.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

export const HISTORY_FILE = 'history.jsonl';

export interface ConfigChange {
  field: string;
  old: unknown;
  new: unknown;
}

export class ConfigChangeError extends Error {
  override name = 'ConfigChangeError';
}

/** Fields whose change a resumed run can apply, as dotted paths; `*` matches one segment, a path covers its sub-fields. */
export type FieldPatterns = readonly string[];

/** The leaf fields that differ between two JSON values (arrays of scalars compare whole). */
export function configChanges(old: unknown, next: unknown, prefix = ''): ConfigChange[] {
  const a = JSON.parse(JSON.stringify(old ?? null)) as unknown;
  const b = JSON.parse(JSON.stringify(next ?? null)) as unknown;
  return diff(a, b, prefix);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function diff(a: unknown, b: unknown, path: string): ConfigChange[] {
  const containers =
    (isObject(a) && isObject(b)) ||
    (Array.isArray(a) && Array.isArray(b) && [...a, ...b].some((x) => typeof x === 'object' && x !== null));
  if (!containers)
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ field: path || '(config)', old: a, new: b }];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  const out: ConfigChange[] = [];
  for (const k of keys)
    out.push(...diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  return out;
}

export function matchesField(field: string, patterns: FieldPatterns): boolean {
  const parts = field.split('.');
  return patterns.some((p) => {
    const ps = p.split('.');
    return ps.length <= parts.length && ps.every((s, i) => s === '*' || s === parts[i]);
  });
}

const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));

export interface ConfigChangeCheck {
  /** Where the new config comes from (the config file) and the checkpoint it is compared with. */
  source: string;
  checkpoint: string;
  changeable: FieldPatterns;
  /** Fields never compared (where the run folder is). */
  ignored: FieldPatterns;
  allow: boolean;
}

/**
 * The changes a resume applies: throws a ConfigChangeError naming every field (old → new) that cannot apply, or
 * the applicable ones when --allow-config-change was not given.
 */
export function checkConfigChanges(old: unknown, next: unknown, c: ConfigChangeCheck): ConfigChange[] {
  const changes = configChanges(old, next).filter((x) => !matchesField(x.field, c.ignored));
  const line = (x: ConfigChange) => `  ${x.field}: ${show(x.old)} → ${show(x.new)}`;
  const refused = changes.filter((x) => !matchesField(x.field, c.changeable));
  if (refused.length > 0) {
    throw new ConfigChangeError(
      `${c.source}: cannot resume ${c.checkpoint} with this config: these fields differ from the run's and cannot change in a run in progress:\n${refused.map(line).join('\n')}\nrestore them, or start a new run (another output folder, or --overwrite)`,
    );
  }
  if (changes.length > 0 && !c.allow) {
    throw new ConfigChangeError(
      `${c.source}: the config differs from the one ${c.checkpoint} was trained with:\n${changes.map(line).join('\n')}\nthese can apply from the next step: resume with --allow-config-change to apply them (recorded in ${HISTORY_FILE}), or restore them`,
    );
  }
  return changes;
}

/** Appends the applied changes to OUTPUT/history.jsonl. */
export function recordConfigChanges(outDir: string, step: number, changes: readonly ConfigChange[]): void {
  const time = new Date().toISOString();
  for (const x of changes)
    appendFileSync(
      join(outDir, HISTORY_FILE),
      `${JSON.stringify({ time, step, event: 'config-change', field: x.field, old: x.old ?? null, new: x.new ?? null })}\n`,
    );
}
