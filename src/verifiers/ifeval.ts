// IFEval verifiers for RLVR and evaluation.
//
// - `ifeval` (open-instruct `IFEvalVerifier`, IFEvalG format): ground truth `{"instruction_id": [...], "kwargs":
//   [...]}` (or a list holding one such object, or its JSON/Python-literal string, as the reference's
//   `ast.literal_eval(label)[0]`); score = fraction of instructions followed (strict check on the response with any
//   `<think>...</think>` section removed); verified when all are followed. Empty output scores 0.
// - `ifeval_old` (open-instruct `IFEvalVerifierOld`, the Tülu 3 RLVR format): ground truth `{"func_name": ...,
//   <args>}` (object or JSON string); one of the 25 `if_functions.py` checks; null-valued args dropped.
// - `ifeval_strict` / `ifeval_loose` (olmes `ifeval::tulu`): ground truth is an IFEval row `{"instruction_id_list":
//   [...], "kwargs": [...], "prompt"?: ...}`; score = instruction-level accuracy, verified = prompt-level
//   (all instructions followed). `details.followList` has the per-instruction booleans.

import { IfEvalArgError, type Kwargs } from './ifeval/args.ts';
import { bindIfFunction, IfFunctionArgError } from './ifeval/if-functions.ts';
import { buildInstruction, evaluateIfEval, type IfEvalPrompt } from './ifeval/registry.ts';
import { pyStrip } from './py.ts';
import { VerifierGroundTruthError, show, type VerifyResult } from './types.ts';

/** open-instruct `remove_thinking_section`. */
export function removeThinkingSection(prediction: string): string {
  let p = pyStrip(prediction.split('<|assistant|>').join(''));
  const parts = p.split('</think>');
  p = parts[parts.length - 1]!;
  p = p.split('<answer>').join('').split('</answer>').join('');
  return pyStrip(p);
}

function parseJsonish(verifier: string, gt: unknown): unknown {
  if (typeof gt !== 'string') return gt;
  try {
    return JSON.parse(gt);
  } catch {
    // Python literal (the reference uses ast.literal_eval for `ifeval`): single quotes, None/True/False.
    try {
      const j = gt
        .replace(/'((?:[^'\\]|\\.)*)'/g, (_m, inner: string) => JSON.stringify(inner.replace(/\\'/g, "'")))
        .replace(/\bNone\b/g, 'null')
        .replace(/\bTrue\b/g, 'true')
        .replace(/\bFalse\b/g, 'false');
      return JSON.parse(j);
    } catch {
      throw new VerifierGroundTruthError(
        verifier,
        `ground truth string is neither JSON nor a Python literal: ${show(gt)}`,
      );
    }
  }
}

function rethrow(verifier: string, e: unknown): never {
  if (e instanceof IfEvalArgError || e instanceof IfFunctionArgError)
    throw new VerifierGroundTruthError(verifier, e.message);
  throw e;
}

function asKwargsList(verifier: string, v: unknown, n: number): Array<Kwargs | null> {
  if (v === undefined || v === null) return Array.from({ length: n }, () => null);
  if (!Array.isArray(v) || v.length !== n)
    throw new VerifierGroundTruthError(
      verifier,
      `'kwargs' must be a list with one entry per instruction (${n}), got ${show(v)}`,
    );
  return v as Array<Kwargs | null>;
}

function asIdList(verifier: string, v: unknown, field: string): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string'))
    throw new VerifierGroundTruthError(
      verifier,
      `'${field}' must be a non-empty list of instruction ids, got ${show(v)}`,
    );
  return v as string[];
}

