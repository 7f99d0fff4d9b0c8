// δ-Rules-of-Thumb: defeasible-inference generation, a critic judge through any backend, diversity (OUR protocol).
export * from './tasks.ts';
export { parseTsv, readTsv, TsvError } from './tsv.ts';
