// The verifier registry: `verify(name, output, groundTruth)`, used by RLVR (which turns `verified` into its reward)
// and by evaluation. Names follow open-instruct's where a reference exists (`gsm8k`, `math`, `strict_math`,
// `ifeval`, `ifeval_old`, `flan`); RLVR rows name their verifier in the `dataset` field, matched case-insensitively
// ("MATH" -> `math`).

import { verifyFlan } from './flan.ts';
import { verifyGsm8k, verifyGsm8kCotStrict, verifyGsm8kExact, verifyGsm8kOlmes } from './gsm8k.ts';
import { verifyIfEval, verifyIfEvalLoose, verifyIfEvalOld, verifyIfEvalStrict } from './ifeval.ts';
import { verifyMath, verifyMathLenient, verifyStrictMath } from './math.ts';
import { VerifierGroundTruthError, type Verifier, type VerifyResult } from './types.ts';

export const VERIFIERS: Readonly<Record<string, { verify: Verifier; description: string }>> = {
  gsm8k: { verify: verifyGsm8k, description: 'last number (open-instruct extraction, signed), compared numerically' },
  gsm8k_exact: { verify: verifyGsm8kExact, description: 'open-instruct GSM8KVerifier exactly (string equality)' },
  gsm8k_olmes: { verify: verifyGsm8kOlmes, description: 'olmes gsm8k: last number, HF exact_match normalisation' },
  gsm8k_cot_strict: { verify: verifyGsm8kCotStrict, description: 'lm-eval gsm8k-cot strict: first "The answer is N."' },
  math: { verify: verifyMath, description: 'open-instruct flex MathVerifier: boxed, Minerva, last $...$' },
  strict_math: { verify: verifyStrictMath, description: 'Minerva "Final Answer: The final answer is X." only' },
  math_lenient: { verify: verifyMathLenient, description: 'boxed, Minerva, "the answer is", last $...$, all tried' },
  ifeval: { verify: verifyIfEval, description: 'IFEvalG format {instruction_id, kwargs}: fraction of constraints met' },
  ifeval_old: { verify: verifyIfEvalOld, description: 'Tülu 3 format {func_name, ...args}: one if_functions check' },
  ifeval_strict: { verify: verifyIfEvalStrict, description: 'IFEval row, strict (olmes)' },
  ifeval_loose: { verify: verifyIfEvalLoose, description: 'IFEval row, loose (olmes; Tülu 3 headline metric)' },
  flan: { verify: verifyFlan, description: 'text after "The answer is: ", SQuAD-normalised exact match' },
};

export const VERIFIER_NAMES: readonly string[] = Object.keys(VERIFIERS);

/** Resolve a verifier name (case-insensitive); throws an error listing the known names. */
export function getVerifier(name: string): Verifier {
  const v = typeof name === 'string' ? VERIFIERS[name.toLowerCase()] : undefined;
  if (!v) {
    throw new Error(`unknown verifier ${JSON.stringify(name)}; known verifiers: ${VERIFIER_NAMES.join(', ')}`);
  }
  return v.verify;
}

/**
 * Verify one model output against its ground truth.
 *
 * Never throws because of `output` (anything that is not a string is treated as ""). Throws
 * `VerifierGroundTruthError` for a ground truth the verifier cannot interpret, and an Error for an unknown verifier.
 */
export function verify(verifierName: string, output: unknown, groundTruth: unknown): VerifyResult {
  const fn = getVerifier(verifierName);
  const text = typeof output === 'string' ? output : '';
  try {
    return fn(text, groundTruth);
  } catch (e) {
    if (e instanceof VerifierGroundTruthError) throw e;
    // A failure that is not about the ground truth is a verifier bug; it must not end a training run.
    return { score: 0, verified: false, details: { internalError: e instanceof Error ? e.message : String(e) } };
  }
}
