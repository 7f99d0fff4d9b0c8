// GSM8K answer extraction and comparison: the RLVR rule (open-instruct) and the evaluation rules (olmes,
// lm-eval), side by side.
//
// 1. open-instruct `GSM8KVerifier` (ground_truth_utils.py, https://github.com/allenai/open-instruct),
//    used for Tülu 3 RLVR:
//      response = re.sub(r"(\d),(\d)", r"\1\2", prediction)          # commas between digits
//      numbers  = re.findall(r"[-+]?\d*\.\d+|\d+", response)         # last number, else the whole text
//      correct  = str(extracted).lower() == str(label).lower()       # plain string equality
//    `gsm8k_exact` reproduces this. `gsm8k` (the default) extracts the same number but compares numerically
//    (exact decimal comparison, so "18.0" == "18", ".5" == "0.50", "+3" == "3"): the brief asks for a numeric
//    comparison, and the reference's "18.0" != "18" only punishes a formatting choice. It also reads the sign of
//    integers: the reference regex attaches `[-+]?` to decimals only, so "-5" extracts as "5" there and negative
//    integer answers never verify. `details.exactMatch` says what the reference would have decided.
// 2. olmes `gsm8k::olmes` / `gsm8k::tulu` (oe_eval/tasks/oe_eval_tasks/gsm8k.py, https://github.com/allenai/olmes):
//    the same extraction (commas between digits removed, last
//    number), then HF `exact_match` with ignore_case and regexes_to_ignore `,` `\$` `(?s).*#### ` `\.$` applied
//    to both prediction and reference. `gsm8k_olmes`.
// 3. lm-eval `gsm8k-cot` "strict-match": the first "The answer is N." (`The answer is (\-?[0-9\.\,]+).`), and
//    "flexible-extract": the last match of `(-?[$0-9.,]{2,})|(-?[0-9]+)`; then the same exact_match. The strict
//    rule is `gsm8k_cot_strict`.
//
// Where they differ: the open-instruct and olmes rules take the *last number anywhere* (so "The answer is 5. Check:
// 5 + 1 = 6" gives 6), while lm-eval strict needs the phrase and takes the *first* one; lm-eval flexible keeps "$"
// and thousands commas inside the match and strips them only in the metric ("$1,234" -> "1234"), whereas the last-
// number rule joins digit groups first ("1,234" -> "1234") but splits "1,2,3" into "12,3" -> "3" (re.sub does
// not overlap); olmes' metric strips a trailing "." and everything up to "#### " but, like open-instruct, compares
// strings, so "18.0" != "18" there too. Python `\d` is Unicode; extraction here matches any decimal digit too,
// and numeric comparison falls back to string equality for non-ASCII digits.

import { VerifierGroundTruthError, show, type VerifyResult } from './types.ts';

const COMMA_BETWEEN_DIGITS = /(\p{Nd}),(\p{Nd})/gu;
const NUMBER = /[-+]?\p{Nd}*\.\p{Nd}+|\p{Nd}+/gu;

/**
 * Signed variant used by `gsm8k`: the reference regex attaches the sign to decimals only (`[-+]?\d*\.\d+|\d+`
 * parses as `([-+]?\d*\.\d+)|(\d+)`), so "-5" gives "5" and a negative integer answer can never match. Here a
 * sign binds to integers too, when it is not preceded by a letter or digit (so "10-3" still gives "3").
 */
const SIGNED_NUMBER = /(?<![\p{L}\p{N}])[-+](?:\p{Nd}*\.\p{Nd}+|\p{Nd}+)|[-+]?\p{Nd}*\.\p{Nd}+|\p{Nd}+/gu;

/**
 * open-instruct / olmes: remove commas between digits, return the last number, or the whole text if none.
 * `signedIntegers` switches to the signed variant above.
 */
export function extractLastNumber(output: string, signedIntegers = false): { answer: string; found: boolean } {
  const response = output.replace(COMMA_BETWEEN_DIGITS, '$1$2');
  let last: string | null = null;
  for (const m of response.matchAll(signedIntegers ? SIGNED_NUMBER : NUMBER)) last = m[0];
  return last === null ? { answer: response, found: false } : { answer: last, found: true };
}

/** lm-eval gsm8k-cot "strict-match": the first `The answer is N.`; null when absent. */
export function extractAnswerIsStrict(output: string): string | null {
  const m = /The answer is (-?[0-9.,]+)[^\n]/.exec(output);
  return m ? m[1]! : null;
}

/** lm-eval gsm8k-cot "flexible-extract": the last `(-?[$0-9.,]{2,})|(-?[0-9]+)`; null when absent. */
export function extractFlexible(output: string): string | null {
  let last: string | null = null;
  for (const m of output.matchAll(/(-?[$0-9.,]{2,})|(-?[0-9]+)/g)) last = m[1] ?? m[2] ?? null;
  return last;
}

