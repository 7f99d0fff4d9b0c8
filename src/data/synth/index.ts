// The embedded default corpus (`olmo data synth`): a deterministic small world, written as Dolma sources for a
// pretraining and an anneal mix, a validation split, OLMES-style tasks and post-training data, tokenized into OLMo
// token files with a ready data config. Same seed and scale → byte-identical output (no timestamps, no absolute
// paths). Layout of outDir:
//
//   pretrain/{world-facts,stories,arithmetic,web-noise,forum-qa}.jsonl   Dolma docs {id, text, source}
//   anneal/{facts-hq,qa,math-worked}.jsonl                      Dolma docs (Q&A over train facts only)
//   validation/pretrain.jsonl                                   held-out docs from the pretraining generators
//   tokenizer/{tokenizer.json,tokenizer_config.json}            byte-level BPE trained on pretrain + anneal text
//   tokens/{pretrain,anneal}/<source>/part-00000.{npy,csv.gz,json}, tokens/validation/…   (uint16 with the synth
//                                                                 tokenizer; uint32 with tokenizer: 'dolma2')
//   eval/synth_world/{train,test}.jsonl   MC, ARC schema        eval/synth_arith/{train,test}.jsonl  MC
//   eval/synth_gsm/{train,test}.jsonl     GSM8K schema
//   sft/{train,test}.jsonl   dpo/{train,test}.jsonl (test: held-out facts, fresh problems)   rlvr/{train,test}.jsonl
//   world.json          the world and every fact with its split
//   data-config.json    the two-stage data config (paths relative to outDir; parse with parseDataConfig)
//   synth.json          manifest (counts, sizes, unigram entropy); written last: its presence marks completion
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomically } from '../../io/safetensors-file.ts';
import { DOLMA2_VOCAB_SIZE } from '../../tokenizers/dolma2.ts';
import { saveTrainedTokenizer, trainByteLevelBpe } from '../../tokenizers/train-bpe.ts';
import type { DataConfigInput } from '../config.ts';
import { Rng } from '../random.ts';
import { expandTokenPaths, metadataPathFor, TokenFile, type TokenFileMetadata } from '../token-file.ts';
import { tokenize, TokenizerPool } from '../tokenize.ts';
import { arithmeticMc, dpoRows, freshWordProblems, gsmRows, rlvrRows, sftRows, worldMc } from './tasks.ts';
import {
  arithmeticDoc,
  factsHqDoc,
  forumQaDoc,
  mathWorkedDoc,
  qaDoc,
  storyDoc,
  webNoiseDoc,
  worldFactsDoc,
} from './text.ts';
import { buildWorld, type World } from './world.ts';

export {
  buildWorld,
  QUESTIONS,
  STATEMENTS,
  RELATIONS,
  answerSentence,
  type Fact,
  type World,
  type Relation,
} from './world.ts';
export type { ChatMessage, DpoRow, GsmRow, McRow, RlvrRow, SftRow } from './tasks.ts';

export const SYNTH_VERSION = 5;

/**
 * Vocabulary of the synth tokenizer (20·64 ids: 2 special tokens, 256 bytes, 1022 merges). The corpus has only
 * ~1,300–1,600 distinct pre-tokenised words (the cl100k regex keeps words, numbers ≤ 3 digits and punctuation
 * apart), so byte-level BPE turns into a word-level vocabulary by ~1,550 merges, after which merges occur ≤ 3
 * times. At scale 1 (seed 1234) the pretraining text takes 0.291 tokens/byte at 1024, 0.271 at 1280, 0.269 at
 * 1536 and at the limit (~2,080): 1280 is within 1% of the limit, its last merge still occurs ~145 times, and
 * training reaches it even at scale 0.05 (where the corpus runs out of pairs at ~1,460).
 */
export const SYNTH_TOKENIZER_VOCAB_SIZE = 1280;

