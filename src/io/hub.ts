// The Hugging Face hub client (used only when online): resolve a repository revision to a commit, and download
// files into the standard huggingface_hub cache, so that Python tools and olmo-ts share one cache:
//
//   {cache}/{models|datasets|spaces}--{owner}--{name}/
//     blobs/{sha256 for LFS files, git blob id otherwise}     the bytes, written to {blob}.incomplete (resumed with a
//                                                             Range request after an interruption) and renamed once
//                                                             their size and hash match the hub's metadata
//     snapshots/{commit}/{path}                               a relative symlink to ../../blobs/… (a copy where
//                                                             symlinks fail)
//     refs/{revision}                                         the commit the revision (a branch or tag) resolved to
//
// Settings come from the environment as huggingface_hub reads them: HF_ENDPOINT (default https://huggingface.co),
// HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or the token file HF_TOKEN_PATH / $HF_HOME/token), HF_HUB_CACHE
// (or $HF_HOME/hub, or ~/.cache/huggingface/hub) and HF_HUB_OFFLINE=1, under which nothing is ever fetched.
//
//   const dir = await downloadSnapshot('allenai/ai2_arc', { type: 'dataset', allowPatterns: ['ARC-Easy/*'] });
//   const file = await hfHubDownload('allenai/OLMo-2-0425-1B', 'config.json');
//
// Files already in the cache are not fetched again: `hfHubDownload` of a cached file makes no request at all (pass
// `refresh: true` to re-resolve a branch), `downloadSnapshot` asks only for the revision's file list.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { FolderLockedError, lockFolder } from './lock.ts';

export type RepoType = 'model' | 'dataset' | 'space';

export interface HubProgress {
  repo: string;
  /** the file being downloaded (path inside the repository) */
  file: string;
  /** bytes of this file received so far, and its size when known */
  bytes: number;
  total: number | null;
  /** files finished (downloaded or found in the cache) out of the files asked for */
  filesDone: number;
  filesTotal: number;
}

export interface HubOptions {
  /** repository type; default 'model', as in huggingface_hub */
  type?: RepoType;
  /** branch, tag or commit; default 'main' */
  revision?: string;
  /** default: HF_ENDPOINT, else https://huggingface.co */
  endpoint?: string;
  /** default: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, else the token file; null: send none */
  token?: string | null;
  /** default: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub */
  cacheDir?: string;
  /** default: HF_HUB_OFFLINE (and HF_DATASETS_OFFLINE for datasets) is 1/true/yes/on */
  offline?: boolean;
  /** where the defaults are read from; default process.env */
  env?: NodeJS.ProcessEnv;
  /** retries on 429, 5xx, network errors and timeouts, with exponential backoff (default 5) */
  retries?: number;
  /** first backoff delay in ms, doubled each retry, capped at 30 s; a Retry-After header wins (default 1000) */
  backoffMs?: number;
  /** ms without any response or body bytes after which a request is abandoned and retried (default 60000) */
  timeoutMs?: number;
  /** ms to wait for another process downloading the same file before giving up (default 30 minutes) */
  lockWaitMs?: number;
  onProgress?: (p: HubProgress) => void;
  /** the fetch to use (default the global one) */
  fetch?: typeof fetch;
}

export interface DownloadOptions extends HubOptions {
  /** re-resolve the revision even when the file is already in the cache for it */
  refresh?: boolean;
}

export interface SnapshotOptions extends HubOptions {
  /** fnmatch-style patterns as huggingface_hub takes them (`*` also crosses `/`; `dir/` means `dir/*`) */
  allowPatterns?: string | string[];
  ignorePatterns?: string | string[];
  /** files downloaded at once (default 4) */
  concurrency?: number;
}

/** One file of a revision as the hub lists it. */
export interface RepoFile {
  path: string;
  size?: number;
  /** git blob id (the hub's ETag for non-LFS files) */
  blobId?: string;
  /** sha256 of an LFS file (its ETag, and its blob name in the cache) */
  lfsSha256?: string;
}

export interface RepoRevision {
  repo: string;
  type: RepoType;
  /** the revision asked for */
  revision: string;
  /** the commit it resolved to */
  sha: string;
  files: RepoFile[];
}

// ---- errors ----

