// metrics.jsonl as the dashboard reads it: complete lines only. A run appends one line at a time, so the last line
// of a file being written may be half there — it is left for the next read, not reported. Any other line that is
// not a JSON object is skipped and reported with its line number.
import type { MetricRow, MetricsLineProblem } from './api-types.ts';
import { isObject } from './files.ts';

export interface ParsedLines {
  rows: MetricRow[];
  problems: MetricsLineProblem[];
  /** Complete lines consumed (empty ones included, so that line numbers match the file). */
  lines: number;
  /** Bytes of `buf` consumed: up to and including the last newline. */
  bytes: number;
}

const NEWLINE = 0x0a;

/** Parses the complete lines of `buf`; `firstLine` is the 1-based number of its first line in the file. */
export function parseMetricLines(buf: Buffer, firstLine: number): ParsedLines {
  const end = buf.lastIndexOf(NEWLINE);
  const out: ParsedLines = { rows: [], problems: [], lines: 0, bytes: end + 1 };
  if (end < 0) return out;
  const lines = buf.subarray(0, end).toString('utf8').split('\n');
  out.lines = lines.length;
  lines.forEach((text, i) => {
    const line = firstLine + i;
    if (text.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      out.problems.push({ line, problem: `malformed JSON (${(err as Error).message}): ${clip(text)}` });
      return;
    }
    if (!isObject(v)) out.problems.push({ line, problem: `not a JSON object: ${clip(text)}` });
    else out.rows.push(v);
  });
  return out;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Numeric keys of the rows, in first-seen order. */
export function numericKeys(rows: readonly MetricRow[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') keys.add(k);
  return [...keys];
}

/**
 * Skips the first `lines` complete lines of `buf`: the byte offset after them, or null when the buffer holds fewer
 * (the file was rewritten shorter).
 */
export function offsetAfterLines(buf: Buffer, lines: number): number | null {
  let offset = 0;
  for (let i = 0; i < lines; i++) {
    const nl = buf.indexOf(NEWLINE, offset);
    if (nl < 0) return null;
    offset = nl + 1;
  }
  return offset;
}
