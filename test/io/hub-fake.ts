// A fake Hugging Face hub on 127.0.0.1 (port 0) for the hub client's tests: the revision API
// (/api/{models|datasets}/{repo}/revision/{rev}?blobs=true), resolve URLs with the hub's headers (ETag = git blob id
// for regular files; 302 to a storage URL with X-Linked-Etag = sha256 for LFS files), Range requests (206 with
// Content-Range, 416 past the end) on file bytes, 404s with X-Error-Code, private repositories answering 401
// without the right token, gated ones whose listing is public but whose files answer 401/403 GatedRepo, and
// injected faults (5xx, 429, a body cut short, bytes altered, a stalled answer). Every request is logged.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  content: Buffer | string;
  /** stored in LFS: served through a redirect, blob name = sha256 */
  lfs?: boolean;
}

export interface FakeRepo {
  type: 'model' | 'dataset';
  id: string;
  /** branch or tag → commit */
  refs: Record<string, string>;
  /** commit → files */
  commits: Record<string, Record<string, FakeFile>>;
  /** answers 401 unless the request carries `Bearer ${token}` */
  token?: string;
  /** gated: the listing is public, files need `Bearer ${token}` (401 GatedRepo without a token, 403 with another) */
  gated?: boolean;
}

export type Fault =
  { status: number; retryAfter?: string } | { truncate: true } | { corrupt: true } | { stallMs: number };

export interface LoggedRequest {
  method: string;
  path: string;
  auth: string | null;
  range: string | null;
}

export const gitBlobId = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const asBuffer = (c: Buffer | string) => (typeof c === 'string' ? Buffer.from(c) : c);
/** A fake 40-hex commit. */
export const commit = (seed: string) => createHash('sha1').update(seed).digest('hex');

export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  /** faults by URL path prefix (decoded), each used once, in order */
  readonly faults = new Map<string, Fault[]>();
  private server: Server | null = null;
  endpoint = '';
  private readonly blobs = new Map<string, Buffer>();

  constructor(readonly repos: FakeRepo[]) {
    for (const r of repos)
      for (const files of Object.values(r.commits))
        for (const f of Object.values(files)) this.blobs.set(sha256(asBuffer(f.content)), asBuffer(f.content));
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  addFault(pathPrefix: string, ...faults: Fault[]): void {
    this.faults.set(pathPrefix, [...(this.faults.get(pathPrefix) ?? []), ...faults]);
  }

  /** Requests whose path starts with the prefix. */
  count(prefix = ''): number {
    return this.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  private takeFault(path: string): Fault | undefined {
    for (const [prefix, list] of this.faults) if (path.startsWith(prefix) && list.length > 0) return list.shift();
    return undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    this.requests.push({
      method: req.method ?? 'GET',
      path,
      auth: req.headers.authorization ?? null,
      range: req.headers.range ?? null,
    });
    const fault = this.takeFault(path);
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
      });
      res.end(JSON.stringify({ error: `injected ${fault.status}` }));
      return;
    }
    if (fault && 'stallMs' in fault) {
      const t = setTimeout(() => this.route(path, url, req, res, undefined), fault.stallMs);
      res.on('close', () => clearTimeout(t));
      return;
    }
    this.route(path, url, req, res, fault);
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message });
    res.end(JSON.stringify({ error: message }));
  }

  /** File bytes, honouring `Range: bytes=N-` as the hub's storage does. */
  private send(
    req: IncomingMessage,
    res: ServerResponse,
    whole: Buffer,
    headers: Record<string, string>,
    fault: Fault | undefined,
  ): void {
    if (fault && 'corrupt' in fault) {
      whole = Buffer.from(whole);
      whole[whole.length >> 1] ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (range && start >= whole.length) {
      res.writeHead(416, { 'content-range': `bytes */${whole.length}` });
      res.end();
      return;
    }
    const body = whole.subarray(start);
    res.writeHead(range ? 206 : 200, {
      'content-length': String(body.length),
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${whole.length - 1}/${whole.length}` } : {}),
      ...headers,
    });
    if (fault && 'truncate' in fault) {
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end(body);
  }

  private route(path: string, url: URL, req: IncomingMessage, res: ServerResponse, fault: Fault | undefined): void {
    if (path.startsWith('/cdn/')) {
      const blob = this.blobs.get(path.slice(5));
      if (!blob) return this.error(res, 404, 'EntryNotFound', 'no such object');
      return this.send(req, res, blob, { etag: '"storage-etag-not-the-sha"' }, fault);
    }
    // /api/{models|datasets}/{owner}/{name}/revision/{rev}
    let m = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
    if (m) {
      const found = this.find(m[1] === 'datasets' ? 'dataset' : 'model', m[2], req, res);
      if (!found) return;
      const sha = found.refs[m[3]] ?? (found.commits[m[3]] ? m[3] : undefined);
      if (!sha) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${m[3]}`);
      const blobs = url.searchParams.get('blobs') === 'true';
      const siblings = Object.entries(found.commits[sha]).map(([rfilename, f]) => {
        const b = asBuffer(f.content);
        return blobs
          ? {
              rfilename,
              size: b.length,
              blobId: gitBlobId(
                f.lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(b)}\n`) : b,
              ),
              ...(f.lfs ? { lfs: { sha256: sha256(b), size: b.length, pointerSize: 134 } } : {}),
            }
          : { rfilename };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: found.id, sha, siblings }));
      return;
    }
    // /{datasets/}{owner}/{name}/resolve/{rev}/{path}
    m = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m) {
      const found = this.find(m[1] ? 'dataset' : 'model', m[2], req, res, true);
      if (!found) return;
      const sha = found.refs[m[3]] ?? (found.commits[m[3]] ? m[3] : undefined);
      if (!sha) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${m[3]}`);
      const f = found.commits[sha][m[4]];
      if (!f) return this.error(res, 404, 'EntryNotFound', `${m[4]} does not exist on "${m[3]}"`);
      const b = asBuffer(f.content);
      if (f.lfs) {
        res.writeHead(302, {
          location: `${this.endpoint}/cdn/${sha256(b)}`,
          'x-linked-etag': `"${sha256(b)}"`,
          'x-linked-size': String(b.length),
          'x-repo-commit': sha,
          etag: '"pointer-etag"',
        });
        res.end();
        return;
      }
      return this.send(req, res, b, { etag: `"${gitBlobId(b)}"`, 'x-repo-commit': sha }, fault);
    }
    this.error(res, 404, 'NotFound', `no route ${path}`);
  }

  private find(
    type: 'model' | 'dataset',
    id: string,
    req: IncomingMessage,
    res: ServerResponse,
    file = false,
  ): FakeRepo | null {
    const r = this.repos.find((x) => x.type === type && x.id === id);
    if (r?.gated) {
      if (file && req.headers.authorization !== `Bearer ${r.token}`) {
        const message = `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
        this.error(res, req.headers.authorization ? 403 : 401, 'GatedRepo', message);
        return null;
      }
      return r;
    }
    if (r?.token !== undefined && req.headers.authorization !== `Bearer ${r.token}`) {
      this.error(
        res,
        401,
        req.headers.authorization ? 'InvalidCredentials' : 'RepoNotFound',
        req.headers.authorization ? 'Invalid credentials in Authorization header' : 'Repository not found',
      );
      return null;
    }
    if (!r) {
      this.error(res, 404, 'RepoNotFound', 'Repository not found');
      return null;
    }
    return r;
  }
}
