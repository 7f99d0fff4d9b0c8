// Post-training data in open-instruct's formats, read from JSONL with every bad row reported by file and line:
//   SFT          {messages: [{role, content}, …]}
//   preference   {chosen: messages, rejected: messages}  or  {prompt: string | messages, chosen: string, rejected: string}
//   RLVR         {messages, ground_truth, dataset}  (parsed by the RLVR stage with parseMessages / readJsonl)
import { readFileSync } from 'node:fs';
import type { ChatMessage } from '../../tokenizers/index.ts';

/** A bad row (or line) of a data file. */
export interface RowProblem {
  file: string;
  /** 1-based line number. */
  line: number;
  message: string;
}

export function formatProblem(p: RowProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

/** Bad rows of a data file; the message lists them (the first `shown`) as file:line: what is wrong. */
export class DataRowError extends Error {
  override name = 'DataRowError';
  constructor(
    readonly problems: RowProblem[],
    shown = 20,
  ) {
    const head = problems.slice(0, shown).map(formatProblem);
    const more = problems.length > shown ? [`… and ${problems.length - shown} more bad rows`] : [];
    super(`${problems.length} bad data row${problems.length === 1 ? '' : 's'}:\n${[...head, ...more].join('\n')}`);
  }
}

/** A row's parse error; thrown by row parsers and turned into a RowProblem with the row's file and line. */
export class RowError extends Error {
  override name = 'RowError';
}

export interface JsonlRow<T> {
  value: T;
  file: string;
  line: number;
}

export interface ReadRowsResult<T> {
  rows: JsonlRow<T>[];
  problems: RowProblem[];
}

/**
 * Reads a JSONL file and parses each non-blank line with `parse` (which throws RowError, or any error, for a bad
 * row). Returns the good rows and a problem per bad line; it never throws for bad rows, only for an unreadable file.
 */
export function readJsonl<T>(file: string, parse: (value: unknown) => T): ReadRowsResult<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const rows: JsonlRow<T>[] = [];
  const problems: RowProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      problems.push({ file, line: i + 1, message: `not valid JSON (${(err as Error).message})` });
      continue;
    }
    try {
      rows.push({ value: parse(json), file, line: i + 1 });
    } catch (err) {
      problems.push({ file, line: i + 1, message: (err as Error).message });
    }
  }
  return { rows, problems };
}

/** What to do with bad rows: stop before any work ('error', the default) or skip them ('skip'); both report them. */
export type BadRowPolicy = 'error' | 'skip';

/** readJsonl, then either throws a DataRowError listing the bad rows or reports them through `warn` and keeps the good ones. */
export function loadRows<T>(
  file: string,
  parse: (value: unknown) => T,
  policy: BadRowPolicy = 'error',
  warn: (line: string) => void = () => {},
): ReadRowsResult<T> {
  const r = readJsonl(file, parse);
  if (r.problems.length > 0) {
    if (policy === 'error') throw new DataRowError(r.problems);
    warn(`skipping ${r.problems.length} bad row${r.problems.length === 1 ? '' : 's'} of ${file}:`);
    for (const p of r.problems.slice(0, 20)) warn(`  ${formatProblem(p)}`);
    if (r.problems.length > 20) warn(`  … and ${r.problems.length - 20} more`);
  }
  if (r.rows.length === 0) throw new Error(`${file}: no usable rows`);
  return r;
}

const ROLES = new Set(['system', 'user', 'assistant']);

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Checks a list of {role, content} messages (roles system / user / assistant, string content). */
export function parseMessages(value: unknown, field = 'messages'): ChatMessage[] {
  if (!Array.isArray(value))
    throw new RowError(`${field}: expected a list of {role, content} messages, got ${describe(value)}`);
  if (value.length === 0) throw new RowError(`${field}: the conversation is empty`);
  return value.map((m, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m))
      throw new RowError(`${field}[${i}]: expected {role, content}, got ${describe(m)}`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role))
      throw new RowError(`${field}[${i}].role: expected "system", "user" or "assistant", got ${describe(role)}`);
    if (typeof content !== 'string')
      throw new RowError(`${field}[${i}].content: expected a string, got ${describe(content)}`);
    return { role, content };
  });
}

function objectRow(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RowError(`expected a JSON object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function rowId(row: Record<string, unknown>): string | undefined {
  return typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : undefined;
}

export interface SftExample {
  id?: string;
  messages: ChatMessage[];
}

/** An SFT row: `messages` with at least one assistant turn (the tokens trained on). */
export function parseSftRow(value: unknown): SftExample {
  const row = objectRow(value);
  if (!('messages' in row))
    throw new RowError(
      `no "messages" field (SFT rows are {"messages": [{"role", "content"}, …]}; fields: ${Object.keys(row).join(', ') || 'none'})`,
    );
  const messages = parseMessages(row.messages);
  if (!messages.some((m) => m.role === 'assistant'))
    throw new RowError('messages: no assistant turn, so nothing to train on');
  return { id: rowId(row), messages };
}

export interface PreferencePair {
  id?: string;
  /** Full conversations ending with the chosen / rejected assistant reply. */
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

/**
 * A preference row: `chosen` and `rejected` message lists (open-instruct's preference mixtures), or `prompt`
 * (a string or a message list) with `chosen` and `rejected` reply strings.
 */
export function parsePreferenceRow(value: unknown): PreferencePair {
  const row = objectRow(value);
  for (const k of ['chosen', 'rejected']) {
    if (!(k in row))
      throw new RowError(
        `no "${k}" field (preference rows have "chosen" and "rejected" message lists, or a "prompt" with "chosen"/"rejected" strings)`,
      );
  }
  const side = (k: 'chosen' | 'rejected'): ChatMessage[] => {
    const v = row[k];
    if (typeof v === 'string') {
      if (row.prompt === undefined) throw new RowError(`${k}: a reply string needs a "prompt" field`);
      const prompt =
        typeof row.prompt === 'string' ? [{ role: 'user', content: row.prompt }] : parseMessages(row.prompt, 'prompt');
      return [...prompt, { role: 'assistant', content: v }];
    }
    const messages = parseMessages(v, k);
    if (messages[messages.length - 1].role !== 'assistant')
      throw new RowError(
        `${k}: the last message must be the assistant reply, got role "${messages[messages.length - 1].role}"`,
      );
    return messages;
  };
  return { id: rowId(row), chosen: side('chosen'), rejected: side('rejected') };
}
