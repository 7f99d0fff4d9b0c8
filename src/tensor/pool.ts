// A pool of typed-array buffers keyed by dtype and length. Tensors released by a scope return their
// buffers here, so a training or decoding step reuses the previous step's memory instead of asking the
// allocator (and the garbage collector) for fresh zeroed buffers every time.
import { allocStorage, type DType, type Storage } from './dtype.ts';

const MAX_PER_KEY = 32;
const MAX_POOLED_BYTES = 2 * 1024 ** 3;

const free = new Map<string, Storage[]>();
let pooledBytes = 0;

function key(dtype: DType, n: number): string {
  return `${dtype}:${n}`;
}

/** A buffer of n elements; its contents are arbitrary (callers that need zeros fill them). */
export function acquire(dtype: DType, n: number): Storage {
  const list = free.get(key(dtype, n));
  const buf = list?.pop();
  if (buf) {
    pooledBytes -= buf.byteLength;
    return buf;
  }
  return allocStorage(dtype, n);
}

export function release(dtype: DType, buf: Storage): void {
  if (buf.length === 0 || pooledBytes + buf.byteLength > MAX_POOLED_BYTES) return;
  const k = key(dtype, buf.length);
  let list = free.get(k);
  if (!list) {
    list = [];
    free.set(k, list);
  }
  if (list.length >= MAX_PER_KEY) return;
  list.push(buf);
  pooledBytes += buf.byteLength;
}

/** Drops every pooled buffer (for tests and for freeing memory between phases). */
export function clearPool(): void {
  free.clear();
  pooledBytes = 0;
}

export function pooledByteCount(): number {
  return pooledBytes;
}
