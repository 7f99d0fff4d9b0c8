// Model references: a local checkpoint folder, or a hub id `owner/name[@revision]` resolved to a snapshot folder of
// the standard Hugging Face cache (downloaded when online, read from the cache when offline). Only what a model
// needs is fetched: config.json, generation_config.json, the tokenizer files and the safetensors weights (the index
// and its shards, one shard at a time); never .bin, .pth, ONNX or subfolders.
//
//   const dir = await resolveModelRef('allenai/OLMo-2-0425-1B@main');   // → ~/.cache/huggingface/hub/models--…/snapshots/<sha>
//   const dir = await resolveModelRef('./runs/sft/final');                // → the folder itself
//
// A reference that names an existing folder is that folder, one that names an existing .gguf file is that file
// (a GGUF model, models/gguf-load.ts); otherwise one that has the shape owner/name[@revision]
// is a hub id. Settings (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HOME, HF_HUB_OFFLINE) are read as `hub.ts` reads them.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  HubAuthError,
  HubChecksumError,
  HubError,
  HubHttpError,
  HubNotFoundError,
  HubOfflineError,
  TOKEN_HINT,
  cachedSnapshotDir,
  downloadFiles,
  hubCacheDir,
  hubEndpoint,
  hubOfflineVariable,
  hubToken,
  repoCacheDir,
  resolveRevision,
  type HubOptions,
  type HubProgress,
  type RepoFile,
  type RepoRevision,
} from './hub.ts';
import { SAFETENSORS_INDEX_NAME, SAFETENSORS_WEIGHTS_NAME } from './safetensors-sharded.ts';

export type ModelRef =
  { kind: 'folder'; path: string } | { kind: 'gguf'; path: string } | { kind: 'hub'; repo: string; revision: string };

/** A GGUF model file (llama.cpp's format) is named by its extension. */
const GGUF_FILE = /\.gguf$/i;

/** What went wrong, for callers that answer differently (a usage error for `malformed` and `not-found`). */
export type ModelRefProblem = 'malformed' | 'not-found' | 'auth' | 'offline' | 'incomplete' | 'checksum' | 'network';

export class ModelRefError extends Error {
  constructor(
    message: string,
    readonly problem: ModelRefProblem,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelRefError';
  }
}

/** The non-weight files a model folder may need: its configs and every tokenizer format transformers reads. */
export const MODEL_METADATA_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'vocab.json',
  'merges.txt',
  'tokenizer.model',
  'chat_template.jinja',
  'chat_template.json',
  SAFETENSORS_INDEX_NAME,
];

