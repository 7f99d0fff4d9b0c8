// Answer extraction for SimpleToM.
//
// `processAnswer` is the paper's inference/utils.py process_answer, quirks included:
//   1. CoT: delete everything up to and including the LAST "the answer is" (case-insensitive, across lines, optional
//      ":"); otherwise delete every "answer" (case-insensitive, optional ":"). Then trim.
//   2. If any of "(A)".."(D)" occurs, the first in LABEL order wins (not the first by position).
//   3. Else "(A".."(D": one kind → that letter, several → ambiguous.
//   4. Else bare "A".."D" substrings (any capital A in a word counts): one kind → that letter, several → ambiguous.
//   5. Ambiguous or nothing: the prediction is the remaining text (scored wrong).
//
// `strictAnswer` is our stricter reading (named `acc_strict`): the answer must be stated once and unambiguously —
// in the CoT segment after the last "the answer is" (which must exist), or the whole output otherwise — as "(X)"
// forms naming exactly one label, or the segment is nothing but one label ("B", "(B)", "B.", "(B) No"). No bare
// capital-letter guessing.
//
// `olmesExtract` is the OLMES port: regex `\(([A-B])\)` (first match), falling back to `\b([A-D])\b` for the flex
// metric.

const PAREN = ['(A)', '(B)', '(C)', '(D)'];
const OPEN = ['(A', '(B', '(C', '(D'];
const BARE = ['A', 'B', 'C', 'D'];

export interface ParsedAnswer {
  /** "A".."D", or the remaining text when nothing unambiguous was found (the paper's `predicted`) */
  predicted: string;
  /** whether predicted is a label */
  valid: boolean;
}

export function stripAnswerPrefix(text: string, cot: boolean): string {
  const re = cot ? /[\s\S]*the answer is:?/gi : /answer:?/gi;
  return text.replace(re, '').trim();
}

export function processAnswer(raw: string, cot: boolean): ParsedAnswer {
  const text = stripAnswerPrefix(raw, cot);
  let index: number | null = null;
  for (let i = 0; i < PAREN.length; i++) {
    if (text.includes(PAREN[i])) {
      index = i;
      break;
    }
  }
  const scan = (cands: string[]) => {
    for (let i = 0; i < cands.length; i++) {
      if (text.includes(cands[i])) index = index === null ? i : -1;
    }
  };
  if (index === null) scan(OPEN);
  if (index === null) scan(BARE);
  if (index !== null && index >= 0) return { predicted: BARE[index], valid: true };
  return { predicted: text, valid: false };
}

/** Our stricter extraction: a label, or null when the answer is missing or ambiguous. */
export function strictAnswer(raw: string, cot: boolean, numChoices = 2): string | null {
  const labels = BARE.slice(0, numChoices);
  let segment = raw;
  if (cot) {
    const m = /the answer is:?/gi;
    let last = -1;
    let end = -1;
    for (let r = m.exec(raw); r; r = m.exec(raw)) {
      last = r.index;
      end = r.index + r[0].length;
    }
    if (last < 0) return null;
    segment = raw.slice(end);
  }
  segment = segment.trim();
  const found = new Set<string>();
  for (const r of segment.matchAll(/\(([A-Z])\)/g)) found.add(r[1]);
  if (found.size === 1) {
    const [l] = [...found];
    return labels.includes(l) ? l : null;
  }
  if (found.size > 1) return null;
  const bare = /^([A-Z])[.)]?$/.exec(segment);
  return bare && labels.includes(bare[1]) ? bare[1] : null;
}

export interface OlmesExtraction {
  /** from the primary regex `\(([A-B])\)`, or null */
  answer: string | null;
  /** primary, else the fallback `\b([A-D])\b`, or null */
  flex: string | null;
}

export function olmesExtract(text: string): OlmesExtraction {
  const primary = /\(([A-B])\)/.exec(text);
  if (primary) return { answer: primary[1], flex: primary[1] };
  const fb = /\b([A-D])\b/.exec(text);
  return { answer: null, flex: fb ? fb[1] : null };
}
