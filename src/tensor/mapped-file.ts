// Read-only views of whole files through the native addon's mmap (native/mmap.cc): checkpoint weights become
// typed-array views of the page cache, so loading costs no copy and the OS shares the pages between processes.
// And large zeroed buffers on huge pages, for weights made at load time (q8_0 quants, realigned copies) and streamed
// every token.
import { loadNativeAddon } from './native-addon.ts';

type MapFile = (path: string, populate?: boolean) => ArrayBuffer;
type Alloc = (bytes: number) => ArrayBuffer;
type PageAdvice = (buffer: ArrayBuffer, offset: number, length: number) => number;

/**
 * The file mapped copy-on-write as an ArrayBuffer, or null when the native addon is not available. The kernel is
 * asked to read the file ahead and to use huge pages where it can; `populate` maps every page now
 * (MADV_POPULATE_READ: still shared with the page cache, no private copies), so that the first forward pass does not
 * fault the weights in one by one.
 */
export function mapFile(path: string, populate = false): ArrayBuffer | null {
  const addon = loadNativeAddon();
  const fn = addon?.mapFile as MapFile | undefined;
  return typeof fn === 'function' ? fn(path, populate) : null;
}

/**
 * Takes the whole pages of bytes [offset, offset + length) of a buffer made by mapFile out of this process's
 * resident memory; they stay readable (the next read faults them in again from the page cache). For weights read
 * once at load, such as a bf16 matrix quantised to q8_0. Returns the bytes released: 0 for a buffer mapFile did
 * not make, or without the native addon.
 */
export function releasePages(buffer: ArrayBuffer, offset: number, length: number): number {
  const fn = loadNativeAddon()?.releasePages as PageAdvice | undefined;
  return typeof fn === 'function' ? fn(buffer, offset, length) : 0;
}

/**
 * Maps every page of bytes [offset, offset + length) of a buffer made by mapFile now, in one pass of the kernel,
 * rather than one page fault per page as the first read goes through them: for a matrix about to be read whole
 * (quantised at load). Returns the bytes mapped: 0 where the kernel lacks MADV_POPULATE_READ, for a buffer mapFile
 * did not make, or without the native addon (reading then faults the pages in as usual).
 */
export function populatePages(buffer: ArrayBuffer, offset: number, length: number): number {
  const fn = loadNativeAddon()?.populatePages as PageAdvice | undefined;
  return typeof fn === 'function' ? fn(buffer, offset, length) : 0;
}

function checkBytes(op: string, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw new RangeError(`${op}: bytes must be a non-negative integer, got ${bytes}`);
}

/** Below this a buffer cannot fill one huge page: the JS heap's allocator serves it as well. */
const HUGE_PAGE = 2 * 1024 * 1024;

/**
 * A zeroed ArrayBuffer of `bytes`, aligned to 2 MiB and advised for transparent huge pages when the native addon
 * is available and the buffer is at least one huge page; allocAligned's buffer otherwise.
 */
export function allocLarge(bytes: number): ArrayBuffer {
  checkBytes('allocLarge', bytes);
  const fn = bytes >= HUGE_PAGE ? (loadNativeAddon()?.allocLarge as Alloc | undefined) : undefined;
  return typeof fn === 'function' ? fn(bytes) : allocAligned(bytes);
}

/** Below this a buffer is not worth a call into the addon (small tensors are not what the kernels stream). */
const ALIGNED_MIN = 4096;

/**
 * A zeroed ArrayBuffer of `bytes` starting on a 64-byte boundary (a cache line: an AVX-512 load from anywhere else
 * touches two lines) when the native addon is available and the buffer is at least 4 KiB; an ordinary ArrayBuffer
 * (16-byte aligned) otherwise. Tensor storage comes from here (dtype.ts allocStorage).
 */
export function allocAligned(bytes: number): ArrayBuffer {
  checkBytes('allocAligned', bytes);
  const fn = bytes >= ALIGNED_MIN ? (loadNativeAddon()?.allocAligned as Alloc | undefined) : undefined;
  return typeof fn === 'function' ? fn(bytes) : new ArrayBuffer(bytes);
}

/**
 * The largest power of two, up to 4096, dividing the address of byte `offset` of `buffer` (where a tensor's loads
 * fall against 64-byte cache lines); null without the native addon.
 */
export function addressAlignment(buffer: ArrayBufferLike, offset = 0): number | null {
  const fn = loadNativeAddon()?.addressAlignment as ((b: ArrayBufferLike, o: number) => number) | undefined;
  return typeof fn === 'function' ? fn(buffer, offset) : null;
}

/** The weight kernels' load width, a cache line. */
export const CACHE_LINE = 64;

/**
 * Bytes [offset, offset + length) of `buffer` starting on a 64-byte boundary: a view of the buffer when they do
 * (or without the native addon, which alone can tell), else a copy in line-aligned memory (huge pages from 2 MiB),
 * after which a mapping's pages leave this process's resident memory (releasePages). Hugging Face's safetensors
 * writer pads its header to 8 bytes only, so a checkpoint's matrices start wherever the header's length puts them:
 * every 64-byte load of the weight kernels then straddles two lines, and decoding, which streams each weight once
 * per token, runs markedly slower (README, "Real checkpoints"). Copying costs one pass over the weights at load.
 */
export function lineAlignedBytes(buffer: ArrayBuffer, offset: number, length: number): Uint8Array {
  const alignment = addressAlignment(buffer, offset);
  if (alignment === null || alignment >= CACHE_LINE || length === 0) return new Uint8Array(buffer, offset, length);
  populatePages(buffer, offset, length);
  const copy = new Uint8Array(allocLarge(length));
  copy.set(new Uint8Array(buffer, offset, length));
  releasePages(buffer, offset, length);
  return copy;
}
