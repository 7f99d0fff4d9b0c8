// olmo-ts public API.
export * from './tensor/index.ts';
