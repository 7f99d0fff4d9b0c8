// olmo-ts public API. The engine, models, tokenizers and layers at the top level; the larger subsystems as
// namespaces (their names would otherwise collide).
export * from './tensor/index.ts';
export * as io from './io/safetensors.ts';
export * from './tokenizers/index.ts';
export * from './nn/index.ts';
export * from './models/index.ts';
export * as data from './data/index.ts';
export * as train from './train/index.ts';
export * as evaluation from './eval/index.ts';
export * as evalBackends from './eval/backends/index.ts';
export * as pddl from './pddl/index.ts';
