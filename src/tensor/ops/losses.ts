// Cross-entropy from logits (fused softmax, with the log-sum-exp kept for z-loss), with ignore-index and
// mean or sum reduction as the OLMo trainers define them.
import { record } from '../autograd.ts';
import { kernels } from '../backend.ts';
import { formatShape, ShapeError } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { mul, scale, square } from './elementwise.ts';
import { sum } from './reduce.ts';

/**
 * Per-row cross-entropy and log-sum-exp of logits [..., V] against targets [...] (i32). Ignored rows have
 * loss 0. Both outputs are differentiable.
 */
export function crossEntropyRows(logits: Tensor, targets: Tensor, ignoreIndex = -100): { loss: Tensor; lse: Tensor } {
  if (logits.dtype !== 'f32' || logits.rank < 1) {
    throw new ShapeError(
      `crossEntropy: logits must be f32 [..., vocab], got ${logits.dtype}${formatShape(logits.shape)}`,
    );
  }
  const vocab = logits.shape[logits.rank - 1];
  const rowShape = logits.shape.slice(0, -1);
  if (targets.dtype !== 'i32' || targets.shape.join() !== rowShape.join()) {
    throw new ShapeError(
      `crossEntropy: targets must be i32 ${formatShape(rowShape)} for logits ${formatShape(logits.shape)}, got ${targets.dtype}${formatShape(targets.shape)}`,
    );
  }
  const rows = targets.size;
  const loss = Tensor.empty(rowShape);
  const lse = Tensor.empty(rowShape);
  kernels().crossEntropy(logits.f32(), targets.i32(), loss.f32(), lse.f32(), rows, vocab, ignoreIndex);
  record(
    'crossEntropy',
    [logits],
    [loss, lse],
    ([gLoss, gLse]) => {
      const gl = Tensor.empty(logits.shape);
      const zeros = gLoss ? null : new Float32Array(rows);
      kernels().crossEntropyBackward(
        logits.f32(),
        targets.i32(),
        lse.f32(),
        gLoss ? gLoss.f32() : zeros!,
        gLse ? gLse.f32() : null,
        gl.f32(),
        rows,
        vocab,
        ignoreIndex,
      );
      return [gl];
    },
    [targets],
  );
  return { loss, lse };
}

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  /** 'mean' over non-ignored rows (default) or 'sum'. */
  reduction?: 'mean' | 'sum';
  /** z-loss multiplier (OLMo 2: 1e-5); 0 or undefined disables it. */
  zLoss?: number;
}

export interface CrossEntropyResult {
  /** The cross-entropy, reduced. */
  loss: Tensor;
  /** zLoss · (reduced lse²) over non-ignored rows, or null. */
  zLoss: Tensor | null;
  /** Number of rows that count (not ignored). */
  count: number;
}

/** Reduced cross-entropy with optional z-loss, as OLMo-core's `cross_entropy_loss` computes them. */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): CrossEntropyResult {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? 'mean';
  const { loss, lse } = crossEntropyRows(logits, targets, ignoreIndex);
  const t = targets.i32();
  let count = 0;
  for (let i = 0; i < t.length; i++) if (t[i] !== ignoreIndex) count++;
  const divisor = reduction === 'mean' ? Math.max(count, 1) : 1;
  const total = scale(sum(loss), 1 / divisor);
  let zLoss: Tensor | null = null;
  if (opts.zLoss) {
    const mask = Tensor.empty(lse.shape);
    const m = mask.f32();
    for (let i = 0; i < t.length; i++) m[i] = t[i] === ignoreIndex ? 0 : 1;
    zLoss = scale(sum(mul(square(lse), mask)), opts.zLoss / divisor);
  }
  return { loss: total, zLoss, count };
}
