// olmo-ts public API.
export * from './tensor/index.ts';
export * as io from './io/safetensors.ts';
export * from './tokenizers/index.ts';
export * from './nn/index.ts';
export * from './models/index.ts';
