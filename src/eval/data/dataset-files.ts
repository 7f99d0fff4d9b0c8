// Dataset access beyond split rows, for benchmarks whose data are files in a dataset repository (TSV, PDDL
// folders, CSV): the folders a source would read a dataset from, the first of several candidate files, an
// in-memory source (tests; the second stage of a two-stage evaluation) and row locators for error messages.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CachingSource,
  ChainSource,
  DatasetNotFoundError,
  HfCacheSource,
  LocalHfFolderSource,
  type DatasetRef,
  type DatasetSource,
  type LoadedSplit,
} from './source.ts';
import type { Row } from '../types.ts';

/** Folders that may hold dataset `path` for this source: `<root>/<path>` of local folders, the hub-cache snapshot. */
export function datasetFolders(source: DatasetSource, path: string): string[] {
  const out: string[] = [];
  const visit = (s: DatasetSource): void => {
    if (s instanceof CachingSource) visit(s.inner);
    else if (s instanceof ChainSource) s.sources.forEach(visit);
    else if (s instanceof LocalHfFolderSource) out.push(join(s.root, path));
    else if (s instanceof HfCacheSource) {
      const d = s.snapshotDir(path);
      if (d) out.push(d);
    } else {
      const f = (s as { datasetFolder?: (p: string) => string | null }).datasetFolder?.(path);
      if (f) out.push(f);
    }
  };
  visit(source);
  return out;
}

/** The first existing file among `names` in the dataset's folders, or null; `tried` lists what was looked at. */
export function findDatasetFile(
  source: DatasetSource,
  path: string,
  names: readonly string[],
): { file: string | null; tried: string[] } {
  const tried: string[] = [];
  for (const dir of datasetFolders(source, path)) {
    for (const n of names) {
      const f = join(dir, n);
      tried.push(f);
      if (existsSync(f)) return { file: f, tried };
    }
  }
  return { file: null, tried };
}

/** Rows held in memory, served as a dataset (tests; the second stage of a two-stage evaluation). */
export class RowsSource implements DatasetSource {
  constructor(
    readonly splits: Record<string, Row[]>,
    readonly label = 'in-memory rows',
  ) {}
  describe(): string {
    return this.label;
  }
  async load(ref: DatasetRef): Promise<LoadedSplit> {
    const key = `${ref.path}${ref.name ? `/${ref.name}` : ''}:${ref.split}`;
    const rows = this.splits[key];
    if (!rows)
      throw new DatasetNotFoundError(
        `${this.label}: no split ${key}; have ${Object.keys(this.splits).join(', ') || 'none'}`,
      );
    return { rows, files: [`<${this.label}: ${key}>`] };
  }
}

/** `file:line` (JSONL, one file) or `files row i` for error messages about a loaded row. */
export function rowLocator(split: LoadedSplit): (i: number) => string {
  if (split.files.length === 1 && split.files[0].endsWith('.jsonl') && existsSync(split.files[0])) {
    const f = split.files[0];
    let lines: number[] | null = null;
    return (i) => {
      if (!lines) {
        lines = [];
        const text = readFileSync(f, 'utf8');
        text.split('\n').forEach((l, n) => {
          if (l.trim() !== '') lines!.push(n + 1);
        });
      }
      return `${f}:${lines[i] ?? `row ${i}`}`;
    };
  }
  return (i) => `${split.files.join(', ')} row ${i}`;
}