export class HubError extends Error {
  /** the hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo…) when it sent one */
  code: string | null = null;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
  }
}
/** Offline mode is on and what was asked for is not in the cache. */
export class HubOfflineError extends HubError {
  constructor(message: string) {
    super(message);
    this.name = 'HubOfflineError';
  }
}
/** 404: the repository, revision or file does not exist (or is private and no token was sent). */
export class HubNotFoundError extends HubError {
  constructor(message: string, code: string | null = null) {
    super(message);
    this.name = 'HubNotFoundError';
    this.code = code;
  }
}
/** 401/403: a token is needed, was rejected, or lacks access (gated repositories). */
export class HubAuthError extends HubError {
  constructor(message: string, code: string | null = null) {
    super(message);
    this.name = 'HubAuthError';
    this.code = code;
  }
}
/** Another HTTP status, a network failure or a timeout, after the retries. */
export class HubHttpError extends HubError {
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HubHttpError';
  }
}
/** A downloaded file's size or hash differs from the hub's metadata: refused, the bytes kept aside (`keptAt`). */
export class HubChecksumError extends HubError {
  constructor(
    message: string,
    readonly keptAt: string,
  ) {
    super(message);
    this.name = 'HubChecksumError';
  }
}

// ---- settings ----

const isTrue = (v: string | undefined): boolean =>
  v !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(v.trim().toUpperCase());

export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HUB_CACHE || join(hfHome(env), 'hub');
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** The variable that turns offline mode on for this repository type, or null when online. */
export function hubOfflineVariable(type: RepoType = 'model', env: NodeJS.ProcessEnv = process.env): string | null {
  if (isTrue(env.HF_HUB_OFFLINE)) return 'HF_HUB_OFFLINE';
  if (type === 'dataset' && isTrue(env.HF_DATASETS_OFFLINE)) return 'HF_DATASETS_OFFLINE';
  return null;
}

/** The token and where it came from, or null. */
export function hubToken(env: NodeJS.ProcessEnv = process.env): { token: string; source: string } | null {
  for (const name of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN']) {
    const v = env[name]?.trim();
    if (v) return { token: v, source: name };
  }
  const file = env.HF_TOKEN_PATH || join(hfHome(env), 'token');
  try {
    const v = readFileSync(file, 'utf8').trim();
    if (v) return { token: v, source: `the token file ${file}` };
  } catch {
    // no token file
  }
  return null;
}

interface Settings {
  type: RepoType;
  revision: string;
  endpoint: string;
  token: { token: string; source: string } | null;
  cacheDir: string;
  offline: string | null;
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  lockWaitMs: number;
  onProgress?: (p: HubProgress) => void;
  fetch: typeof fetch;
}

function settings(opts: HubOptions): Settings {
  const env = opts.env ?? process.env;
  const type = opts.type ?? 'model';
  return {
    type,
    revision: opts.revision ?? 'main',
    endpoint: (opts.endpoint ?? hubEndpoint(env)).replace(/\/+$/, ''),
    token:
      opts.token === null
        ? null
        : opts.token !== undefined
          ? { token: opts.token, source: 'the token passed in' }
          : hubToken(env),
    cacheDir: opts.cacheDir ?? hubCacheDir(env),
    offline: opts.offline !== undefined ? (opts.offline ? 'offline: true' : null) : hubOfflineVariable(type, env),
    retries: opts.retries ?? 5,
    backoffMs: opts.backoffMs ?? 1000,
    timeoutMs: opts.timeoutMs ?? 60_000,
    lockWaitMs: opts.lockWaitMs ?? 30 * 60_000,
    onProgress: opts.onProgress,
    fetch: opts.fetch ?? globalThis.fetch,
  };
}

// ---- cache layout ----

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
const COMMIT = /^[0-9a-f]{40}$/;

function checkRepo(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..') || repo.includes('--')) {
    throw new HubError(
      `invalid repository id ${JSON.stringify(repo)}: expected "owner/name" (letters, digits, '-', '_', '.')`,
    );
  }
}

/** A repository path must stay inside the snapshot folder. */
function checkRepoPath(path: string, repo: string): void {
  const parts = path.split('/');
  if (
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new HubError(`${repo}: refusing the unsafe file path ${JSON.stringify(path)}`);
  }
}

export function repoFolderName(repo: string, type: RepoType = 'model'): string {
  return `${type}s--${repo.replace(/\//g, '--')}`;
}

