// model_type → constructor.
import type { Init } from '../nn/index.ts';
import type { ModelConfig } from './config.ts';
import type { CausalLM } from './decoder.ts';
import { createOlmo } from './olmo.ts';
import { createOlmo2 } from './olmo2.ts';
import { createOlmoe } from './olmoe.ts';
import { assertFits, describeShape, estimateMemory, type WeightDType } from './memory.ts';

export function createModel(cfg: ModelConfig, init: Init, weightDtype: WeightDType = 'f32'): CausalLM {
  // Before any parameter exists: a config too large for this machine fails here, naming its sizes (weightDtype:
  // how the loader will hold the matrices).
  assertFits(`the weights of ${describeShape(cfg)}`, estimateMemory(cfg, { weightDtype }));
  switch (cfg.modelType) {
    case 'olmo':
      return createOlmo(cfg, init);
    case 'olmo2':
      return createOlmo2(cfg, init);
    case 'olmoe':
      return createOlmoe(cfg, init);
  }
}