export interface SynthesizeOptions {
  outDir: string;
  /** Default 1234. */
  seed?: number;
  /** Multiplies the amount of pretraining/anneal text; scale 1 ≈ 4 MB of pretraining text (≈1M dolma2 tokens). */
  scale?: number;
  /** Also write OLMo token files, the data config and the entropy (default true). */
  tokenize?: boolean;
  /** Tokenizer worker threads (default: all cores). */
  workers?: number;
  /** Sequence length of the written data config (default 256). */
  sequenceLength?: number;
  /**
   * 'synth' (default): train a byte-level BPE tokenizer on the pretraining + anneal text, write it to
   * outDir/tokenizer/ and tokenize with it (small vocabulary: small embedding and LM head). 'dolma2': OLMo 2's
   * tokenizer (100,278 ids, of which the corpus uses ~1,400).
   */
  tokenizer?: 'synth' | 'dolma2';
  /** Vocabulary of the 'synth' tokenizer (default SYNTH_TOKENIZER_VOCAB_SIZE). */
  vocabSize?: number;
  onProgress?: (message: string) => void;
}

export interface SynthManifest {
  format: 'olmo-synth';
  version: number;
  seed: number;
  scale: number;
  world: { countries: number; cities: number; people: number; facts: number; trainFacts: number; testFacts: number };
  /** Documents and bytes per JSONL file (paths relative to outDir). */
  files: Record<string, { rows: number; bytes: number }>;
  /**
   * The tokenizer of the token files (absent when tokenize is false): 'dolma2', or 'synth' with its folder
   * (relative to outDir) and its number of ids.
   */
  tokenizer?: { name: 'synth' | 'dolma2'; path?: string; vocabSize: number };
  /** Tokens per tokenized source (absent when tokenize is false). */
  tokens?: Record<string, number>;
  /**
   * Unigram entropy of the pretraining mix under the tokenizer used (EOS included), the baseline that a
   * model's validation loss (nats/token) must beat: a model that ignores context cannot do better.
   */
  unigramEntropy?: { nats: number; bits: number; tokens: number; distinctTokens: number };
  /**
   * Cross-entropy (nats/token) on the validation split of count-based models fitted on the pretraining mix:
   * unigram (add-0.01) and bigram (0.9·bigram + 0.1·unigram). Reference points for a trained model's loss.
   */
  baselines?: { unigramValidationNats: number; bigramValidationNats: number };
  dataConfig?: string;
}

/** Streams JSONL rows to a temporary file; `commit` renames it into place. */
class JsonlWriter {
  private fd: number;
  private tmp: string;
  private parts: string[] = [];
  private size = 0;
  rows = 0;
  bytes = 0;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.tmp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    this.fd = fs.openSync(this.tmp, 'w');
  }

  write(row: unknown): void {
    const line = JSON.stringify(row) + '\n';
    this.parts.push(line);
    this.size += line.length;
    this.rows++;
    if (this.size > 1 << 20) this.flush();
  }

  private flush(): void {
    const buf = Buffer.from(this.parts.join(''));
    let done = 0;
    while (done < buf.length) done += fs.writeSync(this.fd, buf, done);
    this.bytes += buf.length;
    this.parts = [];
    this.size = 0;
  }

  commit(): void {
    this.flush();
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.file);
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

type DocGen = (world: World, rng: Rng) => string;

/** One Dolma source: its name, its document count at scale 1 and its generator. */
interface DocSource {
  source: string;
  base: number;
  gen: DocGen;
}

interface TextSources {
  pretrain: DocSource[];
  anneal: DocSource[];
}

/** What every step of `synthesize` shares: the options resolved, the world and the manifest's file table. */
interface SynthRun {
  seed: number;
  scale: number;
  outDir: string;
  log: (message: string) => void;
  world: World;
  trainFacts: World['facts'];
  testFacts: World['facts'];
  files: SynthManifest['files'];
  /** Word-problem questions that occur in training text (so that held-out problems stay fresh). */
  avoid: Set<string>;
}

/** Writes the corpus; see the file comment for the layout. Returns the manifest (also written to synth.json). */
export async function synthesize(options: SynthesizeOptions): Promise<SynthManifest> {
  const run = startRun(options);
  const sources = docSources(run);
  writeTextSources(run, sources);
  writeTaskData(run);
  writeJson(path.join(run.outDir, 'world.json'), run.world, 1);

  const manifest = baseManifest(run);
  const tokenizerName = options.tokenizer ?? 'synth';
  if (tokenizerName !== 'synth' && tokenizerName !== 'dolma2') {
    throw new Error(`synthesize: tokenizer must be 'synth' or 'dolma2', got ${JSON.stringify(tokenizerName)}`);
  }
  if (options.tokenize ?? true) await tokenizeCorpus(run, options, manifest, sources);

  writeJson(path.join(run.outDir, 'synth.json'), manifest);
  run.log('done');
  return manifest;
}

