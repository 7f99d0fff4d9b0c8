// Python str semantics that OLMES prompts depend on and JavaScript lacks or gets subtly different:
// strip/rstrip (Python's whitespace set), capitalize (titlecase first character, REST LOWER), and
// code-point length (len(str) counts code points, not UTF-16 units).

/** Characters Python's str.isspace()/strip() treat as whitespace (Py_UNICODE_ISSPACE: Zs plus bidi WS/B/S). */
const PY_WHITESPACE = new Set<string>([
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  '\x1c',
  '\x1d',
  '\x1e',
  '\x1f',
  ' ',
  '\x85',
  '\xa0',
  '\u1680',
  '\u2000',
  '\u2001',
  '\u2002',
  '\u2003',
  '\u2004',
  '\u2005',
  '\u2006',
  '\u2007',
  '\u2008',
  '\u2009',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
]);

export function pyIsSpace(ch: string): boolean {
  return PY_WHITESPACE.has(ch);
}

/** str.strip() with no argument. Unlike String.prototype.trim it strips \x1c–\x1f and \x85 and keeps \ufeff. */
export function pyStrip(s: string): string {
  return pyRstrip(pyLstrip(s));
}

export function pyLstrip(s: string): string {
  let i = 0;
  while (i < s.length && PY_WHITESPACE.has(s[i])) i++;
  return s.slice(i);
}

export function pyRstrip(s: string): string {
  let j = s.length;
  while (j > 0 && PY_WHITESPACE.has(s[j - 1])) j--;
  return s.slice(0, j);
}

/** len(s) in Python: the number of code points. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Number of UTF-8 bytes of s (Python len(s.encode("utf-8"))); lone surrogates count as 3 like WTF-8. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

// Titlecase mappings that differ from uppercase (UnicodeData.txt field 14 ≠ field 12): the Latin digraphs.
const TITLECASE_EXCEPTIONS: Record<string, string> = {
  '\u01c4': '\u01c5',
  '\u01c5': '\u01c5',
  '\u01c6': '\u01c5',
  '\u01c7': '\u01c8',
  '\u01c8': '\u01c8',
  '\u01c9': '\u01c8',
  '\u01ca': '\u01cb',
  '\u01cb': '\u01cb',
  '\u01cc': '\u01cb',
  '\u01f1': '\u01f2',
  '\u01f2': '\u01f2',
  '\u01f3': '\u01f2',
};

/**
 * Python's titlecase of one code point (as str.capitalize uses since 3.8).
 * Exact for the Latin digraphs (ǆ → ǅ) and for the special casings whose titlecase is the first uppercase letter
 * followed by lowercase (ß → Ss, ﬁ → Fi). Known limits (JavaScript exposes no titlecase mapping): for the Greek
 * letters with ypogegrammeni (e.g. ᾳ) Python gives a single titlecase letter (ᾼ) while this gives its uppercase
 * expansion cut the same way (Αι); ŉ gives ʼn instead of ʼN. English benchmark text never hits these.
 */
export function pyTitleChar(ch: string): string {
  const exc = TITLECASE_EXCEPTIONS[ch];
  if (exc !== undefined) return exc;
  const up = ch.toUpperCase();
  const cps = Array.from(up);
  if (cps.length <= 1) return up;
  return cps[0] + cps.slice(1).join('').toLowerCase();
}

/**
 * Python str.capitalize(): the first character titlecased, every other character lowercased (full case mapping,
 * including the Final_Sigma rule evaluated on the whole string as CPython does).
 * `"hELLO wORLD".capitalize() === "Hello world"`; `"[title] Bob".capitalize() === "[title] bob"`.
 */
export function pyCapitalize(s: string): string {
  if (s.length === 0) return s;
  const first = String.fromCodePoint(s.codePointAt(0)!);
  const firstLower = first.toLowerCase();
  const wholeLower = s.toLowerCase();
  // Lowercasing the whole string keeps the sigma context of the first character; the first character's own
  // lowercase is context-free, so the rest is everything after its lowercase form.
  const rest = wholeLower.startsWith(firstLower)
    ? wholeLower.slice(firstLower.length)
    : s.slice(first.length).toLowerCase();
  return pyTitleChar(first) + rest;
}
