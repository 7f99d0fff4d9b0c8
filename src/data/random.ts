// The data layer's deterministic randomness (sfc32 streams named by seed and purpose, seeded permutations) lives
// in the project's one random module, src/random; the data files import it through this name.
export { hash32, permutation, Rng, shuffleU32 } from '../random/index.ts';
