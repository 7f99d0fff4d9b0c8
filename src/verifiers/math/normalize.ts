// MATH answer normalisers, ported from open-instruct `math_utils.py`:
// - `normalizeFinalAnswer`: Minerva's `normalize_final_answer` (Lewkowycz et al. 2022, App. D);
// - `stripString` / `hendrycksIsEquiv`: Hendrycks et al.'s MATH `strip_string` and `is_equiv`.
// Python regex substitutions whose lazy `.*?` would backtrack quadratically on long lines are done by scanning;
// each such place says which substitution it reproduces.

import { pyIsDigit, pyReplace } from '../py.ts';

const SUBSTITUTIONS: ReadonlyArray<readonly [string, string]> = [
  ['an ', ''],
  ['a ', ''],
  ['.$', '$'],
  ['\\$', ''],
  ['\\ ', ''],
  [' ', ''],
  ['mbox', 'text'],
  [',\\text{and}', ','],
  ['\\text{and}', ','],
  ['\\text{m}', '\\text{}'],
];

const REMOVED_EXPRESSIONS: readonly string[] = [
  'square',
  'ways',
  'integers',
  'dollars',
  'mph',
  'inches',
  'ft',
  'hours',
  'km',
  'units',
  '\\ldots',
  'sue',
  'points',
  'feet',
  'minutes',
  'digits',
  'cents',
  'degrees',
  'cm',
  'gm',
  'pounds',
  'meters',
  'meals',
  'edges',
  'students',
  'childrentickets',
  'multiples',
  '\\text{s}',
  '\\text{.}',
  '\\text{\ns}',
  '\\text{}^2',
  '\\text{}^3',
  '\\text{\n}',
  '\\text{}',
  '\\mathrm{th}',
  '^\\circ',
  '^{\\circ}',
  '\\;',
  ',\\!',
  '{,}',
  '"',
  '\\dots',
];

/** Apply `fn` to each `\n`-separated line (Python `.` never crosses a newline). */
function perLine(s: string, fn: (line: string) => string): string {
  return s.split('\n').map(fn).join('\n');
}

/** `re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\\3$", s)`: a line with two `$` becomes `$` + first span + `$`. */
function keepFirstDollarSpan(s: string): string {
  return perLine(s, (line) => {
    const a = line.indexOf('$');
    if (a < 0) return line;
    const b = line.indexOf('$', a + 1);
    return b < 0 ? line : `$${line.slice(a + 1, b)}$`;
  });
}

/** `re.sub(r"(" + open + r")(.*?)(\})", "\\2", s)` for a literal `open` ending in `{`. */
function unwrapLazy(s: string, open: string): string {
  let out = '';
  let pos = 0;
  let nextBrace = -2; // cached index of the next "}" at or after the scan position (-1: none)
  let nextNl = -2;
  let i = s.indexOf(open);
  while (i >= 0) {
    const start = i + open.length;
    if (nextBrace !== -1 && nextBrace < start) nextBrace = s.indexOf('}', start);
    if (nextNl !== -1 && nextNl < start) nextNl = s.indexOf('\n', start);
    if (nextBrace >= 0 && (nextNl < 0 || nextBrace < nextNl)) {
      out += s.slice(pos, i) + s.slice(start, nextBrace);
      pos = nextBrace + 1;
      i = s.indexOf(open, pos);
    } else {
      i = s.indexOf(open, i + 1);
    }
  }
  return out + s.slice(pos);
}

/** `re.sub(r"(\\boxed\{)(.*)(\})", "\\2", s)`: per line, the first `\boxed{` to the last `}`. */
function unwrapBoxedGreedy(s: string): string {
  return perLine(s, (line) => {
    const i = line.indexOf('\\boxed{');
    if (i < 0) return line;
    const j = line.lastIndexOf('}');
    return j < i + 7 ? line : line.slice(0, i) + line.slice(i + 7, j) + line.slice(j + 1);
  });
}

