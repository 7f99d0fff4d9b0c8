// Sharded safetensors checkpoints, as transformers writes them: `model-00001-of-00003.safetensors`, ... and
// `model.safetensors.index.json` = {"metadata": {...}, "weight_map": {tensor name: shard file name}}.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { numel, toFloat32, toInt32 } from './dtypes.ts';
import {
  SafetensorsFile,
  saveSafetensors,
  checkTensorsToWrite,
  writeFileAtomically,
  type SaveOptions,
  type SafetensorsTensor,
  type TensorLocation,
  type TensorSource,
  type TensorsToWrite,
} from './safetensors-file.ts';
import { compareNames, SafetensorsError, type TensorInfo } from './safetensors-header.ts';

export const SAFETENSORS_WEIGHTS_NAME = 'model.safetensors';
export const SAFETENSORS_INDEX_NAME = 'model.safetensors.index.json';

const q = (s: string): string => JSON.stringify(s);

/**
 * A sharded checkpoint opened lazily through its index: one view across all shards. On open, every shard's
 * header is read and validated, and every tensor of the weight map must exist in the shard it is mapped to.
 */
export class ShardedSafetensors implements TensorSource {
  readonly indexPath: string;
  /** The index's `metadata` object (transformers: total_size, total_parameters); {} when absent. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Tensor name → shard file name (relative to the index's folder), in index order. */
  readonly weightMap: ReadonlyMap<string, string>;
  /** Shard file name → the open shard. */
  readonly shards: ReadonlyMap<string, SafetensorsFile>;

  private constructor(
    indexPath: string,
    metadata: Record<string, unknown>,
    weightMap: Map<string, string>,
    shards: Map<string, SafetensorsFile>,
  ) {
    this.indexPath = indexPath;
    this.metadata = metadata;
    this.weightMap = weightMap;
    this.shards = shards;
  }

  static open(indexPath: string): ShardedSafetensors {
    let text: string;
    try {
      text = fs.readFileSync(indexPath, 'utf8');
    } catch (e) {
      throw new SafetensorsError(`${indexPath}: cannot read the shard index: ${(e as Error).message}`, indexPath);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new SafetensorsError(
        `${indexPath}: the shard index is not valid JSON (${(e as Error).message})`,
        indexPath,
      );
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new SafetensorsError(`${indexPath}: the shard index must be a JSON object with "weight_map"`, indexPath);
    }
    const { metadata = {}, weight_map: wm } = json as Record<string, unknown>;
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new SafetensorsError(`${indexPath}: "metadata" must be an object`, indexPath);
    }
    if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) {
      throw new SafetensorsError(
        `${indexPath}: the shard index needs a "weight_map" object of tensor name → shard file`,
        indexPath,
      );
    }
    const dir = path.dirname(indexPath);
    const weightMap = new Map<string, string>();
    const byShard = new Map<string, string[]>();
    for (const [name, shard] of Object.entries(wm)) {
      if (typeof shard !== 'string' || shard === '') {
        throw new SafetensorsError(
          `${indexPath}: weight_map entry for tensor ${q(name)} must be a shard file name, got ${JSON.stringify(shard)}`,
          indexPath,
          name,
        );
      }
      const rel = path.relative(dir, path.resolve(dir, shard));
      if (path.isAbsolute(shard) || rel.startsWith('..')) {
        throw new SafetensorsError(
          `${indexPath}: weight_map puts tensor ${q(name)} in ${q(shard)}, which is outside the checkpoint folder`,
          indexPath,
          name,
        );
      }
      weightMap.set(name, shard);
      const list = byShard.get(shard);
      if (list) list.push(name);
      else byShard.set(shard, [name]);
    }
    const shards = new Map<string, SafetensorsFile>();
    try {
      for (const [shard, names] of byShard) {
        const file = path.join(dir, shard);
        if (!fs.existsSync(file)) {
          const more = names.length > 1 ? ` and ${names.length - 1} more` : '';
          throw new SafetensorsError(
            `${indexPath}: shard ${q(shard)} (holding tensor ${q(names[0])}${more}) does not exist: ${file} is missing`,
            indexPath,
            names[0],
          );
        }
        const f = SafetensorsFile.open(file);
        shards.set(shard, f);
        for (const name of names) {
          if (!f.has(name)) {
            throw new SafetensorsError(
              `${indexPath}: weight_map puts tensor ${q(name)} in shard ${q(shard)}, but ${file} has no such tensor`,
              indexPath,
              name,
            );
          }
        }
      }
    } catch (e) {
      for (const f of shards.values()) f.close();
      throw e;
    }
    return new ShardedSafetensors(indexPath, metadata as Record<string, unknown>, weightMap, shards);
  }

  names(): string[] {
    return [...this.weightMap.keys()];
  }

  has(name: string): boolean {
    return this.weightMap.has(name);
  }

  /** The open shard holding `name`. */
  shardOf(name: string): SafetensorsFile {
    const shard = this.weightMap.get(name);
    if (shard === undefined) {
      throw new SafetensorsError(
        `${this.indexPath}: no tensor ${q(name)} in the weight map (${this.weightMap.size} tensors)`,
        this.indexPath,
        name,
      );
    }
    return this.shards.get(shard)!;
  }

  info(name: string): TensorInfo {
    return this.shardOf(name).info(name);
  }

  readBytes(name: string): Uint8Array {
    return this.shardOf(name).readBytes(name);
  }

  locate(name: string): TensorLocation {
    return this.shardOf(name).locate(name);
  }

  read(name: string): SafetensorsTensor {
    return this.shardOf(name).read(name);
  }

  readFloat32(name: string): Float32Array {
    const f = this.shardOf(name);
    const t = f.read(name);
    return toFloat32(t.dtype, t.data, `${f.path}: tensor ${q(name)}`);
  }

  readInt32(name: string): Int32Array {
    const f = this.shardOf(name);
    const t = f.read(name);
    return toInt32(t.dtype, t.data, `${f.path}: tensor ${q(name)}`);
  }

  close(): void {
    for (const f of this.shards.values()) f.close();
  }
}

