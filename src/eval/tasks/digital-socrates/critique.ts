// Digital Socrates critiques (Gu, Tafjord, Clark, "Digital Socrates: Evaluating LLMs through Explanation Critiques",
// https://aclanthology.org/2024.acl-long.302; the model cards at https://huggingface.co/allenai/digital-socrates-13b):
// the 8 flaw dimensions, the critique prompt and the parser of critique outputs.
//
// Canonical critique (model cards):
//   The explanation states or suggests the following:
//   * Main flaw (standalone statement): "<flaw>"
//   * Dimension: <label>
//
//   Consider these points for revising the explanation:
//   * General: <text>
//   * Specific: <text>
//
//   Explanation score: <0-5>
//
// The parser never guesses: a missing or out-of-range score, a dimension outside the 8 labels, or a flaw without
// a dimension makes the critique unparseable, with the reasons listed.

export const DIMENSIONS = [
  'misunderstanding',
  'lack_justification',
  'incorrect_information',
  'missing_information',
  'incorrect_reasoning',
  'incomplete_reasoning',
  'inconsistent_answer',
  'irrelevant',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const SCORE_MIN = 0;
export const SCORE_MAX = 5;
export const DS_SYSTEM_PROMPT = 'You are a helpful and rigorous tutor.';
export const DS_PROMPT_KEY = 'digital_socrates_v1';
export const DS_PLACEHOLDERS = ['[[QUESTION]]', '[[EXPLANATION]]', '[[PREDICTEDANSWER]]', '[[ANSWERKEY]]'] as const;

/** The critique elements, with DSCB's `critique_elements` field names. */
export interface CritiqueElements {
  /** null when the critique finds no flaw */
  main_flaw: string | null;
  dimension: Dimension | null;
  general_feedback: string | null;
  specific_feedback: string | null;
  explanation_score: number;
}

export type CritiqueParse =
  | { ok: true; critique: CritiqueElements; warnings: string[] }
  | { ok: false; errors: string[]; partial: Partial<Record<keyof CritiqueElements, unknown>> };

type Field = 'main_flaw' | 'dimension' | 'general' | 'specific' | 'score';

// Markers at the start of a line, after an optional bullet ("* ", "- ", "• ").
const MARKERS: { field: Field; re: RegExp }[] = [
  { field: 'main_flaw', re: /^[ \t]*(?:[*\-•][ \t]*)?main flaw(?:[ \t]*\(standalone statement\))?[ \t]*:/gim },
  { field: 'dimension', re: /^[ \t]*(?:[*\-•][ \t]*)?dimension[ \t]*:/gim },
  { field: 'general', re: /^[ \t]*(?:[*\-•][ \t]*)?general[ \t]*:/gim },
  { field: 'specific', re: /^[ \t]*(?:[*\-•][ \t]*)?specific[ \t]*:/gim },
  { field: 'score', re: /^[ \t]*(?:[*\-•][ \t]*)?explanation score[ \t]*:/gim },
];
// Lines that end a field's text besides the next marker.
const SECTION_HEADER =
  /^[ \t]*(?:consider these points for revising the explanation|the explanation states or suggests the following)[^\n]*$/im;

const NONE_WORDS = new Set(['none', 'n/a', 'na', 'no flaw', 'no flaws', 'none.', 'n/a.', '-', '']);

/** Map a dimension as written to one of the 8 labels (case, spaces and hyphens normalised), or null if it is none. */
export function normalizeDimension(raw: string): Dimension | null | undefined {
  const s = raw
    .trim()
    .replace(/^[`"'*]+|[`"'*.,;]+$/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (NONE_WORDS.has(s) || s === 'no_flaw') return null;
  return (DIMENSIONS as readonly string[]).includes(s) ? (s as Dimension) : undefined;
}

function unquote(span: string): string {
  const t = span.trim();
  const first = t.indexOf('"');
  const last = t.lastIndexOf('"');
  if (first === 0 && last > first) return t.slice(1, last).trim();
  const cf = t.indexOf('“');
  const cl = t.lastIndexOf('”');
  if (cf === 0 && cl > cf) return t.slice(1, cl).trim();
  return t.split('\n')[0].trim();
}

/** Parse one critique. Unparseable critiques come back with `ok: false` and the reasons. */
export function parseCritique(text: string): CritiqueParse {
  const hits: { field: Field; start: number; end: number }[] = [];
  for (const m of MARKERS) {
    m.re.lastIndex = 0;
    for (const x of text.matchAll(m.re)) hits.push({ field: m.field, start: x.index!, end: x.index! + x[0].length });
  }
  hits.sort((a, b) => a.start - b.start);
  const spans = new Map<Field, string[]>();
  hits.forEach((h, i) => {
    let span = text.slice(h.end, i + 1 < hits.length ? hits[i + 1].start : text.length);
    const hdr = SECTION_HEADER.exec(span);
    if (hdr) span = span.slice(0, hdr.index);
    const l = spans.get(h.field) ?? [];
    l.push(span);
    spans.set(h.field, l);
  });
  const errors: string[] = [];
  const warnings: string[] = [];
  const partial: Partial<Record<keyof CritiqueElements, unknown>> = {};

  // explanation score: an integer 0–5 (optionally "/5" or a trailing period), all occurrences agreeing
  let score: number | undefined;
  const scoreSpans = spans.get('score') ?? [];
  if (scoreSpans.length === 0) errors.push('no "Explanation score:" line');
  const values = scoreSpans.map((s) => s.split('\n')[0].trim());
  for (const v of values) {
    const m = /^\**\s*(\d+)\s*(?:\/\s*5)?\s*\**\.?$/.exec(v);
    if (!m) {
      errors.push(`explanation score ${JSON.stringify(v)} is not an integer ${SCORE_MIN}–${SCORE_MAX}`);
      continue;
    }
    const n = parseInt(m[1], 10);
    if (n < SCORE_MIN || n > SCORE_MAX) errors.push(`explanation score ${n} is outside ${SCORE_MIN}–${SCORE_MAX}`);
    else if (score !== undefined && score !== n) errors.push(`conflicting explanation scores ${score} and ${n}`);
    else score = n;
  }
  if (score !== undefined) partial.explanation_score = score;

  // main flaw: the quoted statement (or the rest of the line); "None" means no flaw
  let mainFlaw: string | null = null;
  const flawSpans = spans.get('main_flaw') ?? [];
  if (flawSpans.length > 1) warnings.push(`${flawSpans.length} "Main flaw" lines; the first is used`);
  if (flawSpans.length > 0) {
    const f = unquote(flawSpans[0]);
    mainFlaw = NONE_WORDS.has(f.toLowerCase()) ? null : f;
    partial.main_flaw = mainFlaw;
  }

  // dimension: one of the 8 labels, on the marker's line
  let dimension: Dimension | null = null;
  const dimSpans = spans.get('dimension') ?? [];
  if (dimSpans.length > 1) warnings.push(`${dimSpans.length} "Dimension" lines; the first is used`);
  if (dimSpans.length > 0) {
    const raw = dimSpans[0].split('\n')[0];
    const d = normalizeDimension(raw);
    if (d === undefined) errors.push(`dimension ${JSON.stringify(raw.trim())} is not one of ${DIMENSIONS.join(', ')}`);
    else dimension = d;
    partial.dimension = d === undefined ? raw.trim() : d;
  }
  if (mainFlaw !== null && dimSpans.length === 0) errors.push('a main flaw is given but no "Dimension:" line');
  if (mainFlaw === null && dimension !== null) warnings.push(`dimension ${dimension} given without a main flaw`);

  const text1 = (f: Field): string | null => {
    const s = spans.get(f);
    if (!s || s.length === 0) return null;
    const t = s[0].trim();
    return t === '' ? null : t;
  };
  const general = text1('general');
  const specific = text1('specific');
  partial.general_feedback = general;
  partial.specific_feedback = specific;
  if (mainFlaw !== null && general === null && specific === null)
    warnings.push('a main flaw is given but no suggestions');

  if (errors.length > 0 || score === undefined) return { ok: false, errors, partial };
  return {
    ok: true,
    critique: {
      main_flaw: mainFlaw,
      dimension,
      general_feedback: general,
      specific_feedback: specific,
      explanation_score: score,
    },
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Prompt

export interface CritiqueTemplate {
  system: string;
  main: string;
  /** where it came from: `DSCB-prompts.json digital_socrates_v1` or ours */
  source: string;
}

/**
 * OUR stand-in for `digital_socrates_v1` (the official 10.9 kB template, in DSCB-prompts.json, could not be read
 * here; when that file sits in the dataset folder it is used instead). Same placeholders, the 8 dimensions in our
 * own words, and the output format of the released critiques.
 */
export const OURS_TEMPLATE: CritiqueTemplate = {
  source: 'ours (stand-in for DSCB-prompts.json digital_socrates_v1)',
  system: DS_SYSTEM_PROMPT,
  main: `You are given a multiple-choice question, the correct answer, and a student's explanation and answer. Critique the student's explanation.

Identify the single most significant flaw in the explanation, if there is one, as a standalone statement of what the explanation wrongly states or suggests (quote the explanation where possible). Classify the flaw by one of these dimensions:
* misunderstanding: the explanation misreads the question or the answer options.
* lack_justification: the explanation only states the answer without justifying it.
* incorrect_information: the explanation states wrong facts.
* missing_information: the explanation leaves out a fact or perspective that is needed.
* incorrect_reasoning: the explanation makes a wrong leap in its reasoning.
* incomplete_reasoning: the reasoning does not get all the way to the answer.
* inconsistent_answer: the answer does not match the conclusion of the explanation.
* irrelevant: the explanation contains irrelevant or redundant content.

Then give a general suggestion that addresses the likely misconception without giving away the answer, and a specific suggestion that steers toward the right reasoning for this question. Finally score the explanation from 0 (very wrong) to 5 (completely correct).

Use exactly this format:
The explanation states or suggests the following:
* Main flaw (standalone statement): "<flaw>"
* Dimension: <dimension>

Consider these points for revising the explanation:
* General: <general suggestion>
* Specific: <specific suggestion>

Explanation score: <0-5>

Question: [[QUESTION]]

Answer sheet: ([[ANSWERKEY]])

Student explanation:
[[EXPLANATION]]

Student answer: ([[PREDICTEDANSWER]])`,
};

/** Read `DSCB-prompts.json` ({"digital_socrates_v1": {"system", "main"}}); errors name the file. */
export function templateFromPromptsJson(json: string, file: string): CritiqueTemplate {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new Error(`${file}: malformed JSON: ${(e as Error).message}`, { cause: e });
  }
  const p = (v as Record<string, unknown> | null)?.[DS_PROMPT_KEY] as { system?: unknown; main?: unknown } | undefined;
  if (!p || typeof p.system !== 'string' || typeof p.main !== 'string') {
    throw new Error(`${file}: expected {"${DS_PROMPT_KEY}": {"system": string, "main": string}}`);
  }
  for (const ph of DS_PLACEHOLDERS) {
    if (!p.main.includes(ph)) throw new Error(`${file}: ${DS_PROMPT_KEY}.main has no ${ph} placeholder`);
  }
  return { system: p.system, main: p.main, source: `DSCB-prompts.json ${DS_PROMPT_KEY}` };
}

export interface CritiqueInput {
  /** the question with its options inline */
  question: string;
  explanation: string;
  /** the student's answer letter */
  predictedAnswer: string;
  /** the gold answer letter */
  answerKey: string;
}

/** The user prompt: plain replacement of the four placeholders (as the model cards do, in this order). */
export function fillCritiquePrompt(template: CritiqueTemplate, x: CritiqueInput): string {
  return template.main
    .split('[[QUESTION]]')
    .join(x.question)
    .split('[[EXPLANATION]]')
    .join(x.explanation)
    .split('[[PREDICTEDANSWER]]')
    .join(x.predictedAnswer)
    .split('[[ANSWERKEY]]')
    .join(x.answerKey);
}

/** The model cards' Llama-2 wrapping, typo included (`<</SYS>` with no `>` and no blank line). */
export function llama2CardPrompt(system: string, user: string): string {
  return `[INST] <<SYS>>\n${system}\n<</SYS>${user} [/INST]\n\n`;
}