/** Checks the options, clears an old manifest (the output is incomplete until it is rewritten) and builds the world. */
function startRun(options: SynthesizeOptions): SynthRun {
  const seed = options.seed ?? 1234;
  const scale = options.scale ?? 1;
  if (!(scale > 0 && Number.isFinite(scale)))
    throw new Error(`synthesize: scale must be a positive number, got ${scale}`);
  const outDir = options.outDir;
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(path.join(outDir, 'synth.json'), { force: true });
  const world = buildWorld(seed);
  return {
    seed,
    scale,
    outDir,
    log: options.onProgress ?? (() => {}),
    world,
    trainFacts: world.facts.filter((f) => f.split === 'train'),
    testFacts: world.facts.filter((f) => f.split === 'test'),
    files: {},
    avoid: new Set<string>(),
  };
}

/** The pretraining and anneal sources (the anneal's Q&A is over train facts only). */
function docSources(run: SynthRun): TextSources {
  const { trainFacts, avoid } = run;
  return {
    pretrain: [
      { source: 'world-facts', base: 6000, gen: worldFactsDoc },
      { source: 'stories', base: 3000, gen: storyDoc },
      { source: 'arithmetic', base: 2000, gen: (w, r) => arithmeticDoc(w, r, avoid) },
      { source: 'web-noise', base: 1200, gen: webNoiseDoc },
      { source: 'forum-qa', base: 500, gen: (w, r) => forumQaDoc(w, trainFacts, r, avoid) },
    ],
    anneal: [
      { source: 'facts-hq', base: 2000, gen: factsHqDoc },
      { source: 'qa', base: 1500, gen: (_w, r) => qaDoc(trainFacts, r) },
      { source: 'math-worked', base: 1500, gen: (w, r) => mathWorkedDoc(w, r, avoid) },
    ],
  };
}

/** Documents of a source at the run's scale (at least 4). */
const docCount = (run: SynthRun, base: number) => Math.max(4, Math.round(base * run.scale));

/** Writes one JSONL file of Dolma documents, each generator drawing from its own random stream. */
function writeDocs(run: SynthRun, rel: string, gens: { source: string; n: number; gen: DocGen; stream: string }[]) {
  const w = new JsonlWriter(path.join(run.outDir, rel));
  try {
    for (const g of gens) {
      const rng = Rng.from(run.seed, g.stream);
      for (let i = 0; i < g.n; i++) {
        w.write({ id: `${g.source}-${String(i).padStart(6, '0')}`, text: g.gen(run.world, rng), source: g.source });
      }
    }
    w.commit();
  } catch (e) {
    w.abort();
    throw e;
  }
  run.files[rel] = { rows: w.rows, bytes: w.bytes };
}

function writeRows(run: SynthRun, rel: string, rows: readonly unknown[]): void {
  const w = new JsonlWriter(path.join(run.outDir, rel));
  for (const r of rows) w.write(r);
  w.commit();
  run.files[rel] = { rows: w.rows, bytes: w.bytes };
}

/** The pretraining and anneal sources, one file each, and the validation split drawn from the pretraining ones. */
function writeTextSources(run: SynthRun, { pretrain, anneal }: TextSources): void {
  run.log('writing pretraining sources');
  for (const s of pretrain)
    writeDocs(run, `pretrain/${s.source}.jsonl`, [
      { source: s.source, n: docCount(run, s.base), gen: s.gen, stream: `pretrain/${s.source}` },
    ]);
  run.log('writing anneal sources');
  for (const s of anneal)
    writeDocs(run, `anneal/${s.source}.jsonl`, [
      { source: s.source, n: docCount(run, s.base), gen: s.gen, stream: `anneal/${s.source}` },
    ]);
  run.log('writing validation split');
  writeDocs(
    run,
    'validation/pretrain.jsonl',
    pretrain.map((s) => ({
      source: s.source,
      n: Math.max(8, Math.round(docCount(run, s.base) * 0.05)),
      gen: s.gen,
      stream: `validation/${s.source}`,
    })),
  );
}

/**
 * The evaluation tasks and the post-training data. Runs after the text sources: the word problems must be fresh
 * against every question that the training text (and the sets drawn before them) contains.
 */
