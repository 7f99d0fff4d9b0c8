// The project's random generators, in one leaf module (it imports nothing from src/). Three algorithms, one per
// job, because each already fixes numbers that outputs depend on (synthetic corpora and data orders, model
// initialisation and sampling, fixtures): changing one would change every report made with the same seed.
// - `Rng` (sfc32) with named streams and permutations: the data layer.
// - `Generator` (xoshiro128**) with a checkpointable state: tensors (initialisation, sampling).
// - `mulberry32`: small fixtures (blocksworld problems, test data).
// CPython's Mersenne Twister (`src/pycompat/pyrandom.ts`) stays apart: it is a port that must match Python.
export { fmix32, hash32, unit53 } from './bits.ts';
export { Rng, permutation, shuffleU32 } from './sfc32.ts';
export { Generator } from './xoshiro128.ts';
export { mulberry32 } from './mulberry32.ts';
