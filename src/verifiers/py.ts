// Small pieces of Python string and `re` semantics that the reference verifiers (open-instruct, IFEval, olmes)
// rely on, so that the ports below can be read side by side with the Python.
//
// - Python `\s`, `str.strip()` and `str.split()` use Unicode whitespace (including \x1c-\x1f and \x85), which is not
//   JavaScript's set; `PY_WS` is Python's.
// - Python `\w` / `\b` are Unicode-aware for str patterns; JavaScript's `\b` is ASCII-only even with the `u` flag.
//   `PY_W` is Python `\w` (letters, numbers, underscore); `PY_B` emulates `\b` with lookarounds.
// - Python `.` matches everything but `\n`; JavaScript's `.` also stops at `\r`, U+2028 and U+2029. Ports use `[^\n]`.
// - Python `len` counts code points; `cpLen` does the same.

/** Python's whitespace (str.isspace), as a regex character-class body. */
export const PY_WS_CLASS =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python `\s`. */
export const PY_S = `[${PY_WS_CLASS}]`;
/** Python `\w` (Unicode: str.isalnum() or underscore, i.e. letters, numbers, underscore). Use with the `u` flag. */
export const PY_W = '[\\p{L}\\p{N}_]';
/** Python `\b` for str patterns. Use with the `u` flag. */
export const PY_B = `(?:(?<=${PY_W})(?!${PY_W})|(?<!${PY_W})(?=${PY_W}))`;
/** Python MULTILINE `^`: start of input or after `\n`. */
export const PY_BOL = '(?:(?<![\\s\\S])|(?<=\\n))';
/** Python MULTILINE `$`: before `\n` or at end of input. */
export const PY_EOL = '(?=\\n|(?![\\s\\S]))';

const WS_CHAR = new RegExp(`^${PY_S}$`, 'u');
const WS_SPLIT = new RegExp(`${PY_S}+`, 'u');

/** Python `str.isspace()` for one UTF-16 unit (all Python whitespace is in the BMP). */
export function isPyWs(c: string): boolean {
  return WS_CHAR.test(c);
}

/** Python `s.strip()` (no argument). Linear (a `\s+$` regex is quadratic on inner whitespace runs). */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPyWs(s[a]!)) a++;
  while (b > a && isPyWs(s[b - 1]!)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * Count the non-overlapping matches of `open [^\n close]* close` (e.g. `\[[^\n\]]*\]`, what Python's lazy
 * `\[.*?\]` matches) in linear time: a failed start skips to the next line, as every later start on that line
 * fails too.
 */
export function countDelimitedOnLine(s: string, open: string, close: string): number {
  let n = 0;
  let i = s.indexOf(open);
  while (i >= 0) {
    const c = s.indexOf(close, i + open.length);
    const nl = s.indexOf('\n', i + open.length);
    if (c >= 0 && (nl < 0 || c < nl)) {
      n++;
      i = s.indexOf(open, c + close.length);
    } else {
      if (nl < 0) break;
      i = s.indexOf(open, nl + 1);
    }
  }
  return n;
}

/** Python `s.split()` (no argument): split on whitespace runs, no empty pieces. */
export function pySplit(s: string): string[] {
  const t = pyStrip(s);
  return t === '' ? [] : t.split(WS_SPLIT);
}

/** Python `s.strip(chars)` / `lstrip` / `rstrip` with an explicit character set. */
export function pyStripChars(s: string, chars: string, side: 'both' | 'left' | 'right' = 'both'): string {
  const set = new Set(Array.from(chars));
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  if (side !== 'right') while (a < b && set.has(cps[a]!)) a++;
  if (side !== 'left') while (b > a && set.has(cps[b - 1]!)) b--;
  return cps.slice(a, b).join('');
}

/** Python `len(s)`: code points. */
export function cpLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python `round(x)` for floats: round half to even. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

const CASED_UPPER = /[\p{Lu}\p{Lt}]/u;
const CASED_LOWER = /[\p{Ll}]/u;

/** Python `str.isupper()`: at least one cased character and no lower-case (or title-case) one. */
export function pyIsUpper(s: string): boolean {
  return CASED_UPPER.test(s) && !CASED_LOWER.test(s) && !/\p{Lt}/u.test(s);
}

/** Python `str.islower()`: at least one cased character and no upper-case (or title-case) one. */
export function pyIsLower(s: string): boolean {
  return CASED_LOWER.test(s) && !CASED_UPPER.test(s);
}

/** Python `str.isdigit()` (decimal digits and the superscript/subscript digits). */
export function pyIsDigit(s: string): boolean {
  return s.length > 0 && /^[\p{Nd}\u00b2\u00b3\u00b9\u2070-\u2079\u2080-\u2089]+$/u.test(s);
}

/** Python `s.count(sub)` (non-overlapping). */
export function pyCount(s: string, sub: string): number {
  if (sub === '') return cpLen(s) + 1;
  let n = 0;
  let i = s.indexOf(sub);
  while (i >= 0) {
    n++;
    i = s.indexOf(sub, i + sub.length);
  }
  return n;
}

/** Python `s.replace(a, b)` for literal strings (no `$` patterns, unlike String.prototype.replaceAll's). */
export function pyReplace(s: string, a: string, b: string): string {
  if (a === '') return s; // not used with an empty needle
  return s.split(a).join(b);
}

/** Escape a string for literal use inside a RegExp. */
export function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Compile a pattern given by a ground truth (IFEval keywords are Python regexes). Python-only syntax rarely
 * appears in these words; a pattern that JavaScript rejects is matched literally instead.
 */
export function compileUserPattern(pattern: string, flags: string): RegExp {
  for (const f of [flags.includes('u') ? flags : `${flags}u`, flags.replace('u', '')]) {
    try {
      return new RegExp(pattern, f);
    } catch {
      // try the next flag set, then fall back to a literal match
    }
  }
  return new RegExp(reEscape(pattern), flags);
}

/** Python `str.lower()` (JavaScript's toLowerCase agrees on the cases that matter here). */
export function pyLower(s: string): string {
  return s.toLowerCase();
}
