// Datasets from the Hugging Face hub, when online: the data files of the requested (config, split) are downloaded
// into the standard hub cache (src/io/hub.ts) and read from there by `HfCacheSource`, so a second run, another
// process or a Python tool finds them without the network. Put it last in a `ChainSource`, after the local folders
// and the cache. Under HF_HUB_OFFLINE=1 it never contacts the hub and says so in its error.
//
// Which files: the ones `findSplitFiles` would pick in a local copy of the repository (`<config>/<split>-*.parquet`,
// `data/<split>-*.parquet`, `<split>.jsonl`, …), chosen from the revision's file list. A script-based dataset with
// no data files on `main` falls back to the hub's Parquet conversion, the `refs/convert/parquet` branch
// (`<config or default>/<split>/0000.parquet`), as the datasets library does.
import {
  HubError,
  cachedSnapshotDir,
  downloadFiles,
  hubCacheDir,
  hubEndpoint,
  hubOfflineVariable,
  resolveRevision,
  type HubOptions,
  type HubProgress,
  type RepoFile,
  type RepoRevision,
} from '../../io/hub.ts';
import {
  DatasetNotFoundError,
  HfCacheSource,
  describeRef,
  findSplitFiles,
  type DatasetRef,
  type DatasetSource,
  type LoadedSplit,
} from './source.ts';

/** The branch holding the hub's Parquet conversion of every dataset. */
export const PARQUET_CONVERSION_REVISION = 'refs/convert/parquet';

export interface HubDatasetSourceOptions extends Omit<HubOptions, 'type' | 'onProgress'> {
  /** also try the hub's Parquet conversion when `main` has no data file for a split (default true) */
  parquetConversion?: boolean;
  /** one line per downloaded file, e.g. to stderr */
  log?: (line: string) => void;
  onProgress?: (p: HubProgress) => void;
}

/** Data files of (config, split) among a revision's files, as `findSplitFiles` would pick them on disk. */
export function pickSplitFiles(
  files: RepoFile[],
  name: string | undefined,
  split: string,
): { files: RepoFile[]; tried: string[] } {
  const byDir = new Map<string, string[]>();
  for (const f of files) {
    const slash = f.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : f.path.slice(0, slash);
    const list = byDir.get(dir) ?? [];
    list.push(f.path.slice(slash + 1));
    byDir.set(dir, list);
  }
  const norm = (p: string) => (p === '.' ? '' : p.replace(/\\/g, '/'));
  const found = findSplitFiles('', name, split, (dir) => [...(byDir.get(norm(dir)) ?? [])].sort());
  const byPath = new Map(files.map((f) => [f.path, f]));
  return {
    files: found.files.map((p) => byPath.get(norm(p))!).filter((f) => f !== undefined),
    tried: found.tried.map(norm),
  };
}

export class HubDatasetSource implements DatasetSource {
  readonly cacheDir: string;
  readonly endpoint: string;
  readonly revision: string;
  private readonly revisions = new Map<string, Promise<RepoRevision>>();

  constructor(readonly options: HubDatasetSourceOptions = {}) {
    const env = options.env ?? process.env;
    this.cacheDir = options.cacheDir ?? hubCacheDir(env);
    this.endpoint = options.endpoint ?? hubEndpoint(env);
    this.revision = options.revision ?? 'main';
  }

  /** The variable that turns offline mode on, or null when online. */
  offline(): string | null {
    if (this.options.offline !== undefined) return this.options.offline ? 'the offline option' : null;
    return hubOfflineVariable('dataset', this.options.env ?? process.env);
  }

  describe(): string {
    const off = this.offline();
    return off
      ? `Hugging Face hub (not used: offline mode is on, ${off})`
      : `Hugging Face hub ${this.endpoint} (downloads into ${this.cacheDir})`;
  }

  private revisionsToTry(): string[] {
    return this.revision === 'main' && this.options.parquetConversion !== false
      ? ['main', PARQUET_CONVERSION_REVISION]
      : [this.revision];
  }

  private hubOptions(revision: string): HubOptions {
    const { parquetConversion: _p, log: _l, ...rest } = this.options;
    return { ...rest, type: 'dataset', revision, cacheDir: this.cacheDir, endpoint: this.endpoint };
  }

  /** The revision's commit and file list, asked once per repository and revision. */
  private resolve(path: string, revision: string): Promise<RepoRevision> {
    const key = `${path}@${revision}`;
    let p = this.revisions.get(key);
    if (!p) {
      p = resolveRevision(path, this.hubOptions(revision));
      p.catch(() => this.revisions.delete(key));
      this.revisions.set(key, p);
    }
    return p;
  }

  async load(ref: DatasetRef): Promise<LoadedSplit> {
    const fail = (why: string) => new DatasetNotFoundError(`dataset ${describeRef(ref)}: ${why}`);
    if (!/^[\w.-]+\/[\w.-]+$/.test(ref.path)) {
      throw fail(
        `not fetched from the Hugging Face hub: ${JSON.stringify(ref.path)} is not a hub dataset id (owner/name)`,
      );
    }
    // Already downloaded (perhaps from the Parquet conversion, which the plain cache source does not look at).
    for (const revision of this.revisionsToTry()) {
      const dir = cachedSnapshotDir(ref.path, { type: 'dataset', cacheDir: this.cacheDir, revision });
      if (dir && findSplitFiles(dir, ref.name, ref.split).files.length > 0)
        return new HfCacheSource(this.cacheDir, revision).load(ref);
    }
    const off = this.offline();
    if (off) {
      throw fail(
        `not downloaded from the Hugging Face hub because offline mode is on (${off === 'the offline option' ? off : `${off}=1`}). ` +
          `Unset ${off} to download it into ${this.cacheDir}, or fetch it with \`huggingface-cli download --repo-type dataset ${ref.path}\`.`,
      );
    }
    const tried: string[] = [];
    for (const revision of this.revisionsToTry()) {
      let rev: RepoRevision;
      try {
        rev = await this.resolve(ref.path, revision);
      } catch (e) {
        if (revision !== this.revision && e instanceof HubError) {
          tried.push(`${revision}: ${e.message}`);
          continue;
        }
        throw e instanceof HubError ? fail(e.message) : e;
      }
      const picked = pickSplitFiles(rev.files, ref.name, ref.split);
      if (picked.files.length === 0) {
        tried.push(`${revision} (commit ${rev.sha}, ${rev.files.length} files) has none of ${picked.tried.join(', ')}`);
        continue;
      }
      const log = this.options.log;
      log?.(
        `downloading ${describeRef(ref)} from ${this.endpoint} (${ref.path}@${revision}: ${picked.files.map((f) => f.path).join(', ')}) into ${this.cacheDir}`,
      );
      try {
        await downloadFiles(rev, picked.files, this.hubOptions(revision));
      } catch (e) {
        throw e instanceof HubError ? fail(e.message) : e;
      }
      return new HfCacheSource(this.cacheDir, revision).load(ref);
    }
    throw fail(`the hub repository ${ref.path} has no data file for it: ${tried.join('; ')}`);
  }
}
