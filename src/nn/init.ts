// Parameter initialisers. OLMo 2 initialises every weight matrix from a normal with std 0.02 truncated at
// ±3σ (OLMo-core `InitMethod.normal`); norm weights start at one.
import { Generator, parameter, full, truncatedNormal, zeros, Tensor } from '../tensor/index.ts';

/** Creates a parameter of the given shape; kind 'ones' is for norm weights, 'zeros' for placeholders. */
export type Init = (shape: number[], kind?: 'weight' | 'ones' | 'zeros') => Tensor;

export function truncatedNormalInit(gen: Generator, std = 0.02): Init {
  return (shape, kind = 'weight') => {
    if (kind === 'ones') return parameter(full(shape, 1));
    if (kind === 'zeros') return parameter(zeros(shape));
    return parameter(truncatedNormal(shape, gen, std, -3, 3));
  };
}

/** Storage-less placeholders, for models whose weights are about to be loaded from a checkpoint. */
export const placeholderInit: Init = (shape) => {
  const t = Tensor.placeholder(shape);
  t.requiresGrad = true;
  return t;
};
