// Content fingerprints for the request cache: cached results are keyed by what determines them (the weights, the
// tokenizer, the numerics, the request), never by where a model lives, so a folder whose weights were replaced
// misses the cache and a relative and an absolute path to one model share it.
import { createHash, type Hash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { manifestDigest, readChecksums } from '../../io/checksums.ts';
import type { Tokenizer } from '../../tokenizers/index.ts';

/** A parameter as the fingerprint reads it. */
export interface NamedValues {
  readonly shape: readonly number[];
  f32(op?: string): Float32Array;
}

const isWeightFile = (name: string) => name.endsWith('.safetensors');

/**
 * The weights' identity. When `dir` has a checksums.json listing safetensors files (written by saveModel and
 * checked by loadModel, by default hash and all), the digest of those entries: no byte is read again. Otherwise
 * (a Hugging Face download, a model built in memory) the SHA-256 of the loaded parameters themselves: names,
 * shapes and f32 values, in name order.
 */
export function weightsFingerprint(
  dir: string | undefined,
  params: () => Iterable<readonly [string, NamedValues]>,
): string {
  const manifest = dir !== undefined ? readChecksums(dir) : null;
  if (manifest && Object.keys(manifest.files).some(isWeightFile))
    return `files:${manifestDigest(manifest, isWeightFile)}`;
  const h = createHash('sha256');
  for (const [name, t] of [...params()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const v = t.f32('weightsFingerprint');
    h.update(`${name}\0${t.shape.join(',')}\0`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return `params:${h.digest('hex')}`;
}

/** Files beside tokenizer.json that change how text is tokenised or which special tokens exist. */
const TOKENIZER_SIDE_FILES = ['tokenizer_config.json', 'special_tokens_map.json'];

/**
 * The tokenizer's identity: its vocabulary and special tokens as loaded (every id's token, BOS/EOS/pad/unk, the
 * chat template) and, for a tokenizer read from a tokenizer.json, the bytes of that file and its config files
 * (merges, normaliser and pre-tokeniser live there). Not its path.
 */
export function tokenizerFingerprint(
  tok: Pick<Tokenizer, 'name' | 'bosTokenId' | 'eosTokenId'> & Partial<Tokenizer>,
): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify([
      tok.bosTokenId,
      tok.eosTokenId,
      tok.padTokenId ?? null,
      tok.unkTokenId ?? null,
      tok.vocabSize ?? null,
      tok.chatTemplate ?? null,
    ]),
  );
  if (tok.specialTokenIds) h.update(JSON.stringify([...tok.specialTokenIds].sort((a, b) => a - b)));
  if (tok.idToToken && tok.vocabSize !== undefined) {
    for (let id = 0; id < tok.vocabSize; id++) h.update(`${tok.idToToken(id) ?? ''}\0`);
  }
  if (basename(tok.name) === 'tokenizer.json' && existsSync(tok.name)) {
    hashFiles(h, [tok.name, ...TOKENIZER_SIDE_FILES.map((f) => join(dirname(tok.name), f))]);
  } else {
    // a built-in tokenizer (dolma2): its name and vocabulary are its identity
    h.update(`builtin:${tok.name}`);
  }
  return h.digest('hex');
}

function hashFiles(h: Hash, files: readonly string[]): void {
  for (const f of files) {
    h.update(`${basename(f)}\0`);
    if (existsSync(f)) h.update(readFileSync(f));
    h.update('\0');
  }
}

/** SHA-256 of a JSON value (a model's config as parsed). */
export function jsonFingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
