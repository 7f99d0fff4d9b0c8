// The backward shared by the ops that pick elements of x along one axis: max, topk and takeAlongLastAxis.
import { record } from '../autograd.ts';
import { Tensor } from '../tensor.ts';

/**
 * x seen as [outer, len, inner] and the output as [outer, k, inner]: output element (o, j, i) was taken from x at
 * (o, indices[(o·k + j)·inner + i], i).
 */
export interface PickLayout {
  outer: number;
  len: number;
  k: number;
  inner: number;
}

/**
 * Records `out` as picked from `x` by `indices` (i32, out's layout): the gradient adds each output element's
 * gradient to the element it came from, so repeated picks accumulate.
 */
export function recordPick(op: string, x: Tensor, out: Tensor, indices: Tensor, layout: PickLayout): void {
  const { outer, len, k, inner } = layout;
  const backward = ([g]: (Tensor | null)[]): Tensor[] => {
    const gx = Tensor.empty(x.shape, 'f32', true);
    const gd = gx.f32();
    const gv = g!.f32();
    const id = indices.i32();
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < inner; i++) {
          const r = (o * k + j) * inner + i;
          gd[(o * len + id[r]) * inner + i] += gv[r];
        }
      }
    }
    return [gx];
  };
  record(op, [x], [out], backward, [indices]);
}
