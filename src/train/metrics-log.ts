// metrics.jsonl: one JSON object per line, appended as a run goes. A resumed run first drops the lines after its
// checkpoint's step — rewritten into a temporary file renamed over the old one, so a kill during the rewrite
// leaves either the old history or the new one, never an empty or half-written file.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomically } from '../io/atomic.ts';

export const METRICS_FILE = 'metrics.jsonl';

export class MetricsLog {
  /** null: a run that writes no files. */
  readonly path: string | null;

  constructor(outDir: string | null) {
    this.path = outDir === null ? null : join(outDir, METRICS_FILE);
  }

  /** Starts an empty history. */
  reset(): void {
    if (this.path) writeTextAtomically(this.path, '');
  }

  /** Keeps only the lines of steps up to `step` (a resumed run rewrites what came after). */
  truncateAfter(step: number): void {
    if (!this.path || !existsSync(this.path)) return this.reset();
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => {
        if (!l.trim()) return false;
        try {
          return (JSON.parse(l) as { step: number }).step <= step;
        } catch {
          return false;
        }
      });
    writeTextAtomically(this.path, kept.map((l) => `${l}\n`).join(''));
  }

  write(record: object): void {
    if (this.path) appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}
