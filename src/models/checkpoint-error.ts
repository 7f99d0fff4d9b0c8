// The error of a checkpoint folder that cannot be loaded as asked (its own file so that the loaders can share
// it without importing each other).
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}
