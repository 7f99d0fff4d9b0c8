// The request cache: one JSONL line {"k": key, "r": result} per answered request, appended and fsynced once per
// batch, so a run killed at any point keeps every completed batch. The key is a hash of the model's identity (its
// content where the backend can tell it: weights, tokenizer, numerics; see Backend.cacheIdentity) and the
// request, so a cache can be shared across tasks and runs of the same model and never answers for another one. A line cut short by a crash is
// dropped (and the file truncated back to the last complete line) when the cache is opened.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { EvalRequest, RequestResult } from '../types.ts';
import { modelConfigOf, type Backend } from './backend.ts';
import { sha256 } from './hash.ts';

/** What cached results of `backend` are keyed by: its content identity when it has one, else its model_config. */
export async function cacheIdentityOf(
  backend: Pick<Backend, 'name' | 'maxLength' | 'identity' | 'cacheIdentity'>,
): Promise<Record<string, unknown>> {
  return backend.cacheIdentity ? { content: await backend.cacheIdentity() } : modelConfigOf(backend);
}

/** The cache key of one request: a hash of the backend's cache identity (see cacheIdentityOf) and the request. */
export function requestKey(identity: Record<string, unknown>, request: EvalRequest): string {
  return sha256(JSON.stringify([identity, request]));
}

export class RequestCache {
  private readonly entries = new Map<string, RequestResult>();
  private fd: number | null = null;

  private constructor(readonly path: string) {}

  /** Open (creating if needed) and load a cache file. */
  static open(path: string): RequestCache {
    const c = new RequestCache(path);
    mkdirSync(dirname(path), { recursive: true });
    let validBytes = 0;
    if (existsSync(path)) {
      const buf = readFileSync(path);
      const lastNl = buf.lastIndexOf(0x0a);
      validBytes = lastNl + 1;
      const text = buf.subarray(0, validBytes).toString('utf8');
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        if (lines[i] === '') continue;
        let rec: { k?: unknown; r?: unknown };
        try {
          rec = JSON.parse(lines[i]);
        } catch (e) {
          throw new Error(
            `request cache ${path}:${i + 1}: malformed line (${(e as Error).message}); delete the file to recompute`,
            { cause: e },
          );
        }
        if (typeof rec.k !== 'string' || rec.r === undefined)
          throw new Error(`request cache ${path}:${i + 1}: expected {"k": key, "r": result}`);
        c.entries.set(rec.k, rec.r as RequestResult);
      }
    }
    c.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    ftruncateSync(c.fd, validBytes); // drop a partial last line left by a crash
    return c;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): RequestResult | undefined {
    return this.entries.get(key);
  }

  /** Append one batch and fsync before returning. */
  appendBatch(batch: readonly [string, RequestResult][]): void {
    if (this.fd === null) throw new Error(`request cache ${this.path} is closed`);
    const text = batch.map(([k, r]) => JSON.stringify({ k, r }) + '\n').join('');
    writeSync(this.fd, text, fstatSync(this.fd).size, 'utf8');
    fsyncSync(this.fd);
    for (const [k, r] of batch) this.entries.set(k, r);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