const NAME_PART = /^[A-Za-z0-9][\w.-]*$/;
const REVISION = /^[\w.-]+(\/[\w.-]+)*$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** A string that a hub id could be: not a path (no leading '.', '/', '~', no '\'), with an '/' in it. */
function pathLike(ref: string): boolean {
  return ref.startsWith('.') || ref.startsWith('~') || isAbsolute(ref) || ref.includes('\\') || !ref.includes('/');
}

/** Why `ref` is not a well-formed hub id, or null when it is one. */
function hubIdProblem(ref: string): string | null {
  const at = ref.indexOf('@');
  const id = at < 0 ? ref : ref.slice(0, at);
  const revision = at < 0 ? null : ref.slice(at + 1);
  const parts = id.split('/');
  if (parts.length !== 2) return `a hub id has exactly one '/' (owner/name), this one has ${parts.length - 1}`;
  const [owner, name] = parts;
  if (owner === '') return 'the owner (before the /) is empty';
  if (name === '') return 'the name (after the /) is empty';
  for (const [what, v] of [
    ['owner', owner],
    ['name', name],
  ] as const) {
    if (!NAME_PART.test(v) || v.includes('--') || v.includes('..') || v.length > 96) {
      return `the ${what} '${v}' may hold only letters, digits, '-', '_' and '.' (not '--' or '..'), starting with a letter or digit`;
    }
  }
  if (revision !== null && revision === '') return "the revision after '@' is empty";
  if (revision !== null && (!REVISION.test(revision) || revision.includes('..')))
    return `the revision '${revision}' is not a branch, tag or commit name`;
  return null;
}

/** True when `ref` has the shape of a hub id (whether or not a folder of that name exists). */
export function looksLikeHubId(ref: string): boolean {
  return !pathLike(ref) && hubIdProblem(ref) === null;
}

/** Reads a reference: an existing folder (relative to `cwd`), else a hub id; a malformed one is a ModelRefError. */
export function parseModelRef(ref: string, cwd = process.cwd()): ModelRef {
  if (ref.trim() === '')
    throw new ModelRefError(
      'the model reference is empty: give a checkpoint folder or a hub id owner/name[@revision]',
      'malformed',
    );
  const local = resolve(cwd, ref);
  if (existsSync(local)) {
    const isDir = statSync(local).isDirectory();
    if (!isDir && GGUF_FILE.test(local)) return { kind: 'gguf', path: local };
    if (!isDir)
      throw new ModelRefError(
        `model ${ref}: ${local} is a file; a model is a checkpoint folder (config.json + safetensors), a .gguf file or a hub id owner/name[@revision]`,
        'malformed',
      );
    return { kind: 'folder', path: local };
  }
  if (GGUF_FILE.test(ref)) throw new ModelRefError(`GGUF model file ${local} does not exist`, 'not-found');
  if (pathLike(ref)) {
    throw new ModelRefError(
      `model folder ${local} does not exist` +
        (ref.includes('/') ? '' : ` (a hub id is owner/name[@revision], e.g. allenai/OLMo-2-0425-1B, not '${ref}')`),
      ref.includes('/') ? 'not-found' : 'malformed',
    );
  }
  const problem = hubIdProblem(ref);
  if (problem)
    throw new ModelRefError(
      `model '${ref}' is neither a folder (${local} does not exist) nor a hub id: ${problem}`,
      'malformed',
    );
  const at = ref.indexOf('@');
  return at < 0
    ? { kind: 'hub', repo: ref, revision: 'main' }
    : { kind: 'hub', repo: ref.slice(0, at), revision: ref.slice(at + 1) };
}

/**
 * A model field of a config file: a path relative to `baseDir`, unless it names no folder there and has the
 * shape of a hub id, which is kept as written for `resolveModelRef`.
 */
export function modelPathOrHubId(baseDir: string, ref: string): string;
export function modelPathOrHubId(baseDir: string, ref: string | undefined): string | undefined;
export function modelPathOrHubId(baseDir: string, ref: string | undefined): string | undefined {
  if (ref === undefined || isAbsolute(ref)) return ref;
  const local = join(baseDir, ref);
  return existsSync(local) || !looksLikeHubId(ref) ? local : ref;
}

/** Download progress: `bytes` of `total` for the files of one stage (the small files, then the weights). */
export interface ModelDownloadProgress {
  repo: string;
  stage: 'metadata' | 'weights';
  file: string;
  bytes: number;
  total: number;
  filesDone: number;
  filesTotal: number;
}

export interface ModelRefOptions extends Omit<HubOptions, 'type' | 'revision' | 'onProgress'> {
  /** folder that a relative folder reference is read against (default: the working directory) */
  cwd?: string;
  onProgress?: (p: ModelDownloadProgress) => void;
  /** one line per step worth telling (resolved commit, files to fetch, cache hit) */
  log?: (line: string) => void;
}

/** The shards named by a model.safetensors.index.json (sorted, each once). */
function indexShards(indexPath: string, label: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new ModelRefError(
      `${label}: ${SAFETENSORS_INDEX_NAME} is not valid JSON (${(e as Error).message})`,
      'incomplete',
    );
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Object.values(map).some((v) => typeof v !== 'string')) {
    throw new ModelRefError(
      `${label}: ${SAFETENSORS_INDEX_NAME} has no "weight_map" of tensor name → shard file`,
      'incomplete',
    );
  }
  return [...new Set(Object.values(map as Record<string, string>))].sort();
}

/** The files a snapshot folder lacks to be loadable (config.json and every weight file), or [] when complete. */
export function missingModelFiles(dir: string): string[] {
  const missing = existsSync(join(dir, 'config.json')) ? [] : ['config.json'];
  if (existsSync(join(dir, SAFETENSORS_INDEX_NAME))) {
    missing.push(...indexShards(join(dir, SAFETENSORS_INDEX_NAME), dir).filter((f) => !existsSync(join(dir, f))));
  } else if (!existsSync(join(dir, SAFETENSORS_WEIGHTS_NAME))) {
    missing.push(`${SAFETENSORS_WEIGHTS_NAME} (or ${SAFETENSORS_INDEX_NAME} and its shards)`);
  }
  return missing;
}