function writeTaskData(run: SynthRun): void {
  const { world, trainFacts, testFacts, avoid } = run;
  run.log('writing tasks and post-training data');
  const taskRng = (name: string) => Rng.from(run.seed, `tasks/${name}`);
  const rows = (rel: string, data: readonly unknown[]) => writeRows(run, rel, data);
  rows('eval/synth_world/train.jsonl', worldMc(world, trainFacts, taskRng('world-train')));
  rows('eval/synth_world/test.jsonl', worldMc(world, testFacts, taskRng('world-test')));
  rows('eval/synth_arith/train.jsonl', arithmeticMc(50, taskRng('arith-train'), 'synth_arith:train'));
  rows('eval/synth_arith/test.jsonl', arithmeticMc(200, taskRng('arith-test'), 'synth_arith:test'));
  // Test word problems first (fresh against all training text), then train ones (fresh against those too).
  const fresh = (n: number, stream: string) => freshWordProblems(world, n, taskRng(stream), avoid);
  const gsmTest = fresh(200, 'gsm-test');
  // 1,200 held-out RLVR prompts: RLVR moves the verified rate by a few points, which 200 items cannot resolve (the
  // quickstart report compares the stages on them item by item). The second 600 are drawn last (below).
  const rlvrTest = fresh(600, 'rlvr-test');
  const sftTestMath = fresh(100, 'sft-test');
  const gsmTrain = fresh(50, 'gsm-train');
  const sftMath = fresh(600, 'sft-train');
  const dpoMath = fresh(400, 'dpo-train');
  const rlvrTrain = fresh(1000, 'rlvr-train');
  const dpoTestMath = fresh(60, 'dpo-test'); // drawn late: the sets above stay as they were
  rlvrTest.push(...fresh(600, 'rlvr-test-2')); // drawn last, for the same reason
  rows('eval/synth_gsm/train.jsonl', gsmRows(gsmTrain, 'synth_gsm:train'));
  rows('eval/synth_gsm/test.jsonl', gsmRows(gsmTest, 'synth_gsm:test'));
  rows('sft/train.jsonl', sftRows(trainFacts, sftMath, taskRng('sft'), 'synth_sft:train'));
  rows('sft/test.jsonl', sftRows(testFacts, sftTestMath, taskRng('sft-t'), 'synth_sft:test'));
  rows('dpo/train.jsonl', dpoRows(world, trainFacts, dpoMath, taskRng('dpo')));
  rows('dpo/test.jsonl', dpoRows(world, testFacts, dpoTestMath, taskRng('dpo-test')));
  rows('rlvr/train.jsonl', rlvrRows(rlvrTrain, 'synth_rlvr:train'));
  rows('rlvr/test.jsonl', rlvrRows(rlvrTest, 'synth_rlvr:test'));
}

function baseManifest(run: SynthRun): SynthManifest {
  const { world } = run;
  return {
    format: 'olmo-synth',
    version: SYNTH_VERSION,
    seed: run.seed,
    scale: run.scale,
    world: {
      countries: world.countries.length,
      cities: world.cities.length,
      people: world.people.length,
      facts: world.facts.length,
      trainFacts: run.trainFacts.length,
      testFacts: run.testFacts.length,
    },
    files: run.files,
  };
}

/**
 * Tokenizes the text sources (training the synth tokenizer first when asked) and fills the manifest's tokenizer,
 * token counts, baselines and entropy; writes the data config.
 */
async function tokenizeCorpus(
  run: SynthRun,
  options: SynthesizeOptions,
  manifest: SynthManifest,
  sources: TextSources,
): Promise<void> {
  const spec = await prepareTokenizer(run, options, manifest, sources);
  const stats = await tokenizeSources(run, spec, options.workers ?? os.availableParallelism(), sources);
  const { counts, bigrams, total } = stats;
  const entropy = unigramEntropy(counts, total);
  manifest.tokens = stats.tokens;
  manifest.baselines = countBaselines(
    path.join(run.outDir, 'tokens/validation'),
    counts,
    bigrams,
    total,
    entropy.distinctTokens,
  );
  manifest.unigramEntropy = entropy;

  const config = dataConfig(
    options.sequenceLength ?? 256,
    manifest.tokenizer?.path ?? 'dolma2',
    sources.pretrain,
    stats.tokens,
  );
  writeJson(path.join(run.outDir, 'data-config.json'), config);
  manifest.dataConfig = 'data-config.json';
}

/**
 * Trains and saves the synth tokenizer on the pretraining + anneal text, or picks dolma2; records it in the
 * manifest. Returns the tokenizer spec to tokenize with.
 */
