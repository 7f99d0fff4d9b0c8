// Reference cross-entropy from logits (forward and backward): plain loops, float64 throughout.
import type { F32, I32, LossKernels } from '../types.ts';
import { checkSize, fail } from './check.ts';

function checkArray(kernel: string, name: string, a: unknown, need: number, i32 = false): void {
  const ok = i32 ? a instanceof Int32Array : a instanceof Float32Array;
  if (!ok) fail(kernel, `argument '${name}' must be a${i32 ? 'n Int32Array' : ' Float32Array'}`);
  const len = (a as F32 | I32).length;
  if (len < need) fail(kernel, `argument '${name}' has ${len} elements, needs at least ${need}`);
}

function checkTargets(kernel: string, targets: I32, rows: number, vocab: number, ignoreIndex: number): void {
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex))
    fail(kernel, `argument 'ignoreIndex' must be an integer, got ${String(ignoreIndex)}`);
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t !== ignoreIndex && (t < 0 || t >= vocab))
      throw new RangeError(
        `js ${kernel}: targets[${r}] = ${t} is outside [0, vocab=${vocab}) and is not ignoreIndex (${ignoreIndex})`,
      );
  }
}

/** log Σ exp(x[b..b+vocab)), stable; −Infinity for a row of −Infinity (or an empty row). */
function logSumExp(x: F32, b: number, vocab: number): number {
  let m = -Infinity;
  for (let j = 0; j < vocab; j++) m = Math.max(m, x[b + j]);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < vocab; j++) s += Math.exp(x[b + j] - m);
  return m + Math.log(s);
}

/** The sizes, the logits [rows, vocab] and the targets [rows] both cross-entropy kernels take. */
function checkLogitsAndTargets(k: string, logits: F32, targets: I32, rows: number, vocab: number): void {
  checkSize(k, 'rows', rows);
  checkSize(k, 'vocab', vocab);
  checkArray(k, 'logits', logits, rows * vocab);
  checkArray(k, 'targets', targets, rows, true);
}

export const jsLosses: LossKernels = {
  crossEntropy(logits, targets, loss, lse, rows, vocab, ignoreIndex) {
    const k = 'crossEntropy';
    checkLogitsAndTargets(k, logits, targets, rows, vocab);
    checkArray(k, 'loss', loss, rows);
    checkArray(k, 'lse', lse, rows);
    checkTargets(k, targets, rows, vocab, ignoreIndex);
    for (let r = 0; r < rows; r++) {
      const l = logSumExp(logits, r * vocab, vocab);
      lse[r] = l;
      loss[r] = targets[r] === ignoreIndex ? 0 : l - logits[r * vocab + targets[r]];
    }
  },

  crossEntropyBackward(logits, targets, lse, gLoss, gLse, gLogits, rows, vocab, ignoreIndex) {
    const k = 'crossEntropyBackward';
    checkLogitsAndTargets(k, logits, targets, rows, vocab);
    checkArray(k, 'lse', lse, rows);
    checkArray(k, 'gLoss', gLoss, rows);
    if (gLse !== null) checkArray(k, 'gLse', gLse, rows);
    checkArray(k, 'gLogits', gLogits, rows * vocab);
    checkTargets(k, targets, rows, vocab, ignoreIndex);
    for (let r = 0; r < rows; r++) {
      const b = r * vocab;
      const ignored = targets[r] === ignoreIndex;
      const gl = ignored ? 0 : gLoss[r];
      const c = gl + (gLse === null ? 0 : gLse[r]);
      const t = ignored ? -1 : targets[r];
      const xt = ignored ? 0 : logits[b + t]; // read first: gLogits may alias logits
      for (let j = 0; j < vocab; j++) gLogits[b + j] = Math.exp(logits[b + j] - lse[r]) * c;
      if (!ignored) gLogits[b + t] = Math.exp(xt - lse[r]) * c - gl;
    }
  },
};
