// Hashes as oe-eval computes them: md5 of json.dumps(d, sort_keys=True) (Python's default separators and
// ensure_ascii). Limit: a JavaScript number has no int/float distinction, so a float that is integral (1.0)
// serialises as "1" where Python writes "1.0"; exponent forms also differ (1e-07 vs 1e-7).
import { createHash } from 'node:crypto';

export function pyJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return String(v);
  }
  if (typeof v === 'string') {
    let out = '"';
    for (const ch of v) {
      const c = ch.codePointAt(0)!;
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\b') out += '\\b';
      else if (ch === '\f') out += '\\f';
      else if (c < 0x20 || (c >= 0x7f && c <= 0xffff)) out += '\\u' + c.toString(16).padStart(4, '0');
      else if (c > 0xffff) {
        const h = Math.floor((c - 0x10000) / 0x400) + 0xd800;
        const l = ((c - 0x10000) % 0x400) + 0xdc00;
        out += '\\u' + h.toString(16) + '\\u' + l.toString(16);
      } else out += ch;
    }
    return out + '"';
  }
  if (Array.isArray(v)) return '[' + v.map(pyJsonDumps).join(', ') + ']';
  if (typeof v === 'object') {
    const keys = Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return (
      '{' + keys.map((k) => pyJsonDumps(k) + ': ' + pyJsonDumps((v as Record<string, unknown>)[k])).join(', ') + '}'
    );
  }
  throw new Error(`pyJsonDumps: cannot serialise ${typeof v}`);
}

export function hashDict(d: Record<string, unknown>): string {
  return createHash('md5').update(pyJsonDumps(d)).digest('hex');
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