/** `{cache}/{type}s--{owner}--{name}` */
export function repoCacheDir(repo: string, opts: Pick<HubOptions, 'type' | 'cacheDir' | 'env'> = {}): string {
  return join(opts.cacheDir ?? hubCacheDir(opts.env ?? process.env), repoFolderName(repo, opts.type ?? 'model'));
}

/** The cached commit of a revision (from refs/, or the revision itself when it is a commit with a snapshot). */
export function cachedCommit(
  repo: string,
  opts: Pick<HubOptions, 'type' | 'cacheDir' | 'env' | 'revision'> = {},
): string | null {
  const root = repoCacheDir(repo, opts);
  const revision = opts.revision ?? 'main';
  try {
    const sha = readFileSync(join(root, 'refs', revision), 'utf8').trim();
    if (COMMIT.test(sha)) return sha;
  } catch {
    // not cached under this name
  }
  return COMMIT.test(revision) && existsSync(join(root, 'snapshots', revision)) ? revision : null;
}

/** The snapshot folder of a revision in the cache, or null; no network. */
export function cachedSnapshotDir(
  repo: string,
  opts: Pick<HubOptions, 'type' | 'cacheDir' | 'env' | 'revision'> = {},
): string | null {
  const sha = cachedCommit(repo, opts);
  if (!sha) return null;
  const dir = join(repoCacheDir(repo, opts), 'snapshots', sha);
  return existsSync(dir) ? dir : null;
}

/** A cached file of a revision, or null; no network. */
export function cachedFile(
  repo: string,
  path: string,
  opts: Pick<HubOptions, 'type' | 'cacheDir' | 'env' | 'revision'> = {},
): string | null {
  const dir = cachedSnapshotDir(repo, opts);
  if (!dir) return null;
  const file = join(dir, path);
  return existsSync(file) ? file : null; // existsSync follows the symlink: a dangling one is not a cached file
}

// ---- HTTP ----

const URL_PREFIX: Record<RepoType, string> = { model: '', dataset: 'datasets/', space: 'spaces/' };

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function describeRepo(s: Settings, repo: string, revision: string, path?: string): string {
  return `${path !== undefined ? `file ${path} in ` : ''}${s.type} ${repo} at revision ${revision}`;
}

