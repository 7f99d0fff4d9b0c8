// Documents → OLMo token files (`olmo data tokenize`). Streams Dolma JSONL(.gz) line chunks through a pool of worker
// threads, writes the results strictly in input order (so the output is byte-identical for any thread count),
// and commits atomically: token and boundary files are written under temporary names, renamed at the end, and the
// metadata JSON of each part is written last. File layout: see token-file.ts.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createGzip, type Gzip } from 'node:zlib';
import { writeFileAtomically } from '../io/safetensors-file.ts';
import type { Tokenizer } from '../tokenizers/index.ts';
import {
  readByteLineChunks,
  resolveTokenizer,
  tokenizeChunk,
  type ByteLineChunk,
  type MalformedLine,
  type TokenizedChunk,
  type TokenizerSpec,
} from './documents.ts';
import {
  dtypeForVocab,
  encodeTokens,
  TOKEN_FILE_FORMAT,
  type TokenDtype,
  type TokenFileMetadata,
} from './token-file.ts';

export interface TokenizeProgress {
  /** Input file being read. */
  file: string;
  documents: number;
  tokens: number;
  skippedLines: number;
  /** Input bytes read so far (compressed size for .gz) and in total. */
  bytesRead: number;
  totalBytes: number;
  elapsedSec: number;
  documentsPerSec: number;
  tokensPerSec: number;
  done: boolean;
}

export interface TokenizeOptions {
  /** JSONL / JSONL.gz files, read in this order. */
  inputs: string[];
  /** Output folder (created if missing). */
  outDir: string;
  /** Part file prefix: `${prefix}-00000.npy`. Default 'part'. */
  prefix?: string;
  /** 'dolma2' (default) or a Hugging Face folder with tokenizer.json. */
  tokenizer?: TokenizerSpec;
  /** Token dtype; default uint16 when the vocabulary fits in 16 bits, else uint32. */
  dtype?: TokenDtype;
  /** EOS id appended after every document; default the tokenizer's EOS. */
  eosTokenId?: number;
  /** Recognise special-token text like `<|endoftext|>` inside documents (default true, as HF/dolma do). */
  allowSpecial?: boolean;
  /** Worker threads; 0 tokenizes on the calling thread. Default: os.availableParallelism(). */
  workers?: number;
  /** Start a new part once a part holds this many tokens (documents never split). Default 2^28 (1 GiB of uint32). */
  maxTokensPerFile?: number;
  /**
   * Fail on the first malformed line, or the first line holding invalid UTF-8, instead of skipping the former
   * and tokenizing the latter with U+FFFD in place of the bad bytes.
   */
  strict?: boolean;
  /**
   * Record input paths relative to this folder (in the boundaries' `src` column and the metadata's `inputs`),
   * so outputs do not depend on where the inputs live. Default: paths as given.
   */
  recordPathsRelativeTo?: string;
  /** Replace existing `${prefix}-*` outputs in outDir (otherwise their presence is an error). */
  overwrite?: boolean;
  /** Lines per chunk sent to a worker (default 256). */
  chunkLines?: number;
  onProgress?: (p: TokenizeProgress) => void;
  /** Minimum milliseconds between progress calls (default 500; the final call always happens). */
  progressIntervalMs?: number;
  /** Use this worker pool (its tokenizer, EOS and allowSpecial must match) instead of starting one. */
  pool?: TokenizerPool;
  /** Called for each skipped line, in input order. */
  onMalformed?: (m: MalformedLine) => void;
  /** Called for each document whose invalid UTF-8 was replaced with U+FFFD (not in strict mode), in input order. */
  onInvalidUtf8?: (m: InvalidUtf8Document) => void;
  signal?: AbortSignal;
}

export interface TokenizeResult {
  /** Token file paths written, in order. */
  files: string[];
  metadata: TokenFileMetadata[];
  documents: number;
  tokens: number;
  skippedLines: number;
  /** The first 1000 malformed lines (all of them are passed to onMalformed). */
  malformed: MalformedLine[];
  /** Documents tokenized with U+FFFD in place of invalid UTF-8 (each is passed to onInvalidUtf8). */
  invalidUtf8Documents: number;
  elapsedSec: number;
  tokensPerSec: number;
}

