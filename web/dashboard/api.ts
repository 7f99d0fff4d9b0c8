// Fetching from the dashboard's own HTTP API (same origin, relative URLs: the page never talks to another host).
// A failed request becomes an Error naming the route, the status and the server's message, for errorPanel().

/** The server's error body, whichever shape it uses: {error: "..."}, {error: {message}} or {message}. */
export function errorMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as { error?: unknown; message?: unknown };
  if (typeof b.error === 'string') return b.error;
  if (typeof b.error === 'object' && b.error !== null && typeof (b.error as { message?: unknown }).message === 'string')
    return (b.error as { message: string }).message;
  return typeof b.message === 'string' ? b.message : null;
}

/** The Error for a failed request: method, path, status and the server's message. */
export function httpError(method: string, path: string, status: number, body: unknown): Error {
  const message = errorMessage(body);
  return new Error(`${method} ${path}: HTTP ${status}${message ? ` — ${message}` : ''}`);
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, signal });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw httpError('GET', path, res.status, body);
  return body as T;
}

export async function postJson<T>(path: string, payload: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(payload),
    signal,
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw httpError('POST', path, res.status, body);
  return body as T;
}

/** `/api/runs/<id>`-style paths with each part encoded. */
export function apiPath(...parts: string[]): string {
  return `/api/${parts.map(encodeURIComponent).join('/')}`;
}
