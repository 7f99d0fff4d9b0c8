// Seeded token ids for the llm benchmark's prompts, the same for olmo-ts and llama.cpp (bench/llm.ts and
// bench/llama-cpp.ts each import only this, so neither child process loads the other's runtime).
export function randomIds(n: number, vocab: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0), s % vocab));
}