/** A document whose line held invalid UTF-8. `line` is 1-based; offsets are in the decompressed bytes. */
export interface InvalidUtf8Document {
  file: string;
  line: number;
  /** Offset of the first invalid byte in the line and in the file. */
  lineByte: number;
  fileByte: number;
}

/** The message for a line with invalid UTF-8: where the first bad byte is. */
export function invalidUtf8Message(m: InvalidUtf8Document): string {
  const of = m.file.endsWith('.gz') ? 'the decompressed file' : 'the file';
  return `${m.file}:${m.line}: invalid UTF-8 at byte offset ${m.fileByte} of ${of} (byte ${m.lineByte} of the line)`;
}

interface PartState {
  index: number;
  tokensTmp: string;
  csvTmp: string;
  fd: number;
  gzip: Gzip;
  out: fs.WriteStream;
  gzipDone: Promise<void>;
  hash: Hash;
  tokens: number;
  documents: number;
  sources: Record<string, { documents: number; tokens: number }>;
  inputs: Set<string>;
  skipped: number;
}

const pad5 = (i: number) => String(i).padStart(5, '0');

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface TokenizerPoolOptions {
  /** 'dolma2' (default) or a Hugging Face folder with tokenizer.json. */
  tokenizer?: TokenizerSpec;
  /** Worker threads (default os.availableParallelism()). */
  workers?: number;
  eosTokenId?: number;
  allowSpecial?: boolean;
}

/**
 * A fixed pool of tokenizer worker threads. `tokenize` starts one per call unless given one; share a pool across
 * many `tokenize` calls to pay the workers' start-up (loading the tokenizer) once. Close it when done.
 */
