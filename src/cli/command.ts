// What every `olmo` subcommand provides, and the error type for bad command lines.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  summary: string;
  /** Full help text, printed by `olmo NAME --help`. */
  usage: string;
  /** Runs the command; returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A bad command line: printed with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** util.parseArgs (strict) with errors turned into UsageErrors that name the command. */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (err) {
    throw new UsageError(`olmo ${command}: ${(err as Error).message}`);
  }
}

/** The parseArgs option table of a command: each of `strings` takes a value, each of `flags` is a switch. */
export function optionTable<const S extends string, const F extends string = never>(
  strings: readonly S[],
  flags: readonly F[] = [],
): { [K in S]: { type: 'string' } } & { [K in F]: { type: 'boolean' } } {
  const table: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of strings) table[name] = { type: 'string' };
  for (const name of flags) table[name] = { type: 'boolean' };
  return table as { [K in S]: { type: 'string' } } & { [K in F]: { type: 'boolean' } };
}

/** Parses a numeric option, naming it when the value is not a number in range. */
export function numberOption(
  command: string,
  name: string,
  value: string | undefined,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok =
    value.trim() !== '' &&
    Number.isFinite(n) &&
    (!opts.integer || Number.isInteger(n)) &&
    (opts.min === undefined || n >= opts.min) &&
    (opts.max === undefined || n <= opts.max);
  if (!ok) {
    const range = [opts.min !== undefined ? `≥ ${opts.min}` : '', opts.max !== undefined ? `≤ ${opts.max}` : '']
      .filter(Boolean)
      .join(' and ');
    throw new UsageError(
      `olmo ${command}: --${name} must be ${opts.integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}, got '${value}'`,
    );
  }
  return n;
}
