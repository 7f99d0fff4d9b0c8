// Evaluation backends: `LocalBackend` (an olmo-ts model in-process) and `OpenAIBackend` (any OpenAI-compatible
// server). Only local.ts imports model code.
export { LocalBackend, OLMES_MAX_LENGTH, type LocalBackendOptions } from './local.ts';
export {
  OpenAIBackend,
  OpenAIBackendError,
  normalizeBaseUrl,
  Semaphore,
  type OpenAIBackendOptions,
  type LogprobsMode,
  type GenerationApi,
} from './openai.ts';
export { OpenAIPool, type OpenAIPoolOptions } from './openai-pool.ts';
export { encodeRequest, prefixTokenOf, cutAtStops, type BackendTokenizer, type TokenPair } from './common.ts';
export { rollingWindows, type TokenWindow } from './rolling.ts';