export function openShardedSafetensors(indexPath: string): ShardedSafetensors {
  return ShardedSafetensors.open(indexPath);
}

/**
 * Opens the weights of a checkpoint: a folder (its `model.safetensors.index.json` if present, else its
 * `model.safetensors`), an index file, or a single `.safetensors` file.
 */
export function openCheckpointTensors(location: string): SafetensorsFile | ShardedSafetensors {
  let st: fs.Stats;
  try {
    st = fs.statSync(location);
  } catch {
    throw new SafetensorsError(`${location}: no such file or folder`, location);
  }
  if (st.isDirectory()) {
    const index = path.join(location, SAFETENSORS_INDEX_NAME);
    if (fs.existsSync(index)) return ShardedSafetensors.open(index);
    const single = path.join(location, SAFETENSORS_WEIGHTS_NAME);
    if (fs.existsSync(single)) return SafetensorsFile.open(single);
    throw new SafetensorsError(
      `${location}: no ${SAFETENSORS_WEIGHTS_NAME} or ${SAFETENSORS_INDEX_NAME} in this folder (is it a Hugging Face checkpoint?)`,
      location,
    );
  }
  if (location.endsWith('.json')) return ShardedSafetensors.open(location);
  return SafetensorsFile.open(location);
}

// ---------------------------------------------------------------------------------------------------------
// Writing.

/**
 * Parses a shard size as transformers does: a number of bytes, or a string with a unit — decimal KB/MB/GB/TB
 * (10^3...) or binary KiB/MiB/GiB/TiB (2^10...); "5GB" = 5·10^9 bytes.
 */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') {
    if (!(Number.isFinite(size) && size > 0))
      throw new Error(`shard size must be a positive number of bytes, got ${size}`);
    return Math.floor(size);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(size);
  if (!m)
    throw new Error(
      `cannot parse shard size ${JSON.stringify(size)} (expected e.g. 5GB, 500MB, 2GiB or a number of bytes)`,
    );
  const unit = (m[2] ?? 'B').toUpperCase();
  const pow = { B: 0, K: 1, M: 2, G: 3, T: 4 }[unit[0] as 'B' | 'K' | 'M' | 'G' | 'T'];
  const base = unit.includes('I') ? 1024 : 1000;
  const bytes = Math.floor(Number(m[1]) * base ** pow);
  if (!(bytes > 0)) throw new Error(`shard size must be positive, got ${JSON.stringify(size)}`);
  return bytes;
}

export interface ShardedSaveOptions extends SaveOptions {
  /** Largest shard, in bytes or as "5GB"/"2GiB" (default "5GB"). A tensor larger than this gets a shard of its own. */
  readonly maxShardSize?: number | string;
  /** `__metadata__` of every shard (default {format: "pt"}, as transformers writes). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** File-name stem (default "model": model-00001-of-00002.safetensors, model.safetensors.index.json). */
  readonly prefix?: string;
  /**
   * Delete weight files left in the folder from an earlier save with the same stem (a single file, an index or
   * shards not part of this save), as transformers does, so the folder holds one consistent checkpoint. Default true.
   */
  readonly removeStale?: boolean;
}