/** A failure worth retrying: 429/5xx, a network error, a timeout, a short body. */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** Aborts a request when nothing arrives for `ms`; `touch()` on every chunk. */
class IdleTimeout {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  timedOut = false;
  constructor(private readonly ms: number) {
    this.touch();
  }
  touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no data for ${this.ms} ms`));
    }, this.ms);
  }
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function retryAfterMs(res: Response): number | null {
  const v = res.headers.get('retry-after');
  if (!v) return null;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.min(secs * 1000, 60_000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.min(Math.max(at - Date.now(), 0), 60_000) : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `attempt` with retries and backoff on RetryableError; other errors pass through at once. */
async function withRetries<T>(
  s: Settings,
  what: string,
  url: string,
  attempt: (timeout: IdleTimeout) => Promise<T>,
): Promise<T> {
  let last: RetryableError | null = null;
  for (let i = 0; i <= s.retries; i++) {
    if (i > 0) {
      const backoff = Math.min(s.backoffMs * 2 ** (i - 1), 30_000);
      await sleep(last?.retryAfterMs ?? backoff);
    }
    const timeout = new IdleTimeout(s.timeoutMs);
    try {
      return await attempt(timeout);
    } catch (e) {
      if (e instanceof HubError) throw e;
      if (e instanceof RetryableError) last = e;
      else if (timeout.timedOut) last = new RetryableError(`timed out (no data for ${s.timeoutMs} ms)`, null);
      else last = new RetryableError(`network error: ${describeCause(e)}`, null);
    } finally {
      timeout.clear();
    }
  }
  const tries = `${s.retries + 1} attempt${s.retries === 0 ? '' : 's'}`;
  const hint = s.offline === null ? ' Check the connection, or set HF_HUB_OFFLINE=1 to use only the local cache.' : '';
  throw new HubHttpError(
    `${what}: ${url} failed after ${tries}: ${last?.message ?? 'unknown error'}.${hint}`,
    last?.status ?? null,
  );
}

function describeCause(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const cause = err?.cause as (Error & { code?: string }) | undefined;
  return cause?.message
    ? `${err.message} (${cause.code ? `${cause.code}: ` : ''}${cause.message})`
    : String(err?.message ?? e);
}

/** Turns a final (non-redirect) error status into an error; retryable statuses into RetryableError. */
async function checkStatus(res: Response, s: Settings, what: string, url: string): Promise<void> {
  if (res.status >= 200 && res.status < 300) return;
  const code = res.headers.get('x-error-code');
  let detail = res.headers.get('x-error-message') ?? '';
  if (!detail) {
    const body = await res.text().catch(() => '');
    try {
      const j = JSON.parse(body) as { error?: unknown };
      if (typeof j.error === 'string') detail = j.error;
    } catch {
      detail = body.slice(0, 200).trim();
    }
  } else {
    await res.body?.cancel().catch(() => {});
  }
  const answered = `${url} answered ${res.status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`;
  if (res.status === 429 || res.status >= 500) throw new RetryableError(answered, res.status, retryAfterMs(res));
  if (res.status === 401 || res.status === 403) {
    const gated = code === 'GatedRepo' || res.status === 403;
    throw new HubAuthError(
      s.token
        ? `${what} refused the token from ${s.token.source} (${answered}). ` +
            (gated
              ? 'The token has no access: for a gated repository accept its terms on the hub page first.'
              : 'Check that the token is valid.')
        : `${what} needs a token (${answered}): the repository is private or gated` +
            (code === 'RepoNotFound' ? ', or does not exist' : '') +
            `. ${TOKEN_HINT}${gated ? ", after accepting the repository's terms on its hub page" : ''}.`,
      code,
    );
  }
  if (res.status === 404) {
    throw new HubNotFoundError(
      `repository or file not found: ${what} (${answered}). Check the repository id, type, revision and file name` +
        (s.token ? '.' : '; a private or gated repository also needs a token (set HF_TOKEN).'),
      code,
    );
  }
  throw new HubHttpError(`${what}: ${answered}`, res.status);
}

/** Where a token can come from, as huggingface_hub reads it. */
export const TOKEN_HINT =
  'Set HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) to a token from https://huggingface.co/settings/tokens, or put it in the token file ($HF_TOKEN_PATH, default $HF_HOME/token, which `huggingface-cli login` writes)';

function authHeaders(s: Settings): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': 'olmo-ts; hf-hub-client' };
  if (s.token) h.authorization = `Bearer ${s.token.token}`;
  return h;
}

// ---- revisions ----

interface RevisionJson {
  sha?: unknown;
  siblings?: {
    rfilename?: unknown;
    size?: unknown;
    blobId?: unknown;
    lfs?: { sha256?: unknown; size?: unknown } | null;
  }[];
}

/** GET /api/{models|datasets|spaces}/{repo}/revision/{revision}?blobs=true: the commit and its files. */
export async function resolveRevision(repo: string, opts: HubOptions = {}): Promise<RepoRevision> {
  checkRepo(repo);
  const s = settings(opts);
  const what = describeRepo(s, repo, s.revision);
  if (s.offline) throw offlineError(s, repo, what);
  const url = `${s.endpoint}/api/${s.type}s/${repo}/revision/${encodeURIComponent(s.revision)}?blobs=true`;
  const json = await withRetries(s, `listing ${what}`, url, async (timeout) => {
    const res = await s.fetch(url, { headers: authHeaders(s), signal: timeout.controller.signal });
    await checkStatus(res, s, what, url);
    return (await res.json()) as RevisionJson;
  });
  const sha = json.sha;
  if (typeof sha !== 'string' || !COMMIT.test(sha))
    throw new HubError(`${url}: the answer has no commit sha (got ${JSON.stringify(sha)})`);
  const files: RepoFile[] = [];
  for (const f of json.siblings ?? []) {
    if (typeof f.rfilename !== 'string') continue;
    files.push({
      path: f.rfilename,
      ...(typeof f.size === 'number' ? { size: f.size } : typeof f.lfs?.size === 'number' ? { size: f.lfs.size } : {}),
      ...(typeof f.blobId === 'string' ? { blobId: f.blobId } : {}),
      ...(typeof f.lfs?.sha256 === 'string' ? { lfsSha256: f.lfs.sha256 } : {}),
    });
  }
  return { repo, type: s.type, revision: s.revision, sha, files };
}

function offlineError(s: Settings, repo: string, what: string): HubOfflineError {
  const why = s.offline === 'offline: true' ? 'offline mode is on' : `offline mode is on (${s.offline}=1)`;
  return new HubOfflineError(
    `cannot fetch ${what}: ${why}, so the hub is not contacted, and it is not in the cache ${repoCacheDir(repo, s)}. ` +
      `Download it while online (\`huggingface-cli download${s.type === 'model' ? '' : ` --repo-type ${s.type}`} ${repo}\`), or unset ${s.offline === 'offline: true' ? 'the offline option' : s.offline}.`,
  );
}

// ---- downloads ----
//
// A file is written to blobs/{blob}.incomplete (the name huggingface_hub uses) and renamed to blobs/{blob} only
// once its size and hash match the hub's metadata, so a blob that exists is complete. An interrupted download
// keeps its .incomplete file, and the next attempt (a retry, or a later run) asks for the rest with an HTTP
// Range request, as huggingface_hub does. A file whose bytes do not match is renamed to blobs/{blob}.corrupt and
// refused. A lock file per blob keeps two processes from writing the same .incomplete file.

const SHA256 = /^[0-9a-f]{64}$/;
const GIT_SHA1 = /^[0-9a-f]{40}$/;

function normEtag(v: string | null): string | null {
  if (!v) return null;
  const e = v.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  return /^[\w.-]+$/.test(e) ? e : null;
}

interface FileProgress {
  (bytes: number, total: number | null): void;
}

/** One file to download: where it comes from and what the listing says it is. */
interface BlobTarget {
  url: string;
  what: string;
  file: RepoFile;
  blobsDir: string;
  progress: FileProgress;
}

/** The final answer to a resolve URL after its redirects, with the hub's headers from the first hop. */
interface Opened {
  res: Response;
  url: string;
  linkedEtag: string | null;
  linkedSize: number | null;
}

/** GET with redirects followed by hand: the token goes only to the hub's own host; `range` goes to every hop. */
async function openDownload(s: Settings, t: BlobTarget, offset: number, timeout: IdleTimeout): Promise<Opened> {
  const signal = timeout.controller.signal;
  const plain: Record<string, string> = {
    'accept-encoding': 'identity',
    ...(offset > 0 ? { range: `bytes=${offset}-` } : {}),
  };
  const hub = { ...authHeaders(s), ...plain };
  let res = await s.fetch(t.url, { headers: hub, redirect: 'manual', signal });
  let linkedEtag = normEtag(res.headers.get('x-linked-etag'));
  let linkedSize = res.headers.get('x-linked-size');
  let current = t.url;
  // Relative redirects stay on the hub (a renamed repository); an absolute one goes to the file storage.
  for (let hops = 0; res.status >= 300 && res.status < 400 && res.headers.get('location'); hops++) {
    if (hops >= 10) throw new HubHttpError(`${t.what}: too many redirects from ${t.url}`, res.status);
    linkedEtag ??= normEtag(res.headers.get('x-linked-etag'));
    linkedSize ??= res.headers.get('x-linked-size');
    const next = new URL(res.headers.get('location')!, current);
    await res.body?.cancel().catch(() => {});
    current = next.toString();
    res = await s.fetch(current, {
      headers: next.host === new URL(s.endpoint).host ? hub : plain,
      redirect: 'manual',
      signal,
    });
    timeout.touch();
  }
  const size = linkedSize !== null ? Number(linkedSize) : NaN;
  return { res, url: current, linkedEtag, linkedSize: Number.isSafeInteger(size) ? size : null };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** `bytes START-END/TOTAL` → its start and total (null when the total is `*` or the header is malformed). */
function parseContentRange(v: string | null): { start: number; total: number | null } | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(v?.trim() ?? '');
  return m ? { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) } : null;
}

