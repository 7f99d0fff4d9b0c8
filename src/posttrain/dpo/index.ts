// Preference tuning with DPO (`olmo dpo`): length-normalised (Tülu 3) and standard sigmoid DPO.
export { dpoConfigSchema, resolveDpoConfig, loadDpoConfig, type DpoConfig, type DpoConfigInput } from './config.ts';
export {
  dpoLoss,
  dpoLossValues,
  negLogSigmoid,
  defaultBeta,
  averagesLogProbs,
  summarizePairs,
  type DpoLossType,
  type DpoPairValues,
  type DpoBatchMetrics,
} from './loss.ts';
export {
  DpoTrainer,
  encodePairs,
  pairLogProbs,
  modelDigest,
  REFERENCE_CACHE_FILE,
  type DpoOptions,
  type DpoResult,
  type DpoEval,
  type EncodedPair,
  type ReferenceLogProbs,
} from './trainer.ts';
