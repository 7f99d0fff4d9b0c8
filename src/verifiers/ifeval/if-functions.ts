// The 25 IFEval-style checks of open-instruct `if_functions.py`, the ground-truth format of Tülu 3 RLVR
// (`IFEvalVerifierOld`: ground truth `{"func_name": ..., <args>}`; https://github.com/allenai/open-instruct).
// They are simpler than Google's IFEval checkers (registry.ts) and differ from them on purpose: substring keywords,
// exact counts, etc.
//
// Versions: open-instruct at the Tülu 3 release (oi@T3, commit 5bcd3b259). Where oi@T3 and oi@HEAD differ this
// follows oi@T3: `validate_choice` passes when the response is a substring of an option,
// `validate_sections` needs exactly N pieces when split on the splitter (a leading empty piece dropped),
// `validate_frequency_capital_words` "around" means exactly N. One deliberate exception: oi@T3's
// `validate_placeholders` returned a tuple, which Python treats as true, so that constraint always earned the
// reward; here it returns the intended boolean (as oi@HEAD does).
// `validate_response_language` uses the heuristic detector of util.ts (langdetect there; on text with no letters
// langdetect raises, which would crash the reference; here it fails the check).

import { countDelimitedOnLine, cpLen, PY_B, PY_W, pyRound, pySplit, pyStrip } from '../py.ts';
import { pyJsonLoads } from './format.ts';
import { detectLanguage } from './util.ts';

export class IfFunctionArgError extends Error {}

type Args = Record<string, unknown>;

interface IfFunction {
  /** parameter names after `text`, in order; optional ones have defaults in the Python signature (none here) */
  params: readonly string[];
  fn: (text: string, a: Args) => boolean;
}

