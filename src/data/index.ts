// Data: documents → OLMo token files, fixed-length datasets, mixtures and stages, the embedded synthetic corpus.
export {
  type DolmaDocument,
  type MalformedLine,
  type TokenizerSpec,
  fallbackSourceName,
  parseDocumentLine,
  readLineChunks,
  resolveTokenizer,
} from './documents.ts';
export {
  TOKEN_FILE_FORMAT,
  TokenFile,
  dtypeBytes,
  dtypeForVocab,
  encodeTokens,
  expandTokenPaths,
  metadataPathFor,
  readTokenFileMetadata,
  type TokenDtype,
  type TokenFileMetadata,
} from './token-file.ts';
export {
  TokenizerPool,
  invalidUtf8Message,
  tokenize,
  type InvalidUtf8Document,
  type TokenizeOptions,
  type TokenizeProgress,
  type TokenizeResult,
  type TokenizerPoolOptions,
} from './tokenize.ts';
export { FslDataset, type FslDatasetOptions, type FslFileInfo } from './dataset.ts';
export {
  DataLoader,
  StageInstances,
  apportion,
  validationBatches,
  type Batch,
  type DataLoaderOptions,
  type DataPosition,
  type SourceSelection,
} from './mixture.ts';
export {
  dataConfigSchema,
  formatIssues,
  mixSourceSchema,
  parseDataConfig,
  stageDataSchema,
  type DataConfig,
  type DataConfigInput,
  type MixSource,
  type StageData,
} from './config.ts';
export { Rng, hash32, permutation, shuffleU32 } from './random.ts';
export {
  SYNTH_VERSION,
  synthesize,
  buildWorld,
  type SynthManifest,
  type SynthesizeOptions,
  type ChatMessage as SynthChatMessage,
  type DpoRow,
  type GsmRow,
  type McRow,
  type RlvrRow,
  type SftRow,
  type World,
  type Fact,
} from './synth/index.ts';