/** HF `exact_match` normalisation as configured for GSM8K in olmes and lm-eval (ignore_case, regexes_to_ignore). */
export function gsm8kEmNormalize(s: string): string {
  return s
    .replace(/,/g, '')
    .replace(/\$/g, '')
    .replace(/^[\s\S]*#### /, '')
    .replace(/\.(?=\n?$)/, '')
    .toLowerCase();
}

/** A decimal number in canonical form ("-0012.500" -> "-12.5"), or null if `s` is not a plain decimal number. */
export function canonicalDecimal(s: string): string | null {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m) return null;
  const intPart = (m[2] ?? '').replace(/^0+/, '');
  const fracPart = (m[3] ?? '').replace(/0+$/, '');
  if ((m[2] ?? '') === '' && (m[3] ?? '') === '') return null;
  const body = `${intPart === '' ? '0' : intPart}${fracPart === '' ? '' : `.${fracPart}`}`;
  return body === '0' ? '0' : `${m[1] === '-' ? '-' : ''}${body}`;
}

/**
 * Ground truth for GSM8K: a number ("1234", "-3", "2.5"), optionally written with thousands separators, a leading
 * "$", or as a full GSM8K solution ending in "#### N". Returns the number as written after that cleanup.
 */
export function parseGsm8kGroundTruth(verifier: string, groundTruth: unknown): string {
  let s: string;
  if (typeof groundTruth === 'number' && Number.isFinite(groundTruth)) s = String(groundTruth);
  else if (typeof groundTruth === 'string') s = groundTruth;
  else if (Array.isArray(groundTruth) && groundTruth.length === 1)
    return parseGsm8kGroundTruth(verifier, groundTruth[0]);
  else throw new VerifierGroundTruthError(verifier, `expected a number or a numeric string, got ${show(groundTruth)}`);
  const hash = s.lastIndexOf('####');
  if (hash >= 0) s = s.slice(hash + 4);
  s = s
    .trim()
    .replace(/^\$/, '')
    .replace(/(\d),(?=\d)/g, '$1')
    .replace(/\.$/, '')
    .trim();
  if (canonicalDecimal(s) === null)
    throw new VerifierGroundTruthError(verifier, `expected a number (e.g. "1234", "-2.5"), got ${show(groundTruth)}`);
  return s;
}

/** `gsm8k`: last number (open-instruct extraction), compared numerically with the ground truth. */
export function verifyGsm8k(output: string, groundTruth: unknown): VerifyResult {
  const gt = parseGsm8kGroundTruth('gsm8k', groundTruth);
  const { answer, found } = extractLastNumber(output, true);
  const exactMatch = extractLastNumber(output).answer.toLowerCase() === gt.toLowerCase();
  const a = found ? canonicalDecimal(answer) : null;
  const verified = exactMatch || (a !== null && a === canonicalDecimal(gt));
  return {
    score: verified ? 1 : 0,
    verified,
    details: { extracted: found ? answer : null, groundTruth: gt, exactMatch },
  };
}

/** `gsm8k_exact`: open-instruct's GSM8KVerifier exactly (string equality, so "18.0" != "18"). */
export function verifyGsm8kExact(output: string, groundTruth: unknown): VerifyResult {
  const label =
    typeof groundTruth === 'string' ? groundTruth : typeof groundTruth === 'number' ? String(groundTruth) : null;
  if (label === null) throw new VerifierGroundTruthError('gsm8k_exact', `expected a string, got ${show(groundTruth)}`);
  const { answer, found } = extractLastNumber(output);
  const verified = answer.toLowerCase() === label.toLowerCase();
  return { score: verified ? 1 : 0, verified, details: { extracted: found ? answer : null, groundTruth: label } };
}

/** `gsm8k_olmes`: olmes' extraction (last number) and HF exact_match normalisation, as in `gsm8k::olmes`. */
export function verifyGsm8kOlmes(output: string, groundTruth: unknown): VerifyResult {
  const gt = parseGsm8kGroundTruth('gsm8k_olmes', groundTruth);
  const { answer, found } = extractLastNumber(output);
  const verified = gsm8kEmNormalize(answer) === gsm8kEmNormalize(gt);
  return { score: verified ? 1 : 0, verified, details: { extracted: found ? answer : null, groundTruth: gt } };
}

/** `gsm8k_cot_strict`: lm-eval's strict "The answer is N." then HF exact_match normalisation. */
export function verifyGsm8kCotStrict(output: string, groundTruth: unknown): VerifyResult {
  const gt = parseGsm8kGroundTruth('gsm8k_cot_strict', groundTruth);
  const answer = extractAnswerIsStrict(output);
  const verified = answer !== null && gsm8kEmNormalize(answer) === gsm8kEmNormalize(gt);
  return { score: verified ? 1 : 0, verified, details: { extracted: answer, groundTruth: gt } };
}
