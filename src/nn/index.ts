export { Module } from './module.ts';
export { Linear, Embedding, RMSNorm, NonParametricLayerNorm } from './layers.ts';
export { type Init, truncatedNormalInit, placeholderInit } from './init.ts';
export { SelfAttention, type AttentionConfig, type AttentionContext } from './attention.ts';
export { SwiGLUMLP } from './mlp.ts';
export { SparseMoE, type MoEConfig, type MoEOutput } from './moe.ts';
export { KVCache, LayerKVCache, checkPackedRows, type PackedRows } from './kv-cache.ts';
