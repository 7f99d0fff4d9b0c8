// Folder ids and safe path resolution. An id names a folder under one of the roots: base64url of
// `<root index>:<path relative to the root>`, so it travels in a URL segment without escaping. Every path that comes
// from a request is resolved here and refused unless it stays inside its root — after following symlinks, since a
// link inside a run folder could otherwise lead anywhere on the disk.
import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** An error the HTTP layer turns into a status code and an ApiErrorBody. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FolderRef {
  root: number;
  /** Relative to the root, '/'-separated, '' for the root itself. */
  rel: string;
}

export function encodeId(root: number, rel: string): string {
  return Buffer.from(`${root}:${rel}`, 'utf8').toString('base64url');
}

export function decodeId(id: string, rootCount: number): FolderRef {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new HttpError(400, `malformed id ${JSON.stringify(id)}: expected base64url`);
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const m = /^(\d+):(.*)$/s.exec(text);
  if (!m) throw new HttpError(400, `malformed id ${JSON.stringify(id)}: expected <root>:<path> inside`);
  const root = Number(m[1]);
  if (root >= rootCount) throw new HttpError(404, `id ${id} names root ${root}, but there are ${rootCount} roots`);
  checkRelative(m[2], `id ${id}`);
  return { root, rel: m[2] };
}

/** Refuses what no relative path inside a root may contain: NUL, an absolute path, `..` or `.` segments, backslashes. */
export function checkRelative(rel: string, what: string): void {
  if (rel.includes('\0')) throw new HttpError(400, `${what}: the path contains a NUL character`);
  if (isAbsolute(rel) || rel.startsWith('/') || /^[A-Za-z]:/.test(rel))
    throw new HttpError(400, `${what}: absolute paths are refused (${JSON.stringify(rel)})`);
  if (rel.includes('\\')) throw new HttpError(400, `${what}: backslashes are refused in paths`);
  if (rel === '') return;
  for (const seg of rel.split('/'))
    if (seg === '..' || seg === '.' || seg === '')
      throw new HttpError(400, `${what}: the path ${JSON.stringify(rel)} has an empty, '.' or '..' segment`);
}

/**
 * The real absolute path of `rel` under `rootDir`, which must exist and stay inside the root once symlinks are
 * followed (404 when it does not exist, 400 when it leads outside).
 */
export function resolveInside(rootDir: string, rel: string, what: string): string {
  checkRelative(rel, what);
  let real: string;
  let realRoot: string;
  try {
    realRoot = realpathSync(rootDir);
    real = realpathSync(rel === '' ? rootDir : join(rootDir, ...rel.split('/')));
  } catch {
    throw new HttpError(404, `${what}: ${JSON.stringify(rel)} does not exist`);
  }
  const r = relative(realRoot, real);
  if (r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r))) return real;
  throw new HttpError(400, `${what}: ${JSON.stringify(rel)} leads outside its root (through a symbolic link)`);
}

/** `a/b` + `c` without producing a leading slash for the root. */
export function joinRel(base: string, name: string): string {
  return base === '' ? name : `${base}/${name}`;
}