async function prepareTokenizer(
  run: SynthRun,
  options: SynthesizeOptions,
  manifest: SynthManifest,
  { pretrain, anneal }: TextSources,
): Promise<string> {
  if (options.tokenizer === 'dolma2') {
    fs.rmSync(path.join(run.outDir, 'tokenizer'), { recursive: true, force: true }); // from an earlier 'synth' run
    manifest.tokenizer = { name: 'dolma2', vocabSize: DOLMA2_VOCAB_SIZE };
    return 'dolma2';
  }
  const vocabSize = options.vocabSize ?? SYNTH_TOKENIZER_VOCAB_SIZE;
  run.log(`training the synth tokenizer (${vocabSize} ids)`);
  const trained = await trainByteLevelBpe({
    files: [...pretrain.map((s) => `pretrain/${s.source}.jsonl`), ...anneal.map((s) => `anneal/${s.source}.jsonl`)].map(
      (f) => path.join(run.outDir, f),
    ),
    vocabSize,
  });
  const spec = path.join(run.outDir, 'tokenizer');
  saveTrainedTokenizer(trained, spec);
  manifest.tokenizer = { name: 'synth', path: 'tokenizer', vocabSize: trained.stats.vocabSize };
  return spec;
}

interface TokenStats {
  /** Tokens per tokenized folder (relative to outDir). */
  tokens: Record<string, number>;
  /** Unigram and bigram counts of the pretraining mix, and its token count. */
  counts: Float64Array;
  bigrams: Map<number, number>;
  total: number;
}

/** Tokenizes the pretraining, anneal and validation text into token files, counting the pretraining mix's tokens. */
async function tokenizeSources(
  run: SynthRun,
  spec: string,
  workers: number,
  { pretrain, anneal }: TextSources,
): Promise<TokenStats> {
  const { outDir } = run;
  const stats: TokenStats = { tokens: {}, counts: new Float64Array(1 << 17), bigrams: new Map(), total: 0 };
  const pool = workers > 0 ? await TokenizerPool.start({ workers, tokenizer: spec }) : undefined;
  try {
    const tok = async (rel: string, inputs: string[]) => {
      run.log(`tokenizing ${rel}`);
      const r = await tokenize({
        inputs: inputs.map((f) => path.join(outDir, f)),
        outDir: path.join(outDir, rel),
        tokenizer: spec,
        workers: 0,
        pool,
        overwrite: true,
        strict: true,
        recordPathsRelativeTo: outDir,
      });
      if (spec !== 'dolma2') for (const f of r.files) relativizeTokenizer(f, outDir);
      stats.tokens[rel] = r.tokens;
      return r;
    };
    for (const s of pretrain) {
      const r = await tok(`tokens/pretrain/${s.source}`, [`pretrain/${s.source}.jsonl`]);
      for (const f of r.files) stats.total += countTokens(f, stats.counts, stats.bigrams);
    }
    for (const s of anneal) await tok(`tokens/anneal/${s.source}`, [`anneal/${s.source}.jsonl`]);
    await tok('tokens/validation', ['validation/pretrain.jsonl']);
  } finally {
    await pool?.close();
  }
  return stats;
}

function unigramEntropy(counts: Float64Array, total: number): NonNullable<SynthManifest['unigramEntropy']> {
  let h = 0;
  let distinct = 0;
  for (const c of counts) {
    if (c > 0) {
      const p = c / total;
      h -= p * Math.log(p);
      distinct++;
    }
  }
  return { nats: h, bits: h / Math.LN2, tokens: total, distinctTokens: distinct };
}

/**
 * Stage 1: the pretraining sources at their natural token shares, one pass. Stage 2 (anneal, as Dolmino):
 * high-quality sources up-sampled, with half pretraining replay, over a budget of half of stage 1.
 */