export interface ShardedSaveResult {
  /** Shard file names written, in order (one `model.safetensors` when everything fits in one shard). */
  readonly files: string[];
  /** The index written, or null for a single file. */
  readonly indexPath: string | null;
  readonly weightMap: Readonly<Record<string, string>>;
  /** Sum of tensor bytes. */
  readonly totalSize: number;
  /** Sum of tensor elements. */
  readonly totalParameters: number;
}

/**
 * Splits tensors into shards as huggingface_hub's `split_state_dict_into_shards_factory` does: in the given
 * order, a tensor that would push the current shard over `maxShardSize` starts a new shard; a tensor larger
 * than the limit on its own gets a shard to itself.
 */
export function planShards(sizes: readonly (readonly [string, number])[], maxShardSize: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let currentSize = 0;
  for (const [name, size] of sizes) {
    if (size > maxShardSize) {
      shards.push([name]);
      continue;
    }
    if (currentSize + size > maxShardSize && current.length > 0) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(name);
    currentSize += size;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

/** JSON as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it (ASCII-only, keys sorted). */
function pythonJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value).sort(compareNames);
    if (keys.length === 0) return '{}';
    const body = keys.map(
      (k) => `${inner}${pythonJson(k)}: ${pythonJson((value as Record<string, unknown>)[k], inner)}`,
    );
    return `{\n${body.join(',\n')}\n${indent}}`;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => `${inner}${pythonJson(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const SHARD_RE = (prefix: string): RegExp =>
  new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{5}-of-\\d{5}\\.safetensors$`);

/**
 * Saves tensors as a (possibly sharded) checkpoint in `dir`, as transformers' `save_pretrained` does: shards
 * named `model-00001-of-00003.safetensors` plus `model.safetensors.index.json` (weight_map sorted by name,
 * metadata {total_parameters, total_size}); a single `model.safetensors` and no index when one shard suffices.
 * Every file is written to a temporary file and renamed into place; the index is written last.
 */
export function saveShardedSafetensors(
  dir: string,
  tensors: TensorsToWrite,
  options: ShardedSaveOptions = {},
): ShardedSaveResult {
  const prefix = options.prefix ?? 'model';
  const maxShardSize = parseSize(options.maxShardSize ?? '5GB');
  const metadata = options.metadata ?? { format: 'pt' };
  // Check everything before writing anything, so bad input cannot leave a half-replaced checkpoint.
  const entries = checkTensorsToWrite(tensors, metadata, dir);
  const byName = new Map(entries);
  const plan = planShards(
    entries.map(([name, t]) => [name, t.data.byteLength] as const),
    maxShardSize,
  );
  const n = plan.length;
  const pad = (i: number): string => String(i).padStart(5, '0');
  const files =
    n <= 1 ? [`${prefix}.safetensors`] : plan.map((_, i) => `${prefix}-${pad(i + 1)}-of-${pad(n)}.safetensors`);
  if (n === 0) plan.push([]);

  fs.mkdirSync(dir, { recursive: true });
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  let totalParameters = 0;
  plan.forEach((names, i) => {
    const shard = names.map((name) => [name, byName.get(name)!] as const);
    saveSafetensors(path.join(dir, files[i]), shard, metadata, options);
    for (const [name, t] of shard) {
      weightMap[name] = files[i];
      totalSize += t.data.byteLength;
      totalParameters += numel(t.shape);
    }
  });

  const indexName = `${prefix}.safetensors.index.json`;
  let indexPath: string | null = null;
  if (files.length > 1) {
    indexPath = path.join(dir, indexName);
    const index = { metadata: { total_parameters: totalParameters, total_size: totalSize }, weight_map: weightMap };
    const text = Buffer.from(`${pythonJson(index)}\n`, 'utf8');
    writeFileAtomically(indexPath, (fd) => {
      fs.writeSync(fd, text);
    });
  }

  if (options.removeStale ?? true) {
    const keep = new Set([...files, ...(indexPath ? [indexName] : [])]);
    const shardRe = SHARD_RE(prefix);
    for (const name of fs.readdirSync(dir)) {
      const ours = name === `${prefix}.safetensors` || name === indexName || shardRe.test(name);
      if (ours && !keep.has(name)) fs.rmSync(path.join(dir, name), { force: true });
    }
  }
  return { files, indexPath, weightMap, totalSize, totalParameters };
}