/** The sha256 and (when the size is known) the git blob id of a file, fed in pieces. */
class FileHashes {
  private readonly sha256 = createHash('sha256');
  private readonly git: Hash | null;
  constructor(size: number | null) {
    this.git = size === null ? null : createHash('sha1').update(`blob ${size}\0`);
  }
  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.git?.update(chunk);
  }
  /** Feeds the first `bytes` of a file already on disk (the part of an interrupted download being resumed). */
  async updateFromFile(path: string, bytes: number): Promise<void> {
    if (bytes === 0) return;
    for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) this.update(chunk as Buffer);
  }
  digest(): { sha256: string; gitSha1: string | null } {
    return { sha256: this.sha256.digest('hex'), gitSha1: this.git?.digest('hex') ?? null };
  }
}

/** Why the received bytes are not the file the metadata describes, or null when they are. */
function mismatch(
  bytes: number,
  total: number | null,
  got: { sha256: string; gitSha1: string | null },
  want: { sha256: string | null; gitSha1: string | null },
): string | null {
  if (total !== null && bytes !== total) return `size mismatch: expected ${total} bytes, received ${bytes}`;
  if (want.sha256 && got.sha256 !== want.sha256)
    return `sha256 mismatch: expected ${want.sha256} (the hub's metadata), got ${got.sha256}`;
  if (want.gitSha1 && got.gitSha1 && got.gitSha1 !== want.gitSha1)
    return `git blob id mismatch: expected ${want.gitSha1} (the hub's metadata), got ${got.gitSha1}`;
  return null;
}

