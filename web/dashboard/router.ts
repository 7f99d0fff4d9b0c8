// Hash routing: #/runs, #/runs/ID, #/evals, #/evals/ID, #/compare?ids=a,b, #/models, #/chat, #/quickstarts.
// The hash keeps every view a plain link that works with the browser's back button and needs no server routes.

export interface Route {
  /** Path segments after '#/', decoded: '#/runs/a%2Fb' → ['runs', 'a/b']. */
  segments: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, query };
}

/** Builds '#/a/b?k=v' with each segment encoded. */
export function href(segments: readonly string[], query: Record<string, string | number | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `#/${segments.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}
