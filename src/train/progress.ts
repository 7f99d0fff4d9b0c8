// Progress for long work: a one-line bar with rate and ETA on a terminal, plain periodic lines elsewhere (CI).

export interface ProgressOptions {
  label: string;
  total: number;
  unit: string;
  /** Plain-line interval when not on a terminal (ms). */
  plainEveryMs?: number;
  stream?: NodeJS.WriteStream;
}

export class Progress {
  private readonly start = performance.now();
  private lastPlain = 0;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
  }

  /** Reports `done` of `total` with an optional suffix (e.g. the loss). */
  update(done: number, suffix = ''): void {
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.opts.total - done) / rate : Infinity;
    const text = `${this.opts.label} ${done}/${this.opts.total} ${this.opts.unit} · ${rate.toFixed(rate < 10 ? 2 : 0)} ${this.opts.unit}/s · ETA ${formatDuration(eta)}${suffix ? ` · ${suffix}` : ''}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * done) / Math.max(this.opts.total, 1));
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      if (done >= this.opts.total) this.stream.write('\n');
    } else if (now - this.lastPlain >= (this.opts.plainEveryMs ?? 10_000) || done >= this.opts.total) {
      this.lastPlain = now;
      this.stream.write(`${text}\n`);
    }
  }

  finish(summary: string): void {
    if (this.tty) this.stream.write('\r\x1b[K');
    this.stream.write(`${summary}\n`);
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
