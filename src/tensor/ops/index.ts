export * from './create.ts';
export * from './elementwise.ts';
export * from './matmul.ts';
export * from './reduce.ts';
export * from './shape.ts';
export * from './indexing.ts';
export * from './nn.ts';
export * from './losses.ts';
export * from './cast.ts';
export {
  compactLinear,
  compactLinearGroup,
  compactEmbedding,
  inferenceWeight,
  isCompactWeight,
  q8Weight,
  q8Parts,
  q8FromBlocks,
  quantizeWeight,
  widenRows,
  Q8_BLOCK,
  bf16FastMode,
  setBf16Fast,
  int8FastMode,
  setInt8Fast,
} from './weight-linear.ts';
export { ropeInvFreq } from './rope-freq.ts';