export class TokenizerPool {
  readonly spec: string;
  readonly eosId: number;
  readonly allowSpecial: boolean;
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private waiting: {
    seq: number;
    chunk: ByteLineChunk;
    resolve: (r: TokenizedChunk) => void;
    reject: (e: Error) => void;
  }[] = [];
  // Only the callbacks: the chunk's bytes were transferred to the worker and must not be kept alive here.
  private pending = new Map<Worker, { resolve: (r: TokenizedChunk) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  private constructor(init: { tokenizer: string; eosId: number; allowSpecial: boolean }) {
    this.spec = init.tokenizer;
    this.eosId = init.eosId;
    this.allowSpecial = init.allowSpecial;
  }

  get size(): number {
    return this.workers.length;
  }

  static async start(options: TokenizerPoolOptions = {}): Promise<TokenizerPool> {
    const spec = options.tokenizer ?? 'dolma2';
    const eosId = options.eosTokenId ?? resolveTokenizer(spec).eosTokenId;
    if (eosId === null || eosId === undefined) throw new Error(`tokenizer ${spec} has no EOS token: pass eosTokenId`);
    const n = options.workers ?? os.availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new Error(`TokenizerPool: workers must be an integer ≥ 1, got ${n}`);
    const init = { tokenizer: spec, eosId, allowSpecial: options.allowSpecial ?? true };
    const pool = new TokenizerPool(init);
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(`./tokenize-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
    const ready: Promise<void>[] = [];
    // Resolved here, so the worker finds tsx whatever the current directory is.
    const tsxApi = fromSource ? import.meta.resolve('tsx/esm/api') : '';
    for (let i = 0; i < n; i++) {
      // Run from TypeScript sources (tsx), a worker does not inherit the loader hooks: it registers tsx itself.
      const w = fromSource
        ? new Worker(
            `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })` +
              `.catch((e) => { setImmediate(() => { throw e; }); });`,
            { eval: true, workerData: init },
          )
        : new Worker(url, { workerData: init });
      pool.workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: { ready?: boolean }) => {
            if (m.ready) {
              w.off('message', onMsg);
              w.off('error', reject);
              resolve();
            }
          };
          w.on('message', onMsg);
          w.once('error', reject);
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw new Error(`tokenize: a worker thread failed to start: ${(e as Error).message}`, { cause: e });
    }
    for (const w of pool.workers) {
      w.on('message', (m: { result?: TokenizedChunk; error?: string }) => pool.onResult(w, m));
      w.on('error', (e) => pool.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) pool.fail(new Error(`tokenize worker exited with code ${code}`));
      });
      pool.idle.push(w);
    }
    return pool;
  }

  run(seq: number, chunk: ByteLineChunk): Promise<TokenizedChunk> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ seq, chunk, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.waiting.length > 0) {
      const w = this.idle.pop()!;
      const task = this.waiting.shift()!;
      this.pending.set(w, { resolve: task.resolve, reject: task.reject });
      w.postMessage({ seq: task.seq, chunk: task.chunk }, [task.chunk.data.buffer as ArrayBuffer]);
    }
  }

  private onResult(w: Worker, m: { result?: TokenizedChunk; error?: string }): void {
    const task = this.pending.get(w);
    if (!task) return;
    this.pending.delete(w);
    this.idle.push(w);
    if (m.error !== undefined) task.reject(new Error(`tokenize worker: ${m.error}`));
    else task.resolve(m.result!);
    this.dispatch();
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    for (const t of this.pending.values()) t.reject(e);
    for (const t of this.waiting) t.reject(e);
    this.pending.clear();
    this.waiting = [];
  }

  async close(): Promise<void> {
    this.failed ??= new Error('pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Strict mode: the first malformed or invalid-UTF-8 line of a chunk, in input order, stops the run. */
function throwFirstProblem(file: string, r: TokenizedChunk): void {
  const err = r.errors[0];
  const bad = r.invalidUtf8[0];
  if (bad !== undefined && (err === undefined || bad.line < err.line)) {
    throw new Error(
      `${invalidUtf8Message({ file, ...bad })}: strict mode does not replace it with U+FFFD (no output written)`,
    );
  }
  if (err !== undefined) throw new Error(`${file}:${err.line}: ${err.message} (strict mode: no output written)`);
}

/** What tokenize resolves from its options before it reads anything. */
interface TokenizeSetup {
  prefix: string;
  spec: TokenizerSpec;
  tokenizer: Tokenizer;
  eosId: number;
  dtype: TokenDtype;
  allowSpecial: boolean;
  maxTokens: number;
  nWorkers: number;
  totalBytes: number;
  /** Whether a file name in the output folder is one of this prefix's outputs. */
  isOurs: (f: string) => boolean;
}

/** Checks the options, the inputs and the output folder (created here), and resolves the defaults. */
function resolveSetup(options: TokenizeOptions): TokenizeSetup {
  const prefix = options.prefix ?? 'part';
  const spec = options.tokenizer ?? 'dolma2';
  const tokenizer = resolveTokenizer(spec);
  const eosId = options.eosTokenId ?? tokenizer.eosTokenId;
  if (eosId === null || eosId === undefined) {
    throw new Error(`tokenizer ${tokenizer.name} has no EOS token: pass eosTokenId`);
  }
  const dtype = options.dtype ?? dtypeForVocab(tokenizer.vocabSize);
  if (dtype === 'uint16' && tokenizer.vocabSize > 65536) {
    throw new Error(`dtype uint16 cannot hold ids of ${tokenizer.name} (vocab ${tokenizer.vocabSize}): use uint32`);
  }
  const allowSpecial = options.allowSpecial ?? true;
  const maxTokens = options.maxTokensPerFile ?? 2 ** 28;
  const nWorkers = options.pool ? options.pool.size : (options.workers ?? os.availableParallelism());
  if (!Number.isInteger(nWorkers) || nWorkers < 0)
    throw new Error(`tokenize: workers must be an integer ≥ 0, got ${nWorkers}`);
  if (options.inputs.length === 0) throw new Error('tokenize: no input files');
  let totalBytes = 0;
  for (const f of options.inputs) {
    if (!fs.existsSync(f)) throw new Error(`tokenize: input ${f} does not exist`);
    totalBytes += fs.statSync(f).size;
  }
  fs.mkdirSync(options.outDir, { recursive: true });
  const isOurs = (f: string) =>
    f.startsWith(`${prefix}-`) && (f.endsWith('.npy') || f.endsWith('.json') || f.endsWith('.csv.gz'));
  const existing = fs.readdirSync(options.outDir).filter(isOurs);
  if (existing.length > 0 && !options.overwrite) {
    throw new Error(
      `tokenize: ${options.outDir} already holds ${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''}; ` +
        `choose another folder or prefix, or pass overwrite`,
    );
  }
  return { prefix, spec, tokenizer, eosId, dtype, allowSpecial, maxTokens, nWorkers, totalBytes, isOurs };
}

/**
 * Writes tokenized chunks into parts (temporary files until commit), counting documents, tokens and skipped lines;
 * commit puts the finished parts in place, discard removes every temporary file.
 */
class PartWriter {
  readonly parts: PartState[] = [];
  readonly finished: { part: PartState; meta: TokenFileMetadata }[] = [];
  readonly malformed: MalformedLine[] = [];
  documents = 0;
  tokens = 0;
  skipped = 0;
  invalidUtf8Documents = 0;
  private current: PartState | null = null;
  private skippedSincePart = 0; // malformed lines not yet attributed to a part
  private readonly tag = `${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly options: TokenizeOptions,
    private readonly setup: TokenizeSetup,
  ) {}

  private openPart(): PartState {
    const index = this.parts.length;
    const base = path.join(this.options.outDir, `.${this.setup.prefix}-${pad5(index)}`);
    const tokensTmp = `${base}.npy.tmp-${this.tag}`;
    const csvTmp = `${base}.csv.gz.tmp-${this.tag}`;
    const fd = fs.openSync(tokensTmp, 'wx');
    const gzip = createGzip();
    const out = fs.createWriteStream(csvTmp, { flags: 'wx' });
    gzip.pipe(out);
    const gzipDone = new Promise<void>((resolve, reject) => {
      out.on('finish', resolve);
      out.on('error', reject);
      gzip.on('error', reject);
    });
    gzipDone.catch(() => {}); // observed in closePart
    const part: PartState = {
      index,
      tokensTmp,
      csvTmp,
      fd,
      gzip,
      out,
      gzipDone,
      hash: createHash('sha256'),
      tokens: 0,
      documents: 0,
      sources: {},
      inputs: new Set(),
      skipped: 0,
    };
    this.parts.push(part);
    return part;
  }

  private async closePart(part: PartState): Promise<void> {
    fs.fsyncSync(part.fd);
    fs.closeSync(part.fd);
    part.fd = -1;
    part.gzip.end();
    await part.gzipDone;
    const { prefix, dtype, tokenizer, eosId } = this.setup;
    const finalName = `${prefix}-${pad5(part.index)}`;
    this.finished.push({
      part,
      meta: {
        format: TOKEN_FILE_FORMAT,
        version: 1,
        tokens_file: `${finalName}.npy`,
        boundaries_file: `${finalName}.csv.gz`,
        dtype,
        byte_order: 'little',
        tokenizer: tokenizer.name,
        vocab_size: tokenizer.vocabSize,
        eos_token_id: eosId,
        num_tokens: part.tokens,
        num_documents: part.documents,
        sources: part.sources,
        inputs: [...part.inputs],
        skipped_lines: part.skipped,
        sha256: part.hash.digest('hex'),
      },
    });
  }

  private recorded(file: string): string {
    const rel = this.options.recordPathsRelativeTo;
    return rel === undefined ? file : path.relative(rel, file).split(path.sep).join('/');
  }

  /** Counts a chunk's invalid UTF-8 documents and malformed lines (strict: throws at the first). */
  private countProblems(inputFile: string, r: TokenizedChunk): void {
    const { options } = this;
    if (options.strict) throwFirstProblem(inputFile, r);
    for (const bad of r.invalidUtf8) {
      this.invalidUtf8Documents++;
      options.onInvalidUtf8?.({ file: inputFile, ...bad });
    }
    for (const err of r.errors) {
      const m: MalformedLine = { file: inputFile, line: err.line, message: err.message };
      this.skipped++;
      this.skippedSincePart++;
      if (this.malformed.length < 1000) this.malformed.push(m);
      options.onMalformed?.(m);
    }
  }

  /** Appends a tokenized chunk of `inputFile`, opening a new part whenever the current one would overflow. */
  async consume(inputFile: string, r: TokenizedChunk): Promise<void> {
    const file = this.recorded(inputFile);
    this.countProblems(inputFile, r);
    const { maxTokens, dtype } = this.setup;
    // Runs of documents that go to the same part are written with one write and one gzip call.
    const csvFile = csvField(file);
    let offset = 0;
    let d = 0;
    while (d < r.docLengths.length) {
      const first = r.docLengths[d];
      if (this.current === null || (this.current.tokens > 0 && this.current.tokens + first > maxTokens)) {
        if (this.current) await this.closePart(this.current);
        this.current = this.openPart();
      }
      const part = this.current;
      part.skipped += this.skippedSincePart;
      this.skippedSincePart = 0;
      const runStart = offset;
      let rows = '';
      do {
        const len = r.docLengths[d];
        if (offset > runStart && part.tokens + len > maxTokens) break;
        rows += `${part.tokens},${part.tokens + len},${csvField(r.ids[d])},${csvFile},${r.lineNos[d]}\n`;
        part.tokens += len;
        part.documents++;
        const src = (part.sources[r.sources[d]] ??= { documents: 0, tokens: 0 });
        src.documents++;
        src.tokens += len;
        this.documents++;
        this.tokens += len;
        offset += len;
        d++;
      } while (d < r.docLengths.length);
      part.inputs.add(file);
      const bytes = encodeTokens(r.tokens.subarray(runStart, offset), dtype);
      let written = 0;
      while (written < bytes.length) written += fs.writeSync(part.fd, bytes, written, bytes.length - written);
      part.hash.update(bytes);
      if (!part.gzip.write(rows)) await new Promise<void>((res) => part.gzip.once('drain', () => res()));
    }
  }

  /** Closes the last part (an empty one when there were no documents at all). */
  async finish(): Promise<void> {
    if (this.current === null) this.current = this.openPart();
    this.current.skipped += this.skippedSincePart;
    await this.closePart(this.current);
  }

  /** Removes replaced outputs (metadata first), renames the data files into place, then writes the metadata. */
  commit(): void {
    const { outDir } = this.options;
    const { isOurs } = this.setup;
    for (const f of fs.readdirSync(outDir).filter((f) => isOurs(f) && f.endsWith('.json'))) {
      fs.rmSync(path.join(outDir, f));
    }
    for (const f of fs.readdirSync(outDir).filter(isOurs)) fs.rmSync(path.join(outDir, f));
    for (const { part, meta } of this.finished) {
      fs.renameSync(part.tokensTmp, path.join(outDir, meta.tokens_file));
      fs.renameSync(part.csvTmp, path.join(outDir, meta.boundaries_file));
    }
    for (const { meta } of this.finished) {
      const metaPath = path.join(outDir, meta.tokens_file.replace(/\.npy$/, '.json'));
      const body = Buffer.from(JSON.stringify(meta, null, 2) + '\n');
      writeFileAtomically(metaPath, (fd) => fs.writeSync(fd, body));
    }
  }

  /** Closes and removes every temporary file of a run that did not commit. */
  discard(): void {
    for (const p of this.parts) {
      if (p.fd >= 0) {
        try {
          fs.closeSync(p.fd);
        } catch {
          /* already closed */
        }
      }
      p.gzip.destroy();
      p.out.destroy();
      fs.rmSync(p.tokensTmp, { force: true });
      fs.rmSync(p.csvTmp, { force: true });
    }
  }
}

/** Reports progress through options.onProgress, at most once per interval unless done. */
function progressReporter(
  options: TokenizeOptions,
  start: number,
  totalBytes: number,
  writer: PartWriter,
  read: { file: string; bytesBefore: number; bytesInFile: number },
): (done: boolean) => void {
  let lastProgress = -Infinity;
  const interval = options.progressIntervalMs ?? 500;
  return (done) => {
    if (!options.onProgress) return;
    const now = performance.now();
    if (!done && now - lastProgress < interval) return;
    lastProgress = now;
    const elapsedSec = (now - start) / 1000;
    const { documents, tokens } = writer;
    options.onProgress({
      file: read.file,
      documents,
      tokens,
      skippedLines: writer.skipped,
      bytesRead: read.bytesBefore + read.bytesInFile,
      totalBytes,
      elapsedSec,
      documentsPerSec: elapsedSec > 0 ? documents / elapsedSec : 0,
      tokensPerSec: elapsedSec > 0 ? tokens / elapsedSec : 0,
      done,
    });
  };
}

/** The pool to tokenize with: options.pool (checked to match this call), one of its own, or none (workers 0). */
function checkPool(options: TokenizeOptions, setup: TokenizeSetup): TokenizerPool | null {
  const pool = options.pool ?? null;
  const { spec, eosId, allowSpecial } = setup;
  if (pool && (pool.spec !== spec || pool.eosId !== eosId || pool.allowSpecial !== allowSpecial)) {
    throw new Error(
      `tokenize: the given pool tokenizes with ${pool.spec} (eos ${pool.eosId}, allowSpecial ${pool.allowSpecial}), ` +
        `this call asks for ${spec} (eos ${eosId}, allowSpecial ${allowSpecial})`,
    );
  }
  return pool;
}

/** Tokenizes Dolma JSONL documents into OLMo token files. See the file comment for the format and guarantees. */
export async function tokenize(options: TokenizeOptions): Promise<TokenizeResult> {
  const start = performance.now();
  const setup = resolveSetup(options);
  const { spec, tokenizer, eosId, allowSpecial, nWorkers, totalBytes } = setup;
  const writer = new PartWriter(options, setup);
  const read = { file: options.inputs[0], bytesBefore: 0, bytesInFile: 0 };
  const progress = progressReporter(options, start, totalBytes, writer, read);

  let pool = checkPool(options, setup);
  const ownPool = pool === null && nWorkers > 0;
  let committed = false;
  try {
    if (ownPool)
      pool = await TokenizerPool.start({ tokenizer: spec, workers: nWorkers, eosTokenId: eosId, allowSpecial });
    const maxInFlight = Math.max(2, (pool?.size ?? 0) * 2);
    const queue: { file: string; result: Promise<TokenizedChunk> }[] = [];
    const drainOne = async () => {
      const q = queue.shift()!;
      await writer.consume(q.file, await q.result);
      progress(false);
    };
    let seq = 0;
    for (const file of options.inputs) {
      read.file = file;
      read.bytesInFile = 0;
      for await (const chunk of readByteLineChunks(file, {
        maxLines: options.chunkLines ?? 256,
        onBytes: (b) => (read.bytesInFile = b),
      })) {
        if (options.signal?.aborted) throw new Error('tokenize: aborted');
        const result = pool
          ? pool.run(seq++, chunk)
          : Promise.resolve(tokenizeChunk(chunk, tokenizer, eosId, allowSpecial));
        result.catch(() => {}); // rejections are observed when drained
        queue.push({ file, result });
        while (queue.length >= maxInFlight) await drainOne();
      }
      read.bytesBefore += fs.statSync(file).size;
      read.bytesInFile = 0;
    }
    while (queue.length > 0) await drainOne();
    if (options.signal?.aborted) throw new Error('tokenize: aborted');
    await writer.finish();
    writer.commit();
    committed = true;
  } finally {
    if (ownPool && pool) await pool.close();
    if (!committed) writer.discard();
  }
  read.bytesBefore = totalBytes;
  progress(true);
  const elapsedSec = (performance.now() - start) / 1000;
  const { finished, documents, tokens } = writer;
  return {
    files: finished.map(({ meta }) => path.join(options.outDir, meta.tokens_file)),
    metadata: finished.map(({ meta }) => meta),
    documents,
    tokens,
    skippedLines: writer.skipped,
    malformed: writer.malformed,
    invalidUtf8Documents: writer.invalidUtf8Documents,
    elapsedSec,
    tokensPerSec: elapsedSec > 0 ? tokens / elapsedSec : 0,
  };
}
