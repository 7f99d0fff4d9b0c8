// Fixed-sequence-length (FSL) datasets over OLMo token files, as OLMo's MemMapDataset (olmo/data/memmap_dataset.py,
// https://github.com/allenai/OLMo) / OLMo-core's numpy FSL dataset build them: every file is cut independently
// into consecutive windows of `sequenceLength`
// tokens, the remainder (< sequenceLength) at the end of each file is dropped, windows never span files, and the
// global instance index is the concatenation over files in the order given. Reads are positioned reads into a
// reusable buffer (TokenFile), never whole files.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { expandTokenPaths, readTokenFileMetadata, TokenFile, type TokenDtype } from './token-file.ts';

export interface FslFileInfo {
  path: string;
  numTokens: number;
  numInstances: number;
  /** Global index of this file's first instance. */
  firstInstance: number;
  /** Content hash from the metadata JSON, or '' for bare files. */
  sha256: string;
}

export interface FslDatasetOptions {
  /** Read bare token files (no metadata JSON) with this dtype. Default: take the dtype from each file's metadata. */
  dtype?: TokenDtype;
}

export class FslDataset {
  readonly sequenceLength: number;
  readonly files: readonly FslFileInfo[];
  readonly numInstances: number;
  private readonly handles: TokenFile[];

  /** `paths`: token files and/or folders of `*.npy` token files (sorted by name), in order. */
  constructor(paths: readonly string[], sequenceLength: number, options: FslDatasetOptions = {}) {
    if (!Number.isInteger(sequenceLength) || sequenceLength < 2) {
      throw new Error(`sequence length must be an integer ≥ 2, got ${sequenceLength}`);
    }
    this.sequenceLength = sequenceLength;
    const files: FslFileInfo[] = [];
    this.handles = [];
    let next = 0;
    for (const p of expandTokenPaths(paths)) {
      const meta = options.dtype ? null : readTokenFileMetadata(p);
      const handle = new TokenFile(p, { dtype: options.dtype ?? meta!.dtype });
      if (meta && meta.num_tokens !== handle.numTokens) {
        throw new Error(
          `${p}: holds ${handle.numTokens} tokens but its metadata says ${meta.num_tokens}; the file is damaged`,
        );
      }
      const numInstances = Math.floor(handle.numTokens / sequenceLength);
      files.push({
        path: p,
        numTokens: handle.numTokens,
        numInstances,
        firstInstance: next,
        sha256: meta?.sha256 ?? '',
      });
      this.handles.push(handle);
      next += numInstances;
    }
    this.files = files;
    this.numInstances = next;
  }

  /** Tokens of instance `index` (sequenceLength of them) into `out` at `outOffset`. */
  instance(index: number, out?: Uint32Array, outOffset = 0): Uint32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.numInstances) {
      throw new Error(`instance index ${index} outside [0, ${this.numInstances})`);
    }
    // Binary search for the file holding the instance.
    let lo = 0;
    let hi = this.files.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.files[mid].firstInstance <= index) lo = mid;
      else hi = mid - 1;
    }
    while (this.files[lo].numInstances === 0 || index >= this.files[lo].firstInstance + this.files[lo].numInstances)
      lo++;
    const f = this.files[lo];
    const L = this.sequenceLength;
    return this.handles[lo].read((index - f.firstInstance) * L, L, out ?? new Uint32Array(L), outOffset);
  }

  /** A stable description of the data (file names, sizes, hashes, L) for resume checks. */
  fingerprintParts(): unknown {
    return {
      L: this.sequenceLength,
      files: this.files.map((f) => [path.basename(f.path), f.numTokens, f.sha256]),
    };
  }

  close(): void {
    for (const h of this.handles) h.close();
  }
}

export function sha256Json(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
