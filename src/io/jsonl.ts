// Strict JSONL reading for files this package wrote itself (metrics, eval records): every non-blank line must be
// JSON, and a line that is not names its file and line. Data files from users go through the row readers that
// report and skip bad rows instead (posttrain/common readJsonl, eval/data readers).
import { readFileSync } from 'node:fs';

/** The JSON value of each non-blank line; `prefix` starts the error message of a malformed line. */
export function readJsonLines<T = unknown>(path: string, prefix = ''): T[] {
  const out: T[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        out.push(JSON.parse(line) as T);
      } catch (e) {
        throw new Error(`${prefix}${path}:${i + 1}: malformed JSON (${(e as Error).message})`, { cause: e });
      }
    });
  return out;
}
