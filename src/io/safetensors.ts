// The safetensors layer: reading (lazily, a header and then single tensors on demand), writing (atomically, laid
// out as the Rust `safetensors` crate does) and sharded checkpoints with `model.safetensors.index.json`.
// Deals in typed arrays and shapes only; the tensor engine builds on it.
//
// Split over three files: safetensors-header.ts (format, validation, header building), safetensors-file.ts
// (one file), safetensors-sharded.ts (index + shards). Import from here.

export {
  MAX_HEADER_SIZE,
  SafetensorsError,
  buildHeader,
  compareNames,
  parseHeader,
  safetensorsWriteOrder,
  type ParsedHeader,
  type TensorInfo,
} from './safetensors-header.ts';
export {
  SafetensorsFile,
  checkTensorsToWrite,
  loadSafetensors,
  openSafetensors,
  parseSafetensors,
  readSafetensorsHeader,
  saveSafetensors,
  serializeSafetensors,
  writeFileAtomically,
  type LoadedSafetensors,
  type SafetensorsHeaderInfo,
  type SaveOptions,
  type SafetensorsTensor,
  type TensorSource,
  type TensorLocation,
  type TensorToWrite,
  type TensorsToWrite,
} from './safetensors-file.ts';
export {
  SAFETENSORS_INDEX_NAME,
  SAFETENSORS_WEIGHTS_NAME,
  ShardedSafetensors,
  openCheckpointTensors,
  openShardedSafetensors,
  parseSize,
  planShards,
  saveShardedSafetensors,
  type ShardedSaveOptions,
  type ShardedSaveResult,
} from './safetensors-sharded.ts';
export * from './dtypes.ts';
