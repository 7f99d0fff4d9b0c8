// Answer verifiers shared by RLVR and evaluation: GSM8K, MATH, IFEval (and FLAN), with a registry.
// Pure TypeScript, no model code, no dependencies.

export { verify, getVerifier, VERIFIERS, VERIFIER_NAMES } from './registry.ts';
export { VerifierGroundTruthError, type Verifier, type VerifyResult } from './types.ts';
export {
  canonicalDecimal,
  extractAnswerIsStrict,
  extractFlexible,
  extractLastNumber,
  gsm8kEmNormalize,
  verifyGsm8k,
  verifyGsm8kCotStrict,
  verifyGsm8kExact,
  verifyGsm8kOlmes,
} from './gsm8k.ts';
export {
  extractAnswerIs,
  extractBoxed,
  extractLastDollarSpan,
  extractMinervaAnswer,
  hendrycksIsEquiv,
  lastBoxedOnlyString,
  latexEquivalent,
  mathAnswersEquivalent,
  mathFlexCandidates,
  normalizeFinalAnswer,
  parseLatexExpr,
  removeBoxed,
  stripString,
  verifyMath,
  verifyMathLenient,
  verifyStrictMath,
} from './math.ts';
export {
  removeThinkingSection,
  verifyIfEval,
  verifyIfEvalLoose,
  verifyIfEvalOld,
  verifyIfEvalStrict,
} from './ifeval.ts';
export {
  buildInstruction,
  evaluateIfEval,
  INSTRUCTION_IDS,
  looseVariants,
  type IfEvalPrompt,
} from './ifeval/registry.ts';
export { IF_FUNCTION_NAMES } from './ifeval/if-functions.ts';
export { countSentences, countWords, detectLanguage, splitIntoSentences, wordTokenize } from './ifeval/util.ts';
export { squadNormalize, verifyFlan } from './flan.ts';
