// Shared shapes of the verifiers: what a verifier returns and the error raised for bad ground truth.
//
// Contract: model output never makes a verifier throw (it only fails verification); a ground truth that cannot be
// interpreted throws `VerifierGroundTruthError`, whose message names the verifier, the field, the expected and the
// actual value.

/** The result of one verification. `score` is in [0, 1]; `verified` is what RLVR turns into its reward. */
export interface VerifyResult {
  /** 1 when verified, 0 when not; IFEval multi-constraint verifiers give the fraction of constraints met. */
  score: number;
  /** True when the output is judged correct (for IFEval: every constraint met). */
  verified: boolean;
  /** What was extracted and compared, per verifier; meant for logs and debugging, not for control flow. */
  details: Record<string, unknown>;
}

/** A verifier: model output and ground truth in, a verdict out. Must not throw on any `output`. */
export type Verifier = (output: string, groundTruth: unknown) => VerifyResult;

/** Thrown when a ground truth (or instruction kwargs) cannot be interpreted. Never thrown because of model output. */
export class VerifierGroundTruthError extends Error {
  constructor(
    readonly verifier: string,
    message: string,
  ) {
    super(`verifier '${verifier}': bad ground truth: ${message}`);
    this.name = 'VerifierGroundTruthError';
  }
}

/** Short, printable form of a value for error messages (never huge). */
export function show(value: unknown, max = 120): string {
  let s: string;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