/** Renames a file that failed its checks to {blob}.corrupt, next to the blobs but never one of them. */
function keepAside(
  partial: string,
  blobsDir: string,
  blob: string | null,
  what: string,
  why: string,
  resumedFrom: number,
): HubChecksumError {
  const corrupt = join(blobsDir, `${blob ?? basename(partial).replace(/\.incomplete$/, '')}.corrupt`);
  renameSync(partial, corrupt);
  return new HubChecksumError(
    `${what}: ${why}${resumedFrom > 0 ? ` (the download resumed an earlier partial file at byte ${resumedFrom})` : ''}. ` +
      `The file is refused and nothing was added to the cache; its bytes were kept aside at ${corrupt}. Run again to download it afresh.`,
    corrupt,
  );
}

/** One attempt at a file: resumes its .incomplete file when there is one; returns the blob name. */
async function downloadAttempt(s: Settings, t: BlobTarget, timeout: IdleTimeout): Promise<string> {
  const known = t.file.lfsSha256 ?? t.file.blobId ?? null;
  const partialOf = (blob: string) => join(t.blobsDir, `${blob}.incomplete`);
  let offset = known ? sizeOf(partialOf(known)) : 0;
  const { res, url, linkedEtag, linkedSize } = await openDownload(s, t, offset, timeout);
  if (res.status === 416 && known) {
    // the partial file is not a prefix the server can continue (as long as the file, or longer): start over
    await res.body?.cancel().catch(() => {});
    rmSync(partialOf(known), { force: true });
    throw new RetryableError(`${url} answered 416 to a request from byte ${offset}; starting the file over`, 416);
  }
  await checkStatus(res, s, t.what, url);
  const etag = linkedEtag ?? normEtag(res.headers.get('etag'));
  const blob = known ?? etag;
  if (blob && existsSync(join(t.blobsDir, blob))) {
    await res.body?.cancel().catch(() => {});
    return blob;
  }
  let total = t.file.size ?? linkedSize;
  if (res.status === 206) {
    const range = parseContentRange(res.headers.get('content-range'));
    if (!range || range.start !== offset) {
      await res.body?.cancel().catch(() => {});
      if (known) rmSync(partialOf(known), { force: true });
      throw new RetryableError(
        `${url} answered the range ${res.headers.get('content-range')} to a request from byte ${offset}; starting the file over`,
        206,
      );
    }
    total ??= range.total;
  } else {
    offset = 0; // a full answer (a server that ignores Range): the partial file is rewritten from the start
    const length = res.headers.get('content-length');
    total ??= length !== null && Number.isSafeInteger(Number(length)) ? Number(length) : null;
  }
  const want = {
    sha256: t.file.lfsSha256 ?? (linkedEtag && SHA256.test(linkedEtag) ? linkedEtag : null),
    gitSha1: t.file.lfsSha256 || linkedEtag ? null : (t.file.blobId ?? (etag && GIT_SHA1.test(etag) ? etag : null)),
  };
  mkdirSync(t.blobsDir, { recursive: true });
  const partial = blob
    ? partialOf(blob)
    : join(t.blobsDir, `download.${process.pid}.${randomBytes(4).toString('hex')}.incomplete`);
  const hashes = new FileHashes(total);
  await hashes.updateFromFile(partial, offset);
  const bytes = await appendBody(res, partial, offset, total, hashes, timeout, t.progress);
  // short: keep the partial file for the next attempt to resume (an unnamed one cannot be resumed)
  if (total !== null && bytes < total) {
    if (!blob) rmSync(partial, { force: true });
    throw new RetryableError(`received ${bytes} bytes of ${total}`, res.status);
  }
  const got = hashes.digest();
  const why = mismatch(bytes, total, got, want);
  if (why) throw keepAside(partial, t.blobsDir, blob, t.what, why, offset);
  const name = blob ?? got.sha256;
  renameSync(partial, join(t.blobsDir, name));
  return name;
}

