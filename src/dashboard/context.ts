// What every route shares: the roots, the folders found under them (rescanned at most once a second, so a run that
// starts while the page is open appears on the next poll), and the translation between ids and real paths.
import { resolve } from 'node:path';
import { decodeId, encodeId, HttpError, resolveInside, type FolderRef } from './paths.ts';
import { scanRoots, type Found, type ScanLimits } from './scan.ts';

export interface DataOptions {
  /** A run counts as running when its metrics were written within this many seconds (default 60). */
  runningWindowSeconds?: number;
  scanLimits?: ScanLimits;
  /** How long a scan is reused, in milliseconds (default 1000). */
  rescanMs?: number;
}

export type FolderKind = keyof Found;

export class DashboardData {
  readonly roots: string[];
  readonly runningWindowSeconds: number;
  private cache: { at: number; found: Found } | null = null;

  constructor(
    roots: readonly string[],
    private readonly opts: DataOptions = {},
  ) {
    this.roots = roots.map((r) => resolve(r));
    this.runningWindowSeconds = opts.runningWindowSeconds ?? 60;
  }

  found(): Found {
    const now = Date.now();
    if (!this.cache || now - this.cache.at > (this.opts.rescanMs ?? 1000))
      this.cache = { at: now, found: scanRoots(this.roots, this.opts.scanLimits) };
    return this.cache.found;
  }

  id(ref: FolderRef): string {
    return encodeId(ref.root, ref.rel);
  }

  /** The folder an id names, which must be one the scan found as `kind` (404 otherwise), and its real path. */
  folder(id: string, kind: FolderKind): { ref: FolderRef; abs: string } {
    const ref = decodeId(id, this.roots.length);
    const abs = resolveInside(this.roots[ref.root], ref.rel, `id ${id}`);
    if (!this.found()[kind].some((f) => f.root === ref.root && f.rel === ref.rel))
      throw new HttpError(
        404,
        `no ${kind.replace(/s$/, '')} folder with id ${id} (${ref.rel || '.'} in root ${ref.root})`,
      );
    return { ref, abs };
  }

  /**
   * `fn` over every folder of a kind, skipping one that vanished or became unreadable since the scan (a run moved
   * aside by --overwrite, a checkpoint pruned): a list must not fail because one folder changed under it.
   */
  each<T>(kind: FolderKind, fn: (ref: FolderRef, abs: string) => T): T[] {
    const out: T[] = [];
    for (const ref of this.found()[kind]) {
      try {
        out.push(fn(ref, resolveInside(this.roots[ref.root], ref.rel, kind)));
      } catch (err) {
        if (!(err instanceof HttpError) && !isFsError(err)) throw err;
      }
    }
    return out;
  }

  /** A display name: the path relative to the root, or the root's own name. */
  name(ref: FolderRef): string {
    if (ref.rel !== '') return ref.rel;
    const root = this.roots[ref.root];
    return root.slice(root.lastIndexOf('/') + 1) || root;
  }
}

function isFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EPERM';
}
