export {
  parseConfig,
  toHfConfig,
  ConfigError,
  SUPPORTED_MODEL_TYPES,
  type ModelConfig,
  type ModelType,
} from './config.ts';
export {
  CausalLM,
  type ForwardOptions,
  type ForwardOutput,
  type DecoderBlock,
  type BlockOutput,
  type PackedInput,
} from './decoder.ts';
export { createModel } from './families.ts';
export {
  loadModel,
  saveModel,
  initModel,
  readConfig,
  CheckpointError,
  TOKENIZER_FILES,
  type LoadOptions,
  type SaveModelOptions,
} from './checkpoint.ts';
export { isGgufPath, loadGguf, loadGgufModel, loadGgufTokenizer, readGgufConfig } from './gguf-load.ts';
export { weightAlignment, type WeightAlignment } from './weight-alignment.ts';
export { GgufError } from '../io/gguf/reader.ts';
export { hfLoadBalancingLoss } from './olmoe.ts';
export { generate, type GenerateOptions, type GenerateResult, type FinishReason } from './generate.ts';
export { sampleToken, argmax, type SamplingParams } from './sampling.ts';
export { scoreLoglikelihood, type LoglikelihoodRequest, type LoglikelihoodResult, type ScoreOptions } from './score.ts';
export {
  MemoryError,
  activationBytes,
  assertFits,
  estimateMemory,
  formatBytes,
  kvCacheBytes,
  machineMemory,
  parameterCount,
  storedDType,
  weightBytes,
  type MachineMemory,
  type MemoryEstimate,
  type MemoryPlan,
  type WeightDType,
} from './memory.ts';
