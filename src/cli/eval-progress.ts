// Progress of `olmo eval`: a bar with rate and ETA redrawn in place on a terminal, plain lines every few seconds
// (and at each phase's end) otherwise.
import type { EvalProgress } from '../index.ts';

export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class EvalProgressPrinter {
  private phaseStart = 0;
  private lastLine = 0;
  private phase: EvalProgress['phase'] | null = null;
  private drawn = false;

  constructor(
    private readonly out: ProgressSink,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(p: EvalProgress): void {
    const t = this.now();
    if (p.phase !== this.phase) {
      this.endLine();
      this.phase = p.phase;
      this.phaseStart = t;
      this.lastLine = t;
    }
    if (p.phase === 'build') {
      if (p.task !== undefined)
        this.line(`building requests: task ${p.done + 1}/${p.total} ${p.task}`, t, p.done === 0);
      return;
    }
    if (p.phase === 'write') {
      if (p.done === p.total) this.line(`wrote outputs for ${p.total} tasks`, t, true);
      return;
    }
    const elapsed = (t - this.phaseStart) / 1000;
    const rate = elapsed > 0 ? p.done / elapsed : 0;
    const eta = rate > 0 ? (p.total - p.done) / rate : NaN;
    const pct = p.total > 0 ? (100 * p.done) / p.total : 100;
    const stats = `${p.done}/${p.total} requests ${pct.toFixed(0)}% ${rate.toFixed(1)} req/s ETA ${clock(eta)} elapsed ${clock(elapsed)}`;
    if (this.out.isTTY) {
      const width = 30;
      const fill = p.total > 0 ? Math.round((width * p.done) / p.total) : width;
      this.out.write(
        `\r\x1b[2K[${'='.repeat(fill)}${fill < width ? '>' : ''}${' '.repeat(Math.max(0, width - fill - 1))}] ${stats}`,
      );
      this.drawn = true;
      if (p.done === p.total) this.endLine();
    } else if (p.done === p.total || p.done === 0 || t - this.lastLine >= this.intervalMs) {
      this.out.write(`model: ${stats}\n`);
      this.lastLine = t;
    }
  }

  private line(s: string, t: number, force: boolean): void {
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${s}`);
      this.drawn = true;
    } else if (force || t - this.lastLine >= this.intervalMs) {
      this.out.write(`${s}\n`);
      this.lastLine = t;
    }
  }

  /** Ends a redrawn line (call before printing anything else). */
  endLine(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
