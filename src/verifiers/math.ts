// MATH verifiers, after open-instruct `MathVerifier` ("flex") and `StrictMathVerifier` (ground_truth_utils.py and
// math_utils.py, https://github.com/allenai/open-instruct).
//
// `math` (flex) collects candidates in order:
//   1. the content of the last `\boxed{...}` (brace-matched; `\fbox{...}` too — the reference finds it but its
//      `remove_boxed` then rejects it; looking for it shows the intent, so it is accepted here);
//   2. the Minerva answer ("Final Answer: The final answer is X. I hope it is correct."), normalised by
//      `normalize_final_answer`;
//   3. only if there is still no candidate: the text between the last two `$`, normalised;
//   4. otherwise the normalised whole output and the raw output.
// A candidate matches when the sympy check or Hendrycks' `is_equiv` says so. There is no sympy in TypeScript: the
// sympy check is `latexEquivalent` (exact rationals / numeric agreement, see math/latex-eval.ts), which covers the
// cases the reference's sympy check adds over the string check (0.5 vs \frac{1}{2} vs 1/2, 2\sqrt{2} vs \sqrt{8},
// x+1 vs 1+x), and fails (like a sympy parse error) on what it cannot read.
// `strict_math`: the Minerva answer only, else the normalised whole output.
// `math_lenient` (not in the reference): boxed, Minerva, "the answer is X", and the last `$...$` span are all
// candidates, each compared both raw and normalised.

import { extractAnswerIs, extractBoxed, extractLastDollarSpan, extractMinervaAnswer } from './math/extract.ts';
import { latexEquivalent } from './math/latex-eval.ts';
import { hendrycksIsEquiv, normalizeFinalAnswer } from './math/normalize.ts';
import { VerifierGroundTruthError, show, type VerifyResult } from './types.ts';

export {
  extractAnswerIs,
  extractBoxed,
  extractLastDollarSpan,
  extractMinervaAnswer,
  lastBoxedOnlyString,
  removeBoxed,
} from './math/extract.ts';
export { hendrycksIsEquiv, normalizeFinalAnswer, stripString } from './math/normalize.ts';
export { latexEquivalent, parseLatexExpr } from './math/latex-eval.ts';

/** Candidate equivalence as in the reference: the (stand-in) sympy check or Hendrycks' string check. */
export function mathAnswersEquivalent(candidate: string, groundTruth: string): boolean {
  return latexEquivalent(candidate, groundTruth) || hendrycksIsEquiv(candidate, groundTruth);
}

function groundTruthString(verifier: string, gt: unknown): string {
  if (typeof gt === 'string') {
    if (gt.trim() === '') throw new VerifierGroundTruthError(verifier, 'expected a non-empty answer string, got ""');
    return gt;
  }
  if (typeof gt === 'number' && Number.isFinite(gt)) return String(gt);
  if (Array.isArray(gt) && gt.length === 1) return groundTruthString(verifier, gt[0]);
  throw new VerifierGroundTruthError(verifier, `expected an answer string (e.g. "\\frac{1}{2}"), got ${show(gt)}`);
}

/** The candidate answers of open-instruct's flex MathVerifier, in order, with where each came from. */
export function mathFlexCandidates(output: string): Array<{ source: string; answer: string }> {
  const out: Array<{ source: string; answer: string }> = [];
  const boxed = extractBoxed(output);
  if (boxed !== null) out.push({ source: 'boxed', answer: boxed });
  const minerva = extractMinervaAnswer(output);
  if (minerva !== null) out.push({ source: 'minerva', answer: normalizeFinalAnswer(minerva) });
  if (out.length === 0) {
    const span = extractLastDollarSpan(output);
    if (span !== null) out.push({ source: 'last_dollar_span', answer: normalizeFinalAnswer(span) });
  }
  if (out.length === 0) {
    out.push({ source: 'normalized_output', answer: normalizeFinalAnswer(output) });
    out.push({ source: 'raw_output', answer: output });
  }
  return out;
}

function judge(candidates: Array<{ source: string; answer: string }>, gt: string): VerifyResult {
  for (const c of candidates) {
    if (mathAnswersEquivalent(c.answer, gt)) {
      return { score: 1, verified: true, details: { matched: c, candidates: clip(candidates), groundTruth: gt } };
    }
  }
  return { score: 0, verified: false, details: { matched: null, candidates: clip(candidates), groundTruth: gt } };
}

function clip(cs: Array<{ source: string; answer: string }>): Array<{ source: string; answer: string }> {
  return cs.map((c) => (c.answer.length > 200 ? { source: c.source, answer: `${c.answer.slice(0, 200)}…` } : c));
}

/** `math`: open-instruct's flex MathVerifier. */
export function verifyMath(output: string, groundTruth: unknown): VerifyResult {
  return judge(mathFlexCandidates(output), groundTruthString('math', groundTruth));
}

/** `strict_math`: the Minerva answer only (else the normalised whole output). */
export function verifyStrictMath(output: string, groundTruth: unknown): VerifyResult {
  const gt = groundTruthString('strict_math', groundTruth);
  const minerva = extractMinervaAnswer(output);
  const cands =
    minerva !== null
      ? [{ source: 'minerva', answer: normalizeFinalAnswer(minerva) }]
      : [{ source: 'normalized_output', answer: normalizeFinalAnswer(output) }];
  return judge(cands, gt);
}

/** `math_lenient`: every extraction route, each raw and normalised. */
export function verifyMathLenient(output: string, groundTruth: unknown): VerifyResult {
  const gt = groundTruthString('math_lenient', groundTruth);
  const cands: Array<{ source: string; answer: string }> = [];
  const push = (source: string, a: string | null): void => {
    if (a === null) return;
    cands.push({ source, answer: a });
    const n = normalizeFinalAnswer(a);
    if (n !== a) cands.push({ source: `${source}_normalized`, answer: n });
  };
  push('boxed', extractBoxed(output));
  push('minerva', extractMinervaAnswer(output));
  push('answer_is', extractAnswerIs(output));
  push('last_dollar_span', extractLastDollarSpan(output));
  if (cands.length === 0) push('output', output);
  return judge(cands, gt);
}