/** Minerva `normalize_final_answer`. */
export function normalizeFinalAnswer(finalAnswer: string): string {
  const parts = finalAnswer.split('=');
  let s = parts[parts.length - 1]!;
  for (const [before, after] of SUBSTITUTIONS) s = pyReplace(s, before, after);
  for (const expr of REMOVED_EXPRESSIONS) s = pyReplace(s, expr, '');
  s = keepFirstDollarSpan(s);
  s = unwrapLazy(s, '\\text{');
  s = unwrapLazy(s, '\\textbf{');
  s = unwrapLazy(s, '\\overline{');
  s = unwrapBoxedGreedy(s);
  // \fracab -> \frac{a}{b}; \sqrta -> \sqrt{a}  (the reference's `(frac)([^{])(.)` and `(sqrt)([^{])`)
  s = s.replace(/(frac)([^{])([^\n])/g, 'frac{$2}{$3}');
  s = s.replace(/(sqrt)([^{])/g, 'sqrt{$2}');
  s = pyReplace(s, '$', '');
  if (pyIsDigit(pyReplace(s, ',', ''))) s = pyReplace(s, ',', '');
  return s;
}

/** Raised inside `stripString` where the Python raises (IndexError, AssertionError, ValueError). */
class StripError extends Error {}

function fixFracs(s: string): string {
  const substrs = s.split('\\frac');
  let out = substrs[0]!;
  for (const sub of substrs.slice(1)) {
    out += '\\frac';
    if (sub.length === 0) throw new StripError('IndexError: \\frac at the end'); // substr[0] on ""
    if (sub[0] === '{') {
      out += sub;
    } else {
      if (sub.length < 2) return s;
      const a = sub[0]!;
      const b = sub[1]!;
      if (b !== '{') out += `{${a}}{${b}}${sub.slice(2)}`;
      else out += `{${a}}${b}${sub.slice(2)}`;
    }
  }
  return out;
}

/** Python `int(x)` accepts this (ASCII digits; the reference then asserts the canonical form). */
const PY_INT = /^[\s]*[+-]?\d+(?:_\d+)*[\s]*$/;

function fixASlashB(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts as [string, string];
  // int(a), int(b): a ValueError escapes (only AssertionError is caught), so is_equiv falls back to raw equality.
  if (!PY_INT.test(a) || !PY_INT.test(b)) throw new StripError('ValueError: int()');
  const canon = (x: string): string => {
    const n = BigInt(x.replace(/[\s_]/g, ''));
    return n.toString();
  };
  const ia = canon(a);
  const ib = canon(b);
  if (s !== `${ia}/${ib}`) return s;
  return `\\frac{${ia}}{${ib}}`;
}

function removeRightUnits(s: string): string {
  if (s.includes('\\text{ ')) {
    const splits = s.split('\\text{ ');
    if (splits.length !== 2) throw new StripError('AssertionError: more than one "\\text{ "');
    return splits[0]!;
  }
  return s;
}

function fixSqrt(s: string): string {
  if (!s.includes('\\sqrt')) return s;
  const splits = s.split('\\sqrt');
  let out = splits[0]!;
  for (const split of splits.slice(1)) {
    if (split.length === 0) throw new StripError('IndexError: \\sqrt at the end');
    if (split[0] !== '{') out += `\\sqrt{${split[0]}}${split.slice(1)}`;
    else out += `\\sqrt${split}`;
  }
  return out;
}

/** Hendrycks `strip_string`. Throws `StripError` exactly where the Python raises. */
function stripStringOrThrow(input: string): string {
  let s = pyReplace(input, '\n', '');
  s = pyReplace(s, '\\!', '');
  s = pyReplace(s, '\\\\', '\\');
  s = pyReplace(s, 'tfrac', 'frac');
  s = pyReplace(s, 'dfrac', 'frac');
  s = pyReplace(s, '\\left', '');
  s = pyReplace(s, '\\right', '');
  s = pyReplace(s, '^{\\circ}', '');
  s = pyReplace(s, '^\\circ', '');
  s = pyReplace(s, '\\$', '');
  s = removeRightUnits(s);
  s = pyReplace(s, '\\%', '');
  s = pyReplace(s, ' .', ' 0.');
  s = pyReplace(s, '{.', '{0.');
  if (s.length === 0) return s;
  if (s[0] === '.') s = `0${s}`;
  const eq = s.split('=');
  if (eq.length === 2 && eq[0]!.length <= 2) s = eq[1]!;
  s = fixSqrt(s);
  s = pyReplace(s, ' ', '');
  s = fixFracs(s);
  if (s === '0.5') s = '\\frac{1}{2}';
  s = fixASlashB(s);
  return s;
}

/** Hendrycks `strip_string`; null where the Python raises. */
export function stripString(s: string): string | null {
  try {
    return stripStringOrThrow(s);
  } catch (e) {
    if (e instanceof StripError) return null;
    throw e;
  }
}

/** Hendrycks `is_equiv`: equal after `strip_string`, or (when stripping raises) equal as raw strings. */
export function hendrycksIsEquiv(a: string, b: string): boolean {
  const sa = stripString(a);
  const sb = stripString(b);
  if (sa === null || sb === null) return a === b;
  return sa === sb;
}