/** The listing's config, tokenizer and index files; refuses a repository without config.json or safetensors. */
function metadataFiles(rev: RepoRevision, label: string): RepoFile[] {
  const listed = new Set(rev.files.map((f) => f.path));
  if (!listed.has('config.json')) {
    throw new ModelRefError(
      `${label} (commit ${rev.sha}) has no config.json: it is not a transformers checkpoint`,
      'incomplete',
    );
  }
  if (!listed.has(SAFETENSORS_INDEX_NAME) && !listed.has(SAFETENSORS_WEIGHTS_NAME)) {
    const other = rev.files.map((f) => f.path).filter((p) => /\.(bin|pth|pt|ckpt|gguf|onnx|h5|msgpack)$/.test(p));
    throw new ModelRefError(
      `${label} (commit ${rev.sha}) has no safetensors weights (${SAFETENSORS_WEIGHTS_NAME} or ${SAFETENSORS_INDEX_NAME})` +
        (other.length
          ? `, only ${other.slice(0, 4).join(', ')}${other.length > 4 ? ', …' : ''}: olmo-ts reads safetensors only`
          : ''),
      'incomplete',
    );
  }
  return rev.files.filter((f) => MODEL_METADATA_FILES.includes(f.path));
}

/** The weight files: the index's shards (each must be listed), else model.safetensors. */
function weightFiles(rev: RepoRevision, snapshot: string, label: string): RepoFile[] {
  const byPath = new Map(rev.files.map((f) => [f.path, f]));
  if (!byPath.has(SAFETENSORS_INDEX_NAME)) return [byPath.get(SAFETENSORS_WEIGHTS_NAME)!];
  const shards = indexShards(join(snapshot, SAFETENSORS_INDEX_NAME), label);
  const absent = shards.filter((f) => !byPath.has(f));
  if (absent.length) {
    throw new ModelRefError(
      `${label} (commit ${rev.sha}): ${SAFETENSORS_INDEX_NAME} names shards the repository does not have: ${absent.join(', ')}`,
      'incomplete',
    );
  }
  return shards.map((f) => byPath.get(f)!);
}

interface HubContext {
  repo: string;
  revision: string;
  raw: string;
  label: string;
  endpoint: string;
  hasToken: boolean;
  folder: string;
}

/** The hub client's error, said in terms of the model reference. */
function explain(e: unknown, c: HubContext): unknown {
  if (!(e instanceof HubError) || e instanceof HubOfflineError) return e;
  const where = `on ${c.endpoint}`;
  if (e instanceof HubNotFoundError && e.code === 'RevisionNotFound') {
    return new ModelRefError(
      `revision '${c.revision}' of model '${c.repo}' not found ${where} (give a branch, a tag or a 40-character commit sha). ${e.message}`,
      'not-found',
      { cause: e },
    );
  }
  if (e instanceof HubNotFoundError || (e instanceof HubAuthError && e.code === 'RepoNotFound' && !c.hasToken)) {
    const priv = c.hasToken ? '' : ` If it is private, it needs a token: ${TOKEN_HINT}.`;
    return new ModelRefError(
      `model '${c.repo}' not found ${where}, and there is no folder ${c.folder} either.${priv} (${e.message})`,
      'not-found',
      { cause: e },
    );
  }
  if (e instanceof HubAuthError)
    return new ModelRefError(`model '${c.repo}' ${where} is gated or private: ${e.message}`, 'auth', { cause: e });
  if (e instanceof HubChecksumError)
    return new ModelRefError(`model '${c.repo}': ${e.message}`, 'checksum', { cause: e });
  return new ModelRefError(`model '${c.repo}': ${e.message}`, 'network', { cause: e });
}

/** The cached snapshot of a hub reference when it is complete; a ModelRefError when offline and it is not. */
function fromCache(c: HubContext, opts: ModelRefOptions, offlineBy: string | null): string | null {
  const dir = cachedSnapshotDir(c.repo, { cacheDir: opts.cacheDir, env: opts.env, revision: c.revision });
  const missing = dir ? missingModelFiles(dir) : null;
  if (dir && missing!.length === 0) return dir;
  if (offlineBy === null) return null;
  const unset = offlineBy === 'offline: true' ? 'the offline option' : offlineBy;
  const why = offlineBy === 'offline: true' ? 'offline: true' : `${offlineBy}=1`;
  const cache = opts.cacheDir ?? hubCacheDir(opts.env ?? process.env);
  throw new ModelRefError(
    dir
      ? `${c.label}: the cached snapshot ${dir} lacks ${missing!.join(', ')} (an interrupted download?), and offline mode is on (${why}), so it cannot be completed. Run once with ${unset} unset.`
      : `${c.label} is not in the hub cache ${cache} (no folder ${c.folder} either), and offline mode is on (${why}), so it cannot be downloaded. ` +
          `Run once with ${unset} unset to download it, or point HF_HUB_CACHE / HF_HOME at the cache that has it.`,
    'offline',
  );
}

