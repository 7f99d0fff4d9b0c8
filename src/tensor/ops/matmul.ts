// Matrix multiplication: batched, with the second operand optionally transposed (`x @ Wᵀ`, as a Linear layer
// stores W as [out, in]). Batch dimensions must match, or one side is a plain matrix shared by every batch.
import { record } from '../autograd.ts';
import { kernels } from '../backend.ts';
import { formatShape, ShapeError, sizeOf } from '../shape.ts';
import { Tensor } from '../tensor.ts';
import { compactLinear, compactLinearGroup, isCompactWeight, MAX_GROUP_WEIGHTS } from './weight-linear.ts';

export interface MatmulOptions {
  /** Treat b's last two axes as [N, K] (multiply by bᵀ). */
  transposeB?: boolean;
}

interface Plan {
  batch: number;
  m: number;
  n: number;
  k: number;
  aShared: boolean;
  bShared: boolean;
  outShape: number[];
}

function plan(a: Tensor, b: Tensor, transB: boolean): Plan {
  const err = (why: string) =>
    new ShapeError(
      `matmul: cannot multiply ${formatShape(a.shape)} by ${formatShape(b.shape)}${transB ? 'ᵀ' : ''}: ${why}`,
    );
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw err(`operands must be f32 (got ${a.dtype} and ${b.dtype})`);
  if (a.rank < 2 || b.rank < 2) throw err('both operands need at least 2 dimensions');
  const m = a.shape[a.rank - 2];
  const ka = a.shape[a.rank - 1];
  const kb = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  const n = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  if (ka !== kb) throw err(`inner dimensions ${ka} and ${kb} differ`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  let batchShape: readonly number[];
  let aShared = false;
  let bShared = false;
  if (bBatch.length === 0) {
    batchShape = aBatch;
    bShared = aBatch.length > 0;
  } else if (aBatch.length === 0) {
    batchShape = bBatch;
    aShared = true;
  } else if (aBatch.join() === bBatch.join()) {
    batchShape = aBatch;
  } else {
    throw err(`batch dimensions ${formatShape(aBatch)} and ${formatShape(bBatch)} differ`);
  }
  return { batch: sizeOf(batchShape), m, n, k: ka, aShared, bShared, outShape: [...batchShape, m, n] };
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transB = opts.transposeB ?? false;
  const p = plan(a, b, transB);
  const { batch, m, n, k } = p;
  const out = Tensor.empty(p.outShape);
  kernels().gemm(
    a.f32(),
    b.f32(),
    out.f32(),
    batch,
    m,
    n,
    k,
    false,
    transB,
    p.aShared ? 0 : m * k,
    p.bShared ? 0 : n * k,
    m * n,
    false,
  );
  record('matmul', [a, b], [out], ([g]) => {
    const gc = g!.f32();
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = dC · op(B)ᵀ. A shared across the batch sums the per-batch products (accumulate).
      ga = Tensor.empty(a.shape, 'f32', p.aShared);
      if (p.aShared) {
        for (let i = 0; i < batch; i++) {
          kernels().gemm(
            gc.subarray(i * m * n),
            b.f32().subarray(i * n * k),
            ga.f32(),
            1,
            m,
            k,
            n,
            false,
            !transB,
            0,
            0,
            0,
            true,
          );
        }
      } else {
        kernels().gemm(
          gc,
          b.f32(),
          ga.f32(),
          batch,
          m,
          k,
          n,
          false,
          !transB,
          m * n,
          p.bShared ? 0 : n * k,
          m * k,
          false,
        );
      }
    }
    if (b.requiresGrad) {
      gb = Tensor.empty(b.shape, 'f32', p.bShared);
      if (p.bShared) {
        // B shared: dB sums over the batch, which is one GEMM over the flattened (batch·M) rows.
        if (transB) kernels().gemm(gc, a.f32(), gb.f32(), 1, n, k, batch * m, true, false, 0, 0, 0, false);
        else kernels().gemm(a.f32(), gc, gb.f32(), 1, k, n, batch * m, true, false, 0, 0, 0, false);
      } else if (transB) {
        // B stored [N, K]: dB = dCᵀ · A
        kernels().gemm(gc, a.f32(), gb.f32(), batch, n, k, m, true, false, m * n, p.aShared ? 0 : m * k, n * k, false);
      } else {
        // dB = Aᵀ · dC
        kernels().gemm(a.f32(), gc, gb.f32(), batch, k, n, m, true, false, p.aShared ? 0 : m * k, m * n, n * k, false);
      }
    }
    return [ga, gb];
  });
  return out;
}

/** A Linear layer's product x · Wᵀ for W stored [out, in] (no bias: OLMo has none). */
export function linear(x: Tensor, weight: Tensor): Tensor {
  if (isCompactWeight(weight)) return compactLinear(x, weight); // bf16 / f16 / q8_0 inference weights
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be [out, in], got ${formatShape(weight.shape)}`);
  return matmul(x, weight, { transposeB: true });
}

/**
 * x · Wᵢᵀ for several weights at once (a layer's q/k/v or gate/up projections): linear's result for each; with an
 * array for x, xᵢ · Wᵢᵀ (one input per weight, all of one shape). Compact inference weights of one dtype and width
 * multiply in one kernel call (compactLinearGroup: the threads share the matrices' rows as one job, and a shared x
 * is prepared once); any other mix runs linear on each.
 */
export function linearGroup(x: Tensor | readonly Tensor[], weights: readonly Tensor[]): Tensor[] {
  const [first] = weights;
  const inputs = Array.isArray(x) ? (x as readonly Tensor[]) : null;
  if (inputs && inputs.length !== weights.length)
    throw new ShapeError(`linear: ${inputs.length} inputs for ${weights.length} weights (one input per weight)`);
  const grouped =
    weights.length > 1 &&
    weights.length <= MAX_GROUP_WEIGHTS &&
    (!inputs || inputs.every((t) => t.shape.join() === inputs[0].shape.join())) &&
    weights.every(
      (w) => isCompactWeight(w) && w.dtype === first.dtype && w.rank === 2 && w.shape[1] === first.shape[1],
    );
  if (grouped) return compactLinearGroup(x, weights);
  return weights.map((w, i) => linear(inputs ? inputs[i] : (x as Tensor), w));
}
