// Following a run's metrics.jsonl as it grows, for the live view: fs.watch on the folder wakes it at once, and a
// poll catches what the watch misses (network file systems, editors that replace files, platforms without inotify).
// Only complete lines are sent. A resumed run rewrites the file (a temporary file renamed over it, see
// src/train/metrics-log.ts): a new inode, a shorter file or a removed one is sent as a reset with the whole content.
import { closeSync, fstatSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { MetricRow, MetricsAppendEvent, MetricsResetEvent } from './api-types.ts';
import { offsetAfterLines, parseMetricLines } from './metrics-lines.ts';

export type FollowEvent = { event: 'rows'; data: MetricsAppendEvent } | { event: 'reset'; data: MetricsResetEvent };

export interface FollowOptions {
  /** Complete lines the client already has (null: start at the end of the file as it is now). */
  fromLines: number | null;
  /** Poll period in milliseconds (default 500). */
  pollMs?: number;
  /** Completes the rows before they are sent (distillation's rounds get a step). */
  fixRows?: (rows: MetricRow[]) => void;
}

function readRange(file: string, start: number): { buf: Buffer; ino: number } | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    const n = Math.max(0, st.size - start);
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, buf, got, n - got, start + got);
      if (r === 0) break;
      got += r;
    }
    return { buf: buf.subarray(0, got), ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

export class MetricsFollower {
  private offset = 0;
  private lines = 0;
  private ino: number | null = null;
  private removed = false;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly emit: (e: FollowEvent) => void,
    private readonly opts: FollowOptions,
  ) {}

  start(): void {
    const all = readRange(this.file, 0);
    if (!all) {
      this.removed = this.opts.fromLines !== null && this.opts.fromLines > 0;
      if (this.removed) this.emit({ event: 'reset', data: { reason: 'removed', rows: [], problems: [], lines: 0 } });
    } else if (this.opts.fromLines === null) {
      const p = parseMetricLines(all.buf, 1);
      this.advance(p.bytes, p.lines, all.ino);
    } else {
      const skip = offsetAfterLines(all.buf, this.opts.fromLines);
      if (skip === null) this.reset('truncated', all.buf, all.ino);
      else {
        this.advance(skip, this.opts.fromLines, all.ino);
        this.appendFrom(all.buf.subarray(skip));
      }
    }
    try {
      this.watcher = watch(dirname(this.file), (_type, name) => {
        if (name === null || name === basename(this.file)) this.check();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = null; // the poll below still runs
    }
    this.timer = setInterval(() => this.check(), this.opts.pollMs ?? 500);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
  }

  /** Sends what changed since the last look. */
  check(): void {
    if (this.closed) return;
    let st: { size: number; ino: number };
    try {
      st = statSync(this.file);
    } catch {
      if (!this.removed) {
        this.removed = true;
        this.advance(0, 0, null);
        this.emit({ event: 'reset', data: { reason: 'removed', rows: [], problems: [], lines: 0 } });
      }
      return;
    }
    this.removed = false;
    if (this.ino !== null && st.ino !== this.ino) return this.rereadAll('replaced');
    if (st.size < this.offset) return this.rereadAll('truncated');
    if (st.size === this.offset) return;
    const got = readRange(this.file, this.offset);
    if (got) this.appendFrom(got.buf);
  }

  private appendFrom(buf: Buffer): void {
    const p = parseMetricLines(buf, this.lines + 1);
    if (p.lines === 0) return;
    this.opts.fixRows?.(p.rows);
    this.advance(this.offset + p.bytes, this.lines + p.lines, this.ino);
    this.emit({ event: 'rows', data: { rows: p.rows, problems: p.problems, lines: this.lines } });
  }

  private rereadAll(reason: 'replaced' | 'truncated'): void {
    const all = readRange(this.file, 0);
    if (all) this.reset(reason, all.buf, all.ino);
  }

  private reset(reason: 'replaced' | 'truncated', buf: Buffer, ino: number): void {
    const p = parseMetricLines(buf, 1);
    this.opts.fixRows?.(p.rows);
    this.advance(p.bytes, p.lines, ino);
    this.emit({ event: 'reset', data: { reason, rows: p.rows, problems: p.problems, lines: p.lines } });
  }

  private advance(offset: number, lines: number, ino: number | null): void {
    this.offset = offset;
    this.lines = lines;
    this.ino = ino;
  }
}
