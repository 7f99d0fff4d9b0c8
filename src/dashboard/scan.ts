// Finding what the roots hold: training runs, oe-eval output folders, model checkpoints and quickstart folders, by
// the files each writer leaves (see the writers: src/train/run-folder.ts and metrics-log.ts, src/eval/runner/
// outputs.ts, src/models/checkpoint.ts, src/quickstart/write-report.ts). Symbolic links are not followed, hidden
// folders and node_modules are skipped, and the walk stops at a depth and a folder count so that pointing the
// dashboard at a home directory stays quick.
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { joinRel, type FolderRef } from './paths.ts';

export interface Found {
  runs: FolderRef[];
  evals: FolderRef[];
  models: FolderRef[];
  quickstarts: FolderRef[];
}

export interface ScanLimits {
  /** Folder levels below a root (default 8: a quickstart's checkpoints/step-N/model sits at 4). */
  maxDepth?: number;
  /** Folders visited over all roots (default 20,000). */
  maxFolders?: number;
}

const SKIP = new Set(['node_modules', '__pycache__']);
/** Files that make a folder a training run: metrics, the resolved config, distillation's rounds. */
const RUN_FILES = ['metrics.jsonl', 'config.resolved.json', 'rounds.jsonl'];

function isModelFolder(files: Set<string>): boolean {
  if (!files.has('config.json')) return false;
  for (const f of files) if (f.endsWith('.safetensors') || f === 'model.safetensors.index.json') return true;
  return false;
}

function readDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // unreadable (permissions) or removed while walking: nothing to show
  }
}

export function scanRoots(roots: readonly string[], limits: ScanLimits = {}): Found {
  const found: Found = { runs: [], evals: [], models: [], quickstarts: [] };
  const maxDepth = limits.maxDepth ?? 8;
  let budget = limits.maxFolders ?? 20_000;
  const visit = (root: number, dir: string, rel: string, depth: number): void => {
    if (budget-- <= 0) return;
    const entries = readDir(dir);
    const files = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    const ref = { root, rel };
    if (files.has('report.html')) found.quickstarts.push(ref);
    if (files.has('metrics.json')) {
      found.evals.push(ref);
      return; // an eval folder holds only its own files
    }
    if (isModelFolder(files)) {
      found.models.push(ref);
      return;
    }
    if (RUN_FILES.some((f) => files.has(f)) || dirs.includes('checkpoints')) found.runs.push(ref);
    if (depth >= maxDepth) return;
    for (const name of dirs.sort()) {
      if (name.startsWith('.') || SKIP.has(name)) continue;
      visit(root, join(dir, name), joinRel(rel, name), depth + 1);
    }
  };
  roots.forEach((r, i) => {
    if (isDirectory(r)) visit(i, r, '', 0);
  });
  return found;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The nearest quickstart folder containing `rel` (itself included), or null. */
export function enclosing(refs: readonly FolderRef[], target: FolderRef): FolderRef | null {
  let best: FolderRef | null = null;
  for (const q of refs) {
    if (q.root !== target.root) continue;
    const inside = q.rel === '' || target.rel === q.rel || target.rel.startsWith(`${q.rel}/`);
    if (inside && (!best || q.rel.length > best.rel.length)) best = q;
  }
  return best;
}
