// IFEval `detectable_format:*` instructions (BulletListChecker, ConstrainedResponseChecker,
// HighlightSectionChecker, SectionChecker, JsonFormat, TitleChecker).

import { compileUserPattern, isPyWs, PY_S, pyStrip, pyStripChars } from '../py.ts';
import { int, str, type InstructionSpec } from './args.ts';

/**
 * Number of matches of `re.findall(r"^\s*\*[^\*].*$", value, flags=re.MULTILINE)` (star: true) or
 * `r"^\s*-.*$"` (star: false), counted in linear time. At a line start p the pattern matches iff the first
 * non-whitespace character q at or after p (`\s*` may cross newlines) is the marker (for `*`: followed by a
 * character that is not `*`, possibly a newline); the match runs to the end of the line after that; the next
 * search starts there.
 */
export function countBulletMatches(value: string, star: boolean): number {
  let n = 0;
  let q = -1; // first non-whitespace index at or after the current line start, cached across a whitespace run
  let p = 0;
  while (p <= value.length) {
    if (q < p) {
      q = p;
      while (q < value.length && isPyWs(value[q]!)) q++;
    }
    let end = -1;
    if (star) {
      if (value[q] === '*' && q + 1 < value.length && value[q + 1] !== '*') {
        const nl = value.indexOf('\n', q + 2);
        end = nl < 0 ? value.length : nl;
      }
    } else if (value[q] === '-') {
      const nl = value.indexOf('\n', q + 1);
      end = nl < 0 ? value.length : nl;
    }
    if (end >= 0) {
      n++;
      // "*\n\n": the match ends right after a newline, so its end is itself a line start
      if (end > p && value[end - 1] === '\n') {
        p = end;
        continue;
      }
    }
    const nextNl = value.indexOf('\n', end >= 0 ? end : p);
    if (nextNl < 0) break;
    p = nextNl + 1;
  }
  return n;
}

const CONSTRAINED_RESPONSE_OPTIONS = ['My answer is yes.', 'My answer is no.', 'My answer is maybe.'];

/**
 * Python `json.loads`: JSON plus the non-standard constants NaN, Infinity and -Infinity. Never throws.
 */
export function pyJsonLoads(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    // fall through: maybe Python-only constants
  }
  if (!/NaN|Infinity/.test(text)) return false;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (text.startsWith('-Infinity', i)) {
      out += '0';
      i += 8;
    } else if (text.startsWith('Infinity', i)) {
      out += '0';
      i += 7;
    } else if (text.startsWith('NaN', i)) {
      out += '0';
      i += 2;
    } else out += c;
  }
  try {
    JSON.parse(out);
    return true;
  } catch {
    return false;
  }
}

function removePrefix(s: string, p: string): string {
  return s.startsWith(p) ? s.slice(p.length) : s;
}

export const FORMAT_INSTRUCTIONS: Record<string, InstructionSpec> = {
  /** Exactly N markdown bullets: lines starting with `*` (not `**`) or `-`. */
  'detectable_format:number_bullet_lists': {
    args: ['num_bullets'],
    build: (kw) => {
      const n = int(kw, 'num_bullets');
      return (value) => countBulletMatches(value, true) + countBulletMatches(value, false) === n;
    },
  },
  /** Contains one of "My answer is yes.", "My answer is no.", "My answer is maybe.". */
  'detectable_format:constrained_response': {
    args: [],
    build: () => (value) => {
      const v = pyStrip(value);
      return CONSTRAINED_RESPONSE_OPTIONS.some((o) => v.includes(o));
    },
  },
  /** At least N non-empty `*highlighted*` spans (`**bold**` spans count too). */
  'detectable_format:number_highlighted_sections': {
    args: ['num_highlights'],
    build: (kw) => {
      const n = int(kw, 'num_highlights');
      return (value) => {
        let count = 0;
        for (const h of value.match(/\*[^\n*]*\*/g) ?? []) if (pyStrip(pyStripChars(h, '*')) !== '') count++;
        for (const h of value.match(/\*\*[^\n*]*\*\*/g) ?? []) if (pyStrip(h.slice(2, -2)) !== '') count++;
        return count >= n;
      };
    },
  },
  /** At least N sections, each starting with "<splitter> <number>" (splitter is a regex, case-sensitive). */
  'detectable_format:multiple_sections': {
    args: ['section_spliter', 'num_sections'],
    build: (kw) => {
      const splitter = pyStrip(str(kw, 'section_spliter'));
      const n = int(kw, 'num_sections');
      const re = compileUserPattern(`${PY_S}?${splitter}${PY_S}?\\p{Nd}+${PY_S}?`, 'gu');
      return (value) => {
        let pieces = 1;
        for (const m of value.matchAll(re)) {
          pieces++;
          if (m[0] === '') return false;
        }
        return pieces - 1 >= n;
      };
    },
  },
  /** The whole response parses as JSON, optionally inside ``` / ```json fences. */
  'detectable_format:json_format': {
    args: [],
    build: () => (value) => {
      let v = pyStrip(value);
      for (const p of ['```json', '```Json', '```JSON', '```']) v = removePrefix(v, p);
      if (v.endsWith('```')) v = v.slice(0, -3);
      return pyJsonLoads(pyStrip(v));
    },
  },
  /** A non-empty `<<title>>` on one line. */
  'detectable_format:title': {
    args: [],
    build: () => (value) => {
      // re.findall(r"<<[^\n]+>>"): per line, the first "<<" to the last ">>" (at least one character between)
      for (const line of value.split('\n')) {
        const i = line.indexOf('<<');
        const j = line.lastIndexOf('>>');
        if (i < 0 || j < i + 3) continue;
        const t = line.slice(i, j + 2);
        if (pyStrip(pyStripChars(pyStripChars(t, '<', 'left'), '>', 'right')) !== '') return true;
      }
      return false;
    },
  },
};