/** Writes the body after `offset` bytes of `partial` (truncating when offset is 0); returns the bytes it holds. */
async function appendBody(
  res: Response,
  partial: string,
  offset: number,
  total: number | null,
  hashes: FileHashes,
  timeout: IdleTimeout,
  progress: FileProgress,
): Promise<number> {
  if (!res.body) throw new RetryableError('empty response body', res.status);
  const fh = await open(partial, offset > 0 ? 'a' : 'w');
  let bytes = offset;
  try {
    progress(bytes, total);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      timeout.touch();
      await fh.write(chunk);
      hashes.update(chunk);
      bytes += chunk.length;
      progress(bytes, total);
    }
  } finally {
    await fh.close();
  }
  return bytes;
}

/**
 * Locks one blob against other downloads of it (another process, or another task of this one), waiting while a live
 * holder has it. huggingface_hub keeps its locks in {cache}/.locks/{repo folder}/; ours are named apart from its own.
 */
async function lockBlob(repoDir: string, blob: string, what: string, waitMs: number): Promise<() => void> {
  const dir = join(dirname(repoDir), '.locks', basename(repoDir), `${blob}.olmo-ts`);
  const start = Date.now();
  for (;;) {
    try {
      return lockFolder(dir, what);
    } catch (e) {
      if (!(e instanceof FolderLockedError) || e.holder === null) throw e;
      if (Date.now() - start >= waitMs)
        throw new HubError(
          `${what}: gave up after waiting ${Math.round(waitMs / 1000)} s for another download of the same file: ${e.message}`,
        );
      await sleep(200);
    }
  }
}

/** Downloads one file of a commit into blobs/ (unless its blob is there); returns the blob name. */
async function fetchBlob(
  s: Settings,
  repo: string,
  sha: string,
  file: RepoFile,
  repoDir: string,
  progress: FileProgress,
): Promise<string> {
  const blobsDir = join(repoDir, 'blobs');
  const known = file.lfsSha256 ?? file.blobId ?? null;
  if (known && existsSync(join(blobsDir, known))) return known;
  const what = describeRepo(s, repo, sha, file.path);
  const target: BlobTarget = {
    url: `${s.endpoint}/${URL_PREFIX[s.type]}${repo}/resolve/${sha}/${encodePath(file.path)}`,
    what,
    file,
    blobsDir,
    progress,
  };
  const release = known ? await lockBlob(repoDir, known, `downloading ${what}`, s.lockWaitMs) : () => {};
  try {
    if (known && existsSync(join(blobsDir, known))) return known; // finished by the holder we waited for
    return await withRetries(s, `downloading ${what}`, target.url, (timeout) => downloadAttempt(s, target, timeout));
  } finally {
    release();
  }
}

/** snapshots/{sha}/{path} → ../../blobs/{blob} (relative symlink; a copy where symlinks fail). */
function linkSnapshotFile(repoDir: string, sha: string, path: string, blob: string): string {
  const target = join(repoDir, 'snapshots', sha, path);
  const blobPath = join(repoDir, 'blobs', blob);
  try {
    lstatSync(target);
    if (existsSync(target)) return target; // present (and not a dangling link)
    unlinkSync(target);
  } catch {
    // not there yet
  }
  mkdirSync(dirname(target), { recursive: true });
  try {
    symlinkSync(relative(dirname(target), blobPath), target);
  } catch {
    const tmp = `${target}.${process.pid}.incomplete`;
    copyFileSync(blobPath, tmp);
    renameSync(tmp, target);
  }
  return target;
}

function writeRef(repoDir: string, revision: string, sha: string): void {
  if (revision === sha) return; // huggingface_hub writes refs for branches and tags only
  const ref = join(repoDir, 'refs', revision);
  try {
    if (readFileSync(ref, 'utf8') === sha) return;
  } catch {
    // new ref
  }
  mkdirSync(dirname(ref), { recursive: true });
  const tmp = `${ref}.${process.pid}.incomplete`;
  writeFileSync(tmp, sha);
  renameSync(tmp, ref);
}

/**
 * Downloads `files` of a resolved revision into the cache (skipping those present), then links them all into the
 * snapshot and writes refs/{revision} (unless `writeRef: false`, for a caller with more files to fetch): a split is
 * never visible half-downloaded. Returns the snapshot folder.
 */
