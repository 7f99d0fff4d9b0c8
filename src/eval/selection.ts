// OLMES instance selection (base_task.py get_eval_docs): when a split has more docs than the task's limit, the
// evaluated docs are exactly random.Random(1234).sample(all_docs, limit) over the split in its dataset row order,
// kept in SAMPLE order (not re-sorted). A fractional limit means ceil(fraction × n). No seed → the first `limit`.
import { PyRandom } from '../pycompat/pyrandom.ts';

export const OLMES_SUBSAMPLE_SEED = 1234;

export function resolveLimit(limit: number | null | undefined, n: number): number | null {
  if (limit === null || limit === undefined) return null;
  if (!(limit > 0)) throw new Error(`limit must be positive, got ${limit}`);
  if (!Number.isInteger(limit)) {
    if (limit >= 1) throw new Error(`a fractional limit must be below 1, got ${limit}`);
    return Math.ceil(n * limit);
  }
  return limit;
}

export function selectInstances<T>(
  docs: readonly T[],
  limit: number | null | undefined,
  seed: number | null = OLMES_SUBSAMPLE_SEED,
): T[] {
  const k = resolveLimit(limit, docs.length);
  if (k === null || docs.length <= k) return docs.slice();
  if (seed === null) return docs.slice(0, k);
  return new PyRandom(seed).sample(docs, k);
}
