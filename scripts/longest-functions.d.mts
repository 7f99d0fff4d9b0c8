// Types of scripts/longest-functions.mjs, for test/architecture/function-length.test.ts.
export interface FunctionLength {
  name: string;
  /** 1-based line of the function's first token. */
  line: number;
  lines: number;
}
export interface LongFunction extends FunctionLength {
  /** Path relative to the root given to longFunctions, with forward slashes. */
  file: string;
}
export declare function functionLengths(text: string, fileName?: string): FunctionLength[];
export declare function longFunctions(dir: string, max?: number, root?: string): LongFunction[];
