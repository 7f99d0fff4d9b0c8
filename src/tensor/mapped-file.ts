// Read-only views of whole files through the native addon's mmap (native/mmap.cc): checkpoint weights become
// typed-array views of the page cache, so loading costs no copy and the OS shares the pages between processes.
import { loadNativeAddon } from './native-addon.ts';

type MapFile = (path: string) => ArrayBuffer;

/** The file mapped copy-on-write as an ArrayBuffer, or null when the native addon is not available. */
export function mapFile(path: string): ArrayBuffer | null {
  const addon = loadNativeAddon();
  const fn = addon?.mapFile as MapFile | undefined;
  return typeof fn === 'function' ? fn(path) : null;
}