/** `ifeval`: IFEvalG format, fraction of constraints met. */
export function verifyIfEval(output: string, groundTruth: unknown): VerifyResult {
  let gt = parseJsonish('ifeval', groundTruth);
  if (Array.isArray(gt)) gt = gt[0];
  if (typeof gt === 'string') gt = parseJsonish('ifeval', gt);
  if (typeof gt !== 'object' || gt === null)
    throw new VerifierGroundTruthError(
      'ifeval',
      `expected {"instruction_id": [...], "kwargs": [...]}, got ${show(groundTruth)}`,
    );
  const o = gt as Record<string, unknown>;
  const ids = asIdList('ifeval', o['instruction_id'] ?? o['instruction_id_list'], 'instruction_id');
  const kwargs = asKwargsList(
    'ifeval',
    Array.isArray(o['kwargs']) || o['kwargs'] == null ? o['kwargs'] : [o['kwargs']],
    ids.length,
  );
  let checks: Array<(r: string) => boolean>;
  try {
    checks = ids.map((id, i) => buildInstruction(id, kwargs[i]));
  } catch (e) {
    rethrow('ifeval', e);
  }
  const answer = removeThinkingSection(output);
  if (output.length === 0 || answer.length === 0) {
    return { score: 0, verified: false, details: { instructions: ids, followList: ids.map(() => false), empty: true } };
  }
  const followList = checks.map((c) => pyStrip(output) !== '' && c(answer));
  const score = followList.filter(Boolean).length / followList.length;
  return { score, verified: score === 1, details: { instructions: ids, followList } };
}

/** `ifeval_old`: the Tülu 3 `func_name` format. */
export function verifyIfEvalOld(output: string, groundTruth: unknown): VerifyResult {
  const gt = parseJsonish('ifeval_old', groundTruth);
  if (typeof gt !== 'object' || gt === null || Array.isArray(gt))
    throw new VerifierGroundTruthError('ifeval_old', `expected {"func_name": ..., <args>}, got ${show(groundTruth)}`);
  const { func_name: funcName, ...rest } = gt as Record<string, unknown>;
  if (typeof funcName !== 'string')
    throw new VerifierGroundTruthError('ifeval_old', `missing 'func_name' (a string) in ${show(groundTruth)}`);
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) args[k] = v;
  let check: (t: string) => boolean;
  try {
    check = bindIfFunction(funcName, args);
  } catch (e) {
    rethrow('ifeval_old', e);
  }
  // The reference passes the raw prediction when the constraint has no other keys, else the cleaned answer.
  const text = Object.keys(rest).length === 0 ? output : removeThinkingSection(output);
  let ok: boolean;
  try {
    ok = check(text);
  } catch {
    ok = false;
  }
  return { score: ok ? 1 : 0, verified: ok, details: { funcName, args } };
}

function parseIfEvalRow(verifier: string, groundTruth: unknown): IfEvalPrompt {
  const gt = parseJsonish(verifier, groundTruth);
  if (typeof gt !== 'object' || gt === null || Array.isArray(gt))
    throw new VerifierGroundTruthError(
      verifier,
      `expected an IFEval row {"instruction_id_list": [...], "kwargs": [...]}, got ${show(groundTruth)}`,
    );
  const o = gt as Record<string, unknown>;
  const ids = asIdList(verifier, o['instruction_id_list'] ?? o['instruction_id'], 'instruction_id_list');
  const kwargs = asKwargsList(verifier, o['kwargs'], ids.length);
  const prompt = typeof o['prompt'] === 'string' ? o['prompt'] : undefined;
  return prompt === undefined ? { instruction_id_list: ids, kwargs } : { instruction_id_list: ids, kwargs, prompt };
}

function ifevalEval(verifier: string, mode: 'strict' | 'loose', output: string, groundTruth: unknown): VerifyResult {
  const row = parseIfEvalRow(verifier, groundTruth);
  let res: ReturnType<typeof evaluateIfEval>;
  try {
    res = evaluateIfEval(row, output);
  } catch (e) {
    rethrow(verifier, e);
  }
  const r = res[mode];
  const score = r.followList.filter(Boolean).length / r.followList.length;
  return { score, verified: r.followAll, details: { instructions: row.instruction_id_list, followList: r.followList } };
}

/** `ifeval_strict`: olmes strict evaluation of one IFEval row. */
export function verifyIfEvalStrict(output: string, groundTruth: unknown): VerifyResult {
  return ifevalEval('ifeval_strict', 'strict', output, groundTruth);
}

/** `ifeval_loose`: olmes loose evaluation of one IFEval row (the Tülu 3 headline metric). */
export function verifyIfEvalLoose(output: string, groundTruth: unknown): VerifyResult {
  return ifevalEval('ifeval_loose', 'loose', output, groundTruth);
}