/** Downloads what a model needs from a resolved revision: small files first (a gated repository fails fast), then the shards one by one. */
async function download(c: HubContext, rev: RepoRevision, hub: HubOptions, opts: ModelRefOptions): Promise<string> {
  const stage = (name: ModelDownloadProgress['stage'], files: RepoFile[]) => {
    const snapshot = join(repoCacheDir(c.repo, hub), 'snapshots', rev.sha);
    const todo = files.filter((f) => !existsSync(join(snapshot, f.path)));
    const total = todo.reduce((a, f) => a + (f.size ?? 0), 0);
    const done = new Map<string, number>();
    const onProgress = (p: HubProgress) => {
      done.set(p.file, p.bytes);
      const bytes = [...done.values()].reduce((a, b) => a + b, 0);
      opts.onProgress?.({
        repo: c.repo,
        stage: name,
        file: p.file,
        bytes,
        total,
        filesDone: p.filesDone,
        filesTotal: todo.length,
      });
    };
    if (todo.length && name === 'weights')
      opts.log?.(
        `${c.label}: downloading ${todo.length} weight file${todo.length === 1 ? '' : 's'} (${(total / 1e6).toFixed(1)} MB) into ${repoCacheDir(c.repo, hub)}`,
      );
    return { todo, onProgress };
  };
  const meta = stage('metadata', metadataFiles(rev, c.label));
  let snapshot = await downloadFiles(rev, meta.todo, { ...hub, onProgress: meta.onProgress, writeRef: false });
  const weights = stage('weights', weightFiles(rev, snapshot, c.label));
  snapshot = await downloadFiles(rev, weights.todo, { ...hub, onProgress: weights.onProgress, concurrency: 1 });
  const missing = missingModelFiles(snapshot);
  if (missing.length)
    throw new ModelRefError(
      `${c.label}: after the download, ${snapshot} still lacks ${missing.join(', ')}`,
      'incomplete',
    );
  return snapshot;
}

/**
 * Resolves a model reference to a local folder: a folder as is; a hub id through the cache, downloading what is
 * missing when online. Errors are ModelRefError (the hub client's error as `cause`).
 */
export async function resolveModelRef(ref: string, opts: ModelRefOptions = {}): Promise<string> {
  const cwd = opts.cwd ?? process.cwd();
  const parsed = parseModelRef(ref, cwd);
  if (parsed.kind !== 'hub') return parsed.path;
  const env = opts.env ?? process.env;
  const c: HubContext = {
    ...parsed,
    raw: ref,
    label: `model '${parsed.repo}' at revision ${parsed.revision}`,
    endpoint: (opts.endpoint ?? hubEndpoint(env)).replace(/\/+$/, ''),
    hasToken: opts.token !== undefined ? opts.token !== null : hubToken(env) !== null,
    folder: resolve(cwd, ref),
  };
  const offlineBy =
    opts.offline !== undefined ? (opts.offline ? 'offline: true' : null) : hubOfflineVariable('model', env);
  // A commit is immutable: its complete snapshot needs no request. A branch or tag is re-resolved when online.
  const cached = fromCache(c, opts, offlineBy);
  if (cached && (offlineBy !== null || COMMIT.test(c.revision))) {
    opts.log?.(`${c.label}: ${cached} (cached${offlineBy !== null ? ', offline' : ''})`);
    return cached;
  }
  const hub: HubOptions = { ...opts, type: 'model', revision: c.revision, offline: false, onProgress: undefined };
  try {
    const rev = await resolveRevision(c.repo, hub);
    const snapshot = await download(c, rev, hub, opts);
    opts.log?.(`${c.label}: commit ${rev.sha}, ${snapshot}`);
    return snapshot;
  } catch (e) {
    // as huggingface_hub does: when the hub cannot be reached, a complete cached snapshot of the revision serves
    if (cached && e instanceof HubHttpError) {
      opts.log?.(`${c.label}: the hub could not be reached (${e.message}); using the cached ${cached}`);
      return cached;
    }
    throw explain(e, c);
  }
}