function dataConfig(
  L: number,
  tokenizer: string,
  pretrain: DocSource[],
  tokens: Record<string, number>,
): DataConfigInput {
  const pretrainTokens = pretrain.reduce((a, s) => a + tokens[`tokens/pretrain/${s.source}`], 0);
  return {
    sequenceLength: L,
    tokenizer,
    stages: [
      {
        name: 'pretrain',
        seed: 6198,
        mix: pretrain.map((s) => ({
          name: s.source,
          paths: [`tokens/pretrain/${s.source}`],
          proportion: round6(tokens[`tokens/pretrain/${s.source}`] / pretrainTokens),
        })),
      },
      {
        name: 'anneal',
        seed: 42,
        tokens: Math.max(L * 8, Math.round((pretrainTokens * 0.5) / L) * L),
        // Half replay of the pretraining sources: the anneal's linear decay to 0 then lowers the loss on the
        // pretraining distribution too, while the high-quality sources are up-sampled (Dolmino keeps ~50% web).
        mix: [
          { name: 'facts-hq', paths: ['tokens/anneal/facts-hq'], proportion: 0.25 },
          { name: 'qa', paths: ['tokens/anneal/qa'], proportion: 0.15 },
          { name: 'math-worked', paths: ['tokens/anneal/math-worked'], proportion: 0.1 },
          { name: 'world-facts', paths: ['tokens/pretrain/world-facts'], proportion: 0.2 },
          { name: 'stories', paths: ['tokens/pretrain/stories'], proportion: 0.12 },
          { name: 'arithmetic', paths: ['tokens/pretrain/arithmetic'], proportion: 0.13 },
          { name: 'web-noise', paths: ['tokens/pretrain/web-noise'], proportion: 0.05 },
        ],
      },
    ],
    validation: { paths: ['tokens/validation'] },
  };
}

/** Writes `value` as indented JSON with a final newline, atomically. */
function writeJson(file: string, value: unknown, indent = 2): void {
  const body = Buffer.from(JSON.stringify(value, null, indent) + '\n');
  writeFileAtomically(file, (fd) => fs.writeSync(fd, body));
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * `tokenize` records a tokenizer folder's tokenizer.json by the path it was given (absolute here); rewrite it
 * relative to outDir, like the inputs, so that the output does not depend on where it was written.
 */
function relativizeTokenizer(tokensFile: string, outDir: string): void {
  const metaPath = metadataPathFor(tokensFile);
  const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as TokenFileMetadata;
  if (!path.isAbsolute(meta.tokenizer)) return;
  meta.tokenizer = path.relative(outDir, meta.tokenizer).split(path.sep).join('/');
  writeJson(metaPath, meta);
}

const BIGRAM_KEY = 1 << 17; // ids < 2^17, so prev·2^17 + cur is an exact integer key

/** Calls `fn(prev, cur)` for every token of a file (prev = -1 for the first). */
function forEachToken(file: string, fn: (prev: number, cur: number) => void): number {
  const tf = new TokenFile(file);
  const chunk = 1 << 16;
  const buf = new Uint32Array(chunk);
  let prev = -1;
  try {
    for (let start = 0; start < tf.numTokens; start += chunk) {
      const n = Math.min(chunk, tf.numTokens - start);
      tf.read(start, n, buf);
      for (let i = 0; i < n; i++) {
        fn(prev, buf[i]);
        prev = buf[i];
      }
    }
    return tf.numTokens;
  } finally {
    tf.close();
  }
}

/** Adds a token file's unigram and bigram counts; returns its token count. */
function countTokens(file: string, counts: Float64Array, bigrams: Map<number, number>): number {
  return forEachToken(file, (prev, cur) => {
    if (cur >= BIGRAM_KEY) throw new Error(`${file}: token id ${cur} ≥ 2^17`);
    counts[cur]++;
    if (prev >= 0) {
      const k = prev * BIGRAM_KEY + cur;
      bigrams.set(k, (bigrams.get(k) ?? 0) + 1);
    }
  });
}

function countBaselines(
  validationDir: string,
  counts: Float64Array,
  bigrams: Map<number, number>,
  total: number,
  distinct: number,
): { unigramValidationNats: number; bigramValidationNats: number } {
  let hu = 0;
  let hb = 0;
  let n = 0;
  for (const f of expandTokenPaths([validationDir])) {
    forEachToken(f, (prev, cur) => {
      if (prev < 0) return;
      const pu = ((cur < BIGRAM_KEY ? counts[cur] : 0) + 0.01) / (total + 0.01 * (distinct + 1));
      const ctx = counts[prev] ?? 0;
      const pb = 0.9 * ((bigrams.get(prev * BIGRAM_KEY + cur) ?? 0) / Math.max(ctx, 1)) + 0.1 * pu;
      hu -= Math.log(pu);
      hb -= Math.log(pb);
      n++;
    });
  }
  return { unigramValidationNats: hu / n, bigramValidationNats: hb / n };
}
