// The tensor engine's public surface.
export { Tensor } from './tensor.ts';
export type { DType } from './dtype.ts';
export { ShapeError, formatShape, sizeOf, type Shape } from './shape.ts';
export { backward, noGrad, isGradEnabled, zeroGrad, type GradNode } from './autograd.ts';
export { tidy, keep } from './scope.ts';
export { clearPool } from './pool.ts';
export {
  kernels,
  setBackend,
  backendName,
  nativeAvailable,
  numThreads,
  setNumThreads,
  cpuPaths,
  setCpuPath,
  type BackendName,
  type CpuPaths,
} from './backend.ts';
export type { CpuPathName } from './native-addon.ts';
export * from './ops/index.ts';
