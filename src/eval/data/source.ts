// Where datasets come from. A `DatasetSource` returns the rows of (dataset path, config, split) in file order.
// `LocalHfFolderSource` reads a folder laid out like a Hugging Face dataset repository; `HfCacheSource` reads the
// snapshot of the standard hub cache (HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub) without network.
// Downloading from the hub is not done here (a hub client may add it); the error message says how to fetch.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Row } from '../types.ts';
import { readRows } from './readers.ts';

export interface DatasetRef {
  /** HF dataset id, e.g. "allenai/ai2_arc" */
  path: string;
  /** config name, e.g. "ARC-Easy" (none for single-config datasets) */
  name?: string;
  split: string;
}

export interface LoadedSplit {
  rows: Row[];
  /** the files read, for error messages and provenance */
  files: string[];
}

export interface DatasetSource {
  describe(): string;
  load(ref: DatasetRef): Promise<LoadedSplit>;
}

export class DatasetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetNotFoundError';
  }
}

export function describeRef(ref: DatasetRef): string {
  return `${ref.path}${ref.name ? ` (config ${ref.name})` : ''} split ${ref.split}`;
}

const EXTS = ['.parquet', '.jsonl', '.json'];

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => statSync(join(dir, f)).isFile())
      .sort();
  } catch {
    return [];
  }
}

/** Data files of a split inside one dataset folder, trying the HF layouts in order; [] when none match.
 *  `list` gives a folder's file names (default: the disk; the hub source passes a repository's file list). */
export function findSplitFiles(
  root: string,
  name: string | undefined,
  split: string,
  list: (dir: string) => string[] = listFiles,
): { files: string[]; tried: string[] } {
  // A config lives in its own folder; a single-config dataset in data/, at the top, or (parquet conversions of
  // script datasets) in default/ or plain_text/.
  const dirs = name ? [join(root, name)] : [join(root, 'data'), root, join(root, 'default'), join(root, 'plain_text')];
  const tried: string[] = [];
  const isData = (f: string) => EXTS.some((e) => f.endsWith(e));
  for (const dir of dirs) {
    // <dir>/<split>-00000-of-00001.parquet, <dir>/<split>.jsonl …
    tried.push(join(dir, `${split}{-*,}.{parquet,jsonl,json}`));
    const direct = list(dir).filter((f) => isData(f) && (f.startsWith(`${split}-`) || f.startsWith(`${split}.`)));
    if (direct.length > 0) return { files: pickOneKind(direct).map((f) => join(dir, f)), tried };
    // <dir>/<split>/0000.parquet (refs/convert/parquet layout)
    tried.push(join(dir, split, '*.{parquet,jsonl,json}'));
    const nested = list(join(dir, split)).filter(isData);
    if (nested.length > 0) return { files: pickOneKind(nested).map((f) => join(dir, split, f)), tried };
  }
  return { files: [], tried };
}

/** When a split exists in several formats, read only one: Parquet, then JSONL, then JSON. */
function pickOneKind(files: string[]): string[] {
  for (const e of EXTS) {
    const of = files.filter((f) => f.endsWith(e));
    if (of.length > 0) return of;
  }
  return files;
}

async function loadFrom(root: string, ref: DatasetRef, where: string): Promise<LoadedSplit> {
  const { files, tried } = findSplitFiles(root, ref.name, ref.split);
  if (files.length === 0) {
    throw new DatasetNotFoundError(
      `dataset ${describeRef(ref)}: no data file in ${where}; looked for ${tried.join(', ')}. ` +
        `Fetch it with \`huggingface-cli download --repo-type dataset ${ref.path} --local-dir ${root}\` (or point the data root elsewhere).`,
    );
  }
  const rows: Row[] = [];
  for (const f of files) rows.push(...(await readRows(f)));
  return { rows, files };
}

/** A folder holding datasets as `<root>/<owner>/<name>/…` in the HF repository layout. */
export class LocalHfFolderSource implements DatasetSource {
  constructor(readonly root: string) {}
  describe(): string {
    return `local folder ${this.root}`;
  }
  async load(ref: DatasetRef): Promise<LoadedSplit> {
    const dir = join(this.root, ref.path);
    if (!existsSync(dir)) {
      throw new DatasetNotFoundError(
        `dataset ${describeRef(ref)}: folder ${dir} does not exist. ` +
          `Fetch it with \`huggingface-cli download --repo-type dataset ${ref.path} --local-dir ${dir}\`.`,
      );
    }
    return loadFrom(dir, ref, dir);
  }
}

export function defaultHfHubCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** The standard hub cache: `datasets--owner--name/snapshots/<commit>/…`, the commit from refs/<revision>. */
export class HfCacheSource implements DatasetSource {
  constructor(
    readonly cacheDir = defaultHfHubCache(),
    readonly revision = 'main',
  ) {}
  describe(): string {
    return `Hugging Face cache ${this.cacheDir}`;
  }
  snapshotDir(path: string): string | null {
    const repo = join(this.cacheDir, `datasets--${path.replace(/\//g, '--')}`);
    const refFile = join(repo, 'refs', this.revision);
    if (existsSync(refFile)) {
      const commit = readFileSync(refFile, 'utf8').trim();
      const dir = join(repo, 'snapshots', commit);
      if (existsSync(dir)) return dir;
    }
    const direct = join(repo, 'snapshots', this.revision);
    return existsSync(direct) ? direct : null;
  }
  async load(ref: DatasetRef): Promise<LoadedSplit> {
    const dir = this.snapshotDir(ref.path);
    if (!dir) {
      throw new DatasetNotFoundError(
        `dataset ${describeRef(ref)}: not in the hub cache ${this.cacheDir} (revision ${this.revision}). ` +
          `Fetch it with \`huggingface-cli download --repo-type dataset ${ref.path}\`.`,
      );
    }
    return loadFrom(dir, ref, dir);
  }
}

/** Tries each source in turn; the error lists why each failed. */
export class ChainSource implements DatasetSource {
  constructor(readonly sources: DatasetSource[]) {}
  describe(): string {
    return this.sources.map((s) => s.describe()).join(', then ');
  }
  async load(ref: DatasetRef): Promise<LoadedSplit> {
    const errors: string[] = [];
    for (const s of this.sources) {
      try {
        return await s.load(ref);
      } catch (e) {
        if (!(e instanceof DatasetNotFoundError)) throw e;
        errors.push(e.message);
      }
    }
    throw new DatasetNotFoundError(errors.join('\n'));
  }
}

/** Memoises splits, so a split shared by several tasks (MMLU, MC and RC) is read once. */
export class CachingSource implements DatasetSource {
  private readonly memo = new Map<string, Promise<LoadedSplit>>();
  constructor(readonly inner: DatasetSource) {}
  describe(): string {
    return this.inner.describe();
  }
  load(ref: DatasetRef): Promise<LoadedSplit> {
    const key = JSON.stringify([ref.path, ref.name ?? null, ref.split]);
    let p = this.memo.get(key);
    if (!p) {
      p = this.inner.load(ref);
      p.catch(() => this.memo.delete(key));
      this.memo.set(key, p);
    }
    return p;
  }
}