export async function downloadFiles(
  rev: RepoRevision,
  files: RepoFile[],
  opts: HubOptions & { concurrency?: number; writeRef?: boolean } = {},
): Promise<string> {
  checkRepo(rev.repo);
  const s = settings({ ...opts, type: rev.type, revision: rev.revision });
  if (!COMMIT.test(rev.sha)) throw new HubError(`${rev.repo}: ${JSON.stringify(rev.sha)} is not a commit sha`);
  for (const f of files) checkRepoPath(f.path, rev.repo);
  const repoDir = repoCacheDir(rev.repo, s);
  const snapshot = join(repoDir, 'snapshots', rev.sha);
  const todo = files.filter((f) => !existsSync(join(snapshot, f.path)));
  if (todo.length > 0 && s.offline)
    throw offlineError(s, rev.repo, describeRepo(s, rev.repo, rev.revision, todo[0].path));
  const blobs = new Map<string, string>();
  let filesDone = files.length - todo.length;
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const f = todo[next++];
      const blob = await fetchBlob(s, rev.repo, rev.sha, f, repoDir, (bytes, total) =>
        s.onProgress?.({ repo: rev.repo, file: f.path, bytes, total, filesDone, filesTotal: files.length }),
      );
      blobs.set(f.path, blob);
      filesDone++;
      s.onProgress?.({
        repo: rev.repo,
        file: f.path,
        bytes: f.size ?? 0,
        total: f.size ?? null,
        filesDone,
        filesTotal: files.length,
      });
    }
  };
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? 4, todo.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  for (const f of todo) linkSnapshotFile(repoDir, rev.sha, f.path, blobs.get(f.path)!);
  mkdirSync(snapshot, { recursive: true });
  if (opts.writeRef !== false) writeRef(repoDir, rev.revision, rev.sha);
  return snapshot;
}

function fnmatchRegex(pattern: string): RegExp {
  const p = pattern.endsWith('/') ? `${pattern}*` : pattern;
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = p.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** huggingface_hub's filter_repo_objects: keep paths matching any allow pattern and no ignore pattern. */
export function filterPaths<T extends { path: string }>(
  files: T[],
  allow?: string | string[],
  ignore?: string | string[],
): T[] {
  const list = (v?: string | string[]) => (v === undefined ? null : (Array.isArray(v) ? v : [v]).map(fnmatchRegex));
  const a = list(allow);
  const ig = list(ignore);
  return files.filter((f) => (!a || a.some((r) => r.test(f.path))) && !(ig && ig.some((r) => r.test(f.path))));
}

/**
 * Downloads a revision's files (those matching allowPatterns, none matching ignorePatterns) into the cache and
 * returns its snapshot folder. Offline: the cached snapshot folder, or HubOfflineError.
 */
export async function downloadSnapshot(repo: string, opts: SnapshotOptions = {}): Promise<string> {
  checkRepo(repo);
  const s = settings(opts);
  if (s.offline) {
    const dir = cachedSnapshotDir(repo, s);
    if (dir) return dir;
    throw offlineError(s, repo, describeRepo(s, repo, s.revision));
  }
  const rev = await resolveRevision(repo, opts);
  const files = filterPaths(rev.files, opts.allowPatterns, opts.ignorePatterns);
  return downloadFiles(rev, files, opts);
}

/**
 * Downloads one file into the cache and returns its path under snapshots/. A file already cached for the revision
 * is returned without any request (unless `refresh`); offline, a file not cached is a HubOfflineError.
 */
export async function hfHubDownload(repo: string, path: string, opts: DownloadOptions = {}): Promise<string> {
  checkRepo(repo);
  checkRepoPath(path, repo);
  const s = settings(opts);
  if (!opts.refresh || s.offline) {
    const hit = cachedFile(repo, path, s);
    if (hit) return hit;
  }
  if (s.offline) throw offlineError(s, repo, describeRepo(s, repo, s.revision, path));
  const rev = await resolveRevision(repo, opts);
  const file = rev.files.find((f) => f.path === path);
  if (!file) {
    throw new HubNotFoundError(
      `repository or file not found: ${describeRepo(s, repo, s.revision, path)} (the revision, commit ${rev.sha}, lists ${rev.files.length} files and not this one)`,
    );
  }
  const snapshot = await downloadFiles(rev, [file], opts);
  return join(snapshot, path);
}