function num(a: Args, name: string): number {
  const v = a[name];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new IfFunctionArgError(`argument '${name}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}
function text(a: Args, name: string): string {
  const v = a[name];
  if (typeof v !== 'string')
    throw new IfFunctionArgError(`argument '${name}' must be a string, got ${JSON.stringify(v)}`);
  return v;
}
function list(a: Args, name: string): string[] {
  const v = a[name];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new IfFunctionArgError(`argument '${name}' must be a list of strings, got ${JSON.stringify(v)}`);
  return v as string[];
}
function quantifier(a: Args, name: string): 'at least' | 'at most' | 'around' | 'other' {
  const v = text(a, name);
  return v === 'at least' || v === 'at most' || v === 'around' ? v : 'other'; // the reference returns False
}

const WORD_RUN = new RegExp(`${PY_W}+`, 'gu');
const SENTENCE_SPLIT = new RegExp(`(?<!${PY_W}\\.${PY_W}[^\\n])(?<![A-Z][a-z]\\.)(?<=\\.|\\?|!)\\s`, 'u');
const CAPITAL_WORD = new RegExp(`${PY_B}[A-Z]+${PY_B}`, 'gu');
// Python's str.splitlines() boundaries, which include the control characters \x1c–\x1e.
// eslint-disable-next-line no-control-regex
const PY_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

export const IF_FUNCTIONS: Readonly<Record<string, IfFunction>> = {
  /** all keywords present (case-insensitive substring) */
  verify_keywords: {
    params: ['keyword_list'],
    fn: (t, a) => {
      const lower = t.toLowerCase();
      return list(a, 'keyword_list').every((k) => lower.includes(k.toLowerCase()));
    },
  },
  /** the word appears exactly N times as a whole word, case-insensitive */
  verify_keyword_frequency: {
    params: ['word', 'N'],
    fn: (t, a) => {
      const keyword = text(a, 'word').toLowerCase();
      let n = 0;
      for (const m of t.toLowerCase().matchAll(WORD_RUN)) if (m[0] === keyword) n++;
      return n === num(a, 'N');
    },
  },
  /** none of the words present (case-insensitive substring) */
  validate_forbidden_words: {
    params: ['forbidden_words'],
    fn: (t, a) => {
      const lower = t.toLowerCase();
      return !list(a, 'forbidden_words').some((w) => lower.includes(w.toLowerCase()));
    },
  },
  /** the letter (case-sensitive) occurs exactly N times */
  verify_letter_frequency: {
    params: ['letter', 'N'],
    fn: (t, a) => {
      const letter = text(a, 'letter');
      if (cpLen(letter) !== 1)
        throw new IfFunctionArgError(`argument 'letter' must be a single character, got ${JSON.stringify(letter)}`);
      let n = 0;
      for (const c of t) if (c === letter) n++;
      return n === num(a, 'N');
    },
  },
  /** detected language == language */
  validate_response_language: {
    params: ['language'],
    fn: (t, a) => detectLanguage(t) === text(a, 'language'),
  },
  /** exactly N non-empty paragraphs separated by "* * *" */
  verify_paragraph_count: {
    params: ['N'],
    fn: (t, a) => {
      const cleaned = pyStrip(
        t
          .split(PY_LINE_BREAK)
          .map((l) => pyStrip(l))
          .join('\n'),
      );
      const paragraphs = cleaned.split('* * *');
      if (paragraphs.some((p) => pyStrip(p) === '')) return false;
      return paragraphs.length === num(a, 'N');
    },
  },
  /** whitespace-separated words: at least / at most / around (± max(round(0.1 N), 1)) N */
  validate_word_constraint: {
    params: ['N', 'quantifier'],
    fn: (t, a) => {
      const n = pySplit(t).length;
      const N = num(a, 'N');
      const q = quantifier(a, 'quantifier');
      if (q === 'at least') return n >= N;
      if (q === 'at most') return n <= N;
      if (q === 'around') return Math.abs(n - N) <= Math.max(pyRound(N * 0.1), 1);
      return false;
    },
  },
  /** regex sentence split: at least / at most / around (± 1) N sentences */
  verify_sentence_constraint: {
    params: ['N', 'quantifier'],
    fn: (t, a) => {
      const n = t.split(SENTENCE_SPLIT).length;
      const N = num(a, 'N');
      const q = quantifier(a, 'quantifier');
      if (q === 'at least') return n >= N;
      if (q === 'around') return Math.abs(n - N) <= 1;
      if (q === 'at most') return n <= N;
      return false;
    },
  },
  /** exactly N paragraphs split on "\n\n"; paragraph i (1-based) starts with first_word (case-sensitive) */
  validate_paragraphs: {
    params: ['N', 'first_word', 'i'],
    fn: (t, a) => {
      const N = num(a, 'N');
      const i = num(a, 'i');
      const first = text(a, 'first_word');
      if (!Number.isInteger(i) || i > N || i - 1 < -N)
        throw new IfFunctionArgError(`argument 'i' (${i}) must index one of the N = ${N} paragraphs`);
      const paragraphs = t.split('\n\n');
      if (paragraphs.length !== N) return false;
      const idx = i - 1 < 0 ? i - 1 + paragraphs.length : i - 1; // Python negative indexing
      return pyStrip(paragraphs[idx]!).startsWith(first);
    },
  },
  /** the marker is present with text after it */
  verify_postscript: {
    params: ['postscript_marker'],
    fn: (t, a) => {
      const marker = text(a, 'postscript_marker');
      const at = t.indexOf(marker);
      if (at < 0) return false;
      return cpLen(pyStrip(t.slice(at))) > cpLen(marker);
    },
  },
  /** at least N `[...]` placeholders (oi@T3 always passed here: see the file comment) */
  validate_placeholders: {
    params: ['N'],
    fn: (t, a) => countDelimitedOnLine(t, '[', ']') >= num(a, 'N'),
  },
  /** exactly N lines starting with `*` or `-` */
  verify_bullet_points: {
    params: ['N'],
    fn: (t, a) => t.split('\n').filter((l) => /^[*-]/.test(pyStrip(l))).length === num(a, 'N'),
  },
  /** has a `<<...>>` title */
  validate_title: {
    params: [],
    fn: (t) => countDelimitedOnLine(t, '<<', '>>') > 0, // re.findall(r"<<(.*?)>>")
  },
  /** the response is a substring of one of the options (oi@T3) */
  validate_choice: {
    params: ['options'],
    fn: (t, a) => {
      const o = a['options'];
      const options = typeof o === 'string' ? Array.from(o) : list(a, 'options');
      return options.some((opt) => opt.includes(t));
    },
  },
  /** at least N `*...*` spans */
  validate_highlighted_sections: {
    params: ['N'],
    fn: (t, a) => (t.match(/\*[^\n*]*\*/g)?.length ?? 0) >= num(a, 'N'),
  },
  /** exactly N sections when split on the splitter (a leading empty piece dropped) (oi@T3) */
  validate_sections: {
    params: ['N', 'section_splitter'],
    fn: (t, a) => {
      const splitter = text(a, 'section_splitter');
      if (splitter === '') throw new IfFunctionArgError("argument 'section_splitter' must not be empty");
      const sections = t.split(splitter);
      if (sections[0] === '') sections.shift();
      return sections.length === num(a, 'N');
    },
  },
  /** the whole text parses as JSON (Python json.loads) */
  validate_json_format: {
    params: [],
    fn: (t) => pyJsonLoads(t),
  },
  /** starts with the original prompt (case-sensitive) */
  validate_repeat_prompt: {
    params: ['original_prompt'],
    fn: (t, a) => t.startsWith(text(a, 'original_prompt')),
  },
  /** exactly one "******" and two different halves */
  validate_two_responses: {
    params: [],
    fn: (t) => {
      const parts = t.split('******');
      return parts.length === 2 && pyStrip(parts[0]!) !== pyStrip(parts[1]!);
    },
  },
  /** text == text.upper() */
  validate_uppercase: { params: [], fn: (t) => t === t.toUpperCase() },
  /** text == text.lower() */
  validate_lowercase: { params: [], fn: (t) => t === t.toLowerCase() },
  /** `\b[A-Z]+\b` words: at least / at most / around (exactly, oi@T3) N */
  validate_frequency_capital_words: {
    params: ['N', 'quantifier'],
    fn: (t, a) => {
      const n = t.match(CAPITAL_WORD)?.length ?? 0;
      const N = num(a, 'N');
      const q = quantifier(a, 'quantifier');
      if (q === 'at least') return n >= N;
      if (q === 'around') return n === N;
      if (q === 'at most') return n <= N;
      return false;
    },
  },
  /** ends with the phrase (case-sensitive, no stripping) */
  validate_end: { params: ['end_phrase'], fn: (t, a) => t.endsWith(text(a, 'end_phrase')) },
  /** starts and ends with `"` */
  validate_quotation: { params: [], fn: (t) => t.startsWith('"') && t.endsWith('"') },
  /** no comma */
  validate_no_commas: { params: [], fn: (t) => !t.includes(',') },
};

export const IF_FUNCTION_NAMES: readonly string[] = Object.keys(IF_FUNCTIONS).sort();

/**
 * Validate a call like Python's `func(answer, **args)`: unknown function, missing or unexpected arguments are
 * ground-truth errors (a TypeError/KeyError in the reference). Returns the checker.
 */
export function bindIfFunction(funcName: string, args: Args): (t: string) => boolean {
  const f = IF_FUNCTIONS[funcName];
  if (!f) throw new IfFunctionArgError(`unknown func_name '${funcName}'; known: ${IF_FUNCTION_NAMES.join(', ')}`);
  for (const k of Object.keys(args)) {
    if (!f.params.includes(k))
      throw new IfFunctionArgError(
        `${funcName}() got an unexpected argument '${k}' (takes ${f.params.join(', ') || 'only the text'})`,
      );
  }
  for (const p of f.params) {
    if (!(p in args)) throw new IfFunctionArgError(`${funcName}() is missing argument '${p}'`);
  }
  // Validate argument types now (with an empty text), so bad ground truth fails before any model output is seen.
  f.fn('', args);
  return (t) => f.fn(t, args);
}
