// MATH answer extraction, ported from open-instruct `math_utils.py` (itself from lm-eval `minerva_math/utils.py`
// and Hendrycks' MATH code). All functions are linear in the input and never throw.

/** The text of a match of Python's `.`: anything but a newline. */
const NOT_NL = '[^\\n]';

/**
 * `last_boxed_only_string`: the last `\boxed{...}` (brace-matched), else the last `\fbox{...}`, as a string that
 * still carries the command; `"\\boxed " + ...` when the text uses the `\boxed 5$` form anywhere (checked first, as
 * the reference does). Null when there is none or its braces never close.
 */
export function lastBoxedOnlyString(s: string): string | null {
  if (s.includes('\\boxed ')) {
    const parts = s.split('\\boxed ');
    return `\\boxed ${parts[parts.length - 1]!.split('$')[0]!}`;
  }
  let idx = s.lastIndexOf('\\boxed');
  if (idx < 0) {
    idx = s.lastIndexOf('\\fbox');
    if (idx < 0) return null;
  }
  let open = 0;
  for (let i = idx; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 123 /* { */) open++;
    else if (c === 125 /* } */) {
      open--;
      if (open === 0) return s.slice(idx, i + 1);
    }
  }
  return null;
}

/**
 * `remove_boxed`: strip `\boxed{` ... `}` (or the `\boxed ` prefix). The reference asserts the `\boxed{` prefix,
 * so an `\fbox{...}` found by `lastBoxedOnlyString` is dropped there; here `\fbox{...}` is unwrapped too (the
 * reference's `last_boxed_only_string` looks for it). Null when the string has neither form (the reference's
 * AssertionError).
 */
export function removeBoxed(s: string): string | null {
  if (s.includes('\\boxed ')) return s.startsWith('\\boxed ') ? s.slice('\\boxed '.length) : null;
  for (const left of ['\\boxed{', '\\fbox{']) {
    if (s.startsWith(left) && s.endsWith('}')) return s.slice(left.length, -1);
  }
  return null;
}

/** The content of the last `\boxed{...}` / `\fbox{...}`, or null. */
export function extractBoxed(s: string): string | null {
  const b = lastBoxedOnlyString(s);
  return b === null ? null : removeBoxed(b);
}

const MINERVA_PREFIX = 'Final Answer: The final answer is';
const MINERVA_END = ' I hope it is correct';

/**
 * `get_unnormalized_answer`: the Minerva form. The reference appends "I hope it is correct." to the text and runs
 * `re.search(r"Final Answer: The final answer is(.*?). I hope it is correct.", text)`; this is the same search done
 * without backtracking. Returns the stripped group, or null (the reference's "[invalidanswer]").
 */
export function extractMinervaAnswer(text: string): string | null {
  const t = `${text}I hope it is correct.`;
  let p = t.indexOf(MINERVA_PREFIX);
  while (p >= 0) {
    const e = p + MINERVA_PREFIX.length;
    const lineEnd = (() => {
      const n = t.indexOf('\n', e);
      return n < 0 ? t.length : n;
    })();
    // Need q >= e with t[q] any non-newline char, then " I hope it is correct", then one non-newline char.
    let h = t.indexOf(MINERVA_END, e + 1);
    while (h >= 0 && h + MINERVA_END.length < lineEnd) {
      if (h - 1 >= e) return t.slice(e, h - 1).trim();
      h = t.indexOf(MINERVA_END, h + 1);
    }
    // No end on this line: later prefixes on the same line fail too; continue on the next line.
    p = t.indexOf(MINERVA_PREFIX, lineEnd);
  }
  return null;
}

/** The text between the last two `$` (the reference's last-LaTeX fallback), or null with fewer than two. */
export function extractLastDollarSpan(text: string): string | null {
  const last = text.lastIndexOf('$');
  if (last <= 0) return null;
  const prev = text.lastIndexOf('$', last - 1);
  return prev < 0 ? null : text.slice(prev + 1, last);
}

/**
 * "the answer is X" (case-insensitive, last occurrence; optional ":" and "$...$" around X, trailing "." dropped).
 * Not part of open-instruct's MATH verifier; used by `math_lenient`.
 */
export function extractAnswerIs(text: string): string | null {
  const re = new RegExp(`answer is:?[ \\t]*(${NOT_NL}{1,500})`, 'gi');
  let last: string | null = null;
  for (const m of text.matchAll(re)) last = m[1]!;
  if (last === null) return null;
  let a = last.trim();
  const dollar = /^\$([^$]*)\$/.exec(a);
  if (dollar) a = dollar[1]!;
  else {
    // stop at the end of the sentence: ". " or a final "."
    const stop = a.search(/\.(\s|$)/);
    if (stop >= 0) a = a.slice(0, stop);
  }
  a = a.trim().replace(/\.$/, '').trim();
  return a === '' ? null : a;
}
