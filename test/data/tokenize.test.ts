// Documents → OLMo token files: exact bytes, dtype choice, EOS placement, metadata and boundaries, gzip input,
// malformed lines, atomic commit, and identical output for any worker count.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { dolma2Tokenizer } from '../../src/tokenizers/index.ts';
import { BYTE_TO_UNICODE } from '../../src/tokenizers/text.ts';
import { readTokenFileMetadata, TokenFile, tokenize, type MalformedLine } from '../../src/data/index.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-data-tok-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = (name: string) => join(root, `${name}-${n++}`);

const DOCS = [
  { id: 'a1', text: 'The capital of Norland is Vell.', source: 'facts' },
  { id: 'a2', text: 'Anna has 3 apples.\nShe buys 5 more.', source: 'math' },
  { id: 'a3', text: 'Ünïcödé text — with <|endoftext|> inside and   spaces.', source: 'facts' },
];
const jsonl = (docs: unknown[]) => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';

function writeInput(name: string, body: string | Buffer): string {
  const d = dir('in');
  mkdirSync(d, { recursive: true });
  const f = join(d, name);
  writeFileSync(f, body);
  return f;
}

function expectedIds(texts: string[], encode: (t: string) => number[], eos: number): number[] {
  return texts.flatMap((t) => [...encode(t), eos]);
}

function u32le(ids: number[]): Buffer {
  const b = Buffer.alloc(ids.length * 4);
  ids.forEach((v, i) => b.writeUInt32LE(v, i * 4));
  return b;
}

test('dolma2: uint32 little-endian tokens, EOS after each document, metadata and boundaries', async () => {
  const input = writeInput('docs.jsonl', jsonl(DOCS));
  const out = dir('out');
  const r = await tokenize({ inputs: [input], outDir: out, workers: 0 });
  const tok = dolma2Tokenizer();
  const ids = expectedIds(
    DOCS.map((d) => d.text),
    (t) => tok.encode(t),
    100257,
  );
  const bytes = readFileSync(join(out, 'part-00000.npy'));
  assert.deepEqual(bytes, u32le(ids));
  // The special-token text inside a document maps to its id (HF/dolma behaviour).
  assert.ok(ids.filter((x) => x === 100257).length === 4);
  assert.equal(r.tokens, ids.length);
  assert.equal(r.documents, 3);

  const meta = readTokenFileMetadata(join(out, 'part-00000.npy'));
  assert.equal(meta.dtype, 'uint32');
  assert.equal(meta.tokenizer, 'dolma2');
  assert.equal(meta.eos_token_id, 100257);
  assert.equal(meta.num_tokens, ids.length);
  assert.equal(meta.num_documents, 3);
  assert.equal(meta.sha256, createHash('sha256').update(bytes).digest('hex'));
  const l0 = tok.encode(DOCS[0].text).length + 1;
  const l1 = tok.encode(DOCS[1].text).length + 1;
  const l2 = tok.encode(DOCS[2].text).length + 1;
  assert.deepEqual(meta.sources, { facts: { documents: 2, tokens: l0 + l2 }, math: { documents: 1, tokens: l1 } });
  const rows = gunzipSync(readFileSync(join(out, 'part-00000.csv.gz')))
    .toString('utf8')
    .trim()
    .split('\n');
  assert.deepEqual(rows, [
    `0,${l0},a1,${input},1`,
    `${l0},${l0 + l1},a2,${input},2`,
    `${l0 + l1},${l0 + l1 + l2},a3,${input},3`,
  ]);
  // Every document ends with EOS at its end offset.
  const tf = new TokenFile(join(out, 'part-00000.npy'));
  for (const row of rows) {
    const end = Number(row.split(',')[1]);
    assert.equal(tf.read(end - 1, 1)[0], 100257);
  }
  tf.close();
});

// A tiny byte-level BPE tokenizer.json (vocab 260): its ids fit uint16.
function tinyTokenizerDir(): string {
  const d = dir('tiny-tok');
  mkdirSync(d, { recursive: true });
  const vocab: Record<string, number> = { '<|endoftext|>': 0, '<|padding|>': 1 };
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_UNICODE[b]] = 2 + b;
  vocab['he'] = 258;
  vocab['ll'] = 259;
  const added = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  writeFileSync(
    join(d, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [added(0, '<|endoftext|>'), added(1, '<|padding|>')],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        merges: ['h e', 'l l'],
      },
    }),
  );
  writeFileSync(
    join(d, 'tokenizer_config.json'),
    JSON.stringify({ eos_token: '<|endoftext|>', pad_token: '<|padding|>' }),
  );
  return d;
}

test('a vocabulary that fits 16 bits gives uint16 files; dolma2 refuses uint16', async () => {
  const tokDir = tinyTokenizerDir();
  const input = writeInput(
    'docs.jsonl',
    jsonl([
      { id: 'x', text: 'hello', source: 's' },
      { id: 'y', text: 'hell', source: 's' },
    ]),
  );
  const out = dir('out16');
  await tokenize({ inputs: [input], outDir: out, tokenizer: tokDir, workers: 0 });
  const meta = readTokenFileMetadata(join(out, 'part-00000.npy'));
  assert.equal(meta.dtype, 'uint16');
  assert.equal(meta.eos_token_id, 0);
  const expected = [258, 259, 2 + 'o'.charCodeAt(0), 0, 258, 259, 0]; // he ll o EOS he ll EOS
  const b = Buffer.alloc(expected.length * 2);
  expected.forEach((v, i) => b.writeUInt16LE(v, i * 2));
  assert.deepEqual(readFileSync(join(out, 'part-00000.npy')), b);
  await assert.rejects(
    tokenize({ inputs: [input], outDir: dir('bad'), dtype: 'uint16', workers: 0 }),
    /uint16 cannot hold ids of dolma2/,
  );
});

test('gzip input gives the same tokens as plain JSONL', async () => {
  const plain = writeInput('docs.jsonl', jsonl(DOCS));
  const gz = writeInput('docs.jsonl.gz', gzipSync(jsonl(DOCS)));
  const a = dir('plain');
  const b = dir('gz');
  await tokenize({ inputs: [plain], outDir: a, workers: 0 });
  await tokenize({ inputs: [gz], outDir: b, workers: 0 });
  assert.deepEqual(readFileSync(join(a, 'part-00000.npy')), readFileSync(join(b, 'part-00000.npy')));
  // A corrupt gzip file fails with the file name.
  const bad = writeInput('bad.jsonl.gz', gzipSync(jsonl(DOCS)).subarray(0, 20));
  await assert.rejects(tokenize({ inputs: [bad], outDir: dir('badgz'), workers: 0 }), /bad\.jsonl\.gz/);
});

const MIXED = [
  JSON.stringify(DOCS[0]),
  '{"id": "broken", "text": ',
  '',
  JSON.stringify({ id: 'n', text: 42 }),
  JSON.stringify({ id: 'm', source: 'x' }),
  '[1, 2]',
  JSON.stringify(DOCS[1]),
].join('\n');

test('malformed lines are reported with file and line and skipped; strict mode fails and writes nothing', async () => {
  const input = writeInput('mixed.jsonl', MIXED);
  const seen: MalformedLine[] = [];
  const out = dir('mixed');
  const r = await tokenize({ inputs: [input], outDir: out, workers: 0, onMalformed: (m) => seen.push(m) });
  assert.equal(r.documents, 2);
  assert.equal(r.skippedLines, 4);
  assert.deepEqual(
    seen.map((m) => [m.file, m.line]),
    [
      [input, 2],
      [input, 4],
      [input, 5],
      [input, 6],
    ],
  );
  assert.match(seen[0].message, /invalid JSON/);
  assert.match(seen[1].message, /"text" must be a string, got number/);
  assert.match(seen[2].message, /missing "text"/);
  assert.match(seen[3].message, /expected a JSON object, got an array/);
  assert.equal(readTokenFileMetadata(join(out, 'part-00000.npy')).skipped_lines, 4);

  const strictOut = dir('strict');
  await assert.rejects(tokenize({ inputs: [input], outDir: strictOut, workers: 0, strict: true }), (e: Error) =>
    e.message.includes(`${input}:2: invalid JSON`),
  );
  assert.deepEqual(readdirSync(strictOut), []);
});

test('a failure mid-way leaves no output that looks complete and keeps the previous one', async () => {
  const docs = Array.from({ length: 200 }, (_, i) => ({
    id: `d${i}`,
    text: `Document number ${i} says hello.`,
    source: 's',
  }));
  const input = writeInput('many.jsonl', jsonl(docs));
  const out = dir('fail');
  const first = await tokenize({ inputs: [input], outDir: out, workers: 0, maxTokensPerFile: 200 });
  const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f))]));
  assert.ok(first.files.length > 3);
  let calls = 0;
  await assert.rejects(
    tokenize({
      inputs: [input],
      outDir: out,
      workers: 0,
      overwrite: true,
      maxTokensPerFile: 100,
      chunkLines: 10,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (!p.done && ++calls === 5) throw new Error('simulated crash');
      },
    }),
    /simulated crash/,
  );
  // No temporary files, and the earlier complete output is untouched.
  assert.deepEqual(Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f))])), before);

  const fresh = dir('fail-fresh');
  calls = 0;
  await assert.rejects(
    tokenize({
      inputs: [input],
      outDir: fresh,
      workers: 0,
      maxTokensPerFile: 100,
      chunkLines: 10,
      progressIntervalMs: 0,
      onProgress: () => {
        if (++calls === 5) throw new Error('simulated crash');
      },
    }),
  );
  assert.deepEqual(readdirSync(fresh), []);
  // Existing outputs are not replaced without overwrite.
  await assert.rejects(tokenize({ inputs: [input], outDir: out, workers: 0 }), /already holds part-00000/);
});

test('output is byte-identical with 0, 1 and 2 worker threads, split into parts without splitting documents', async () => {
  const docs = Array.from({ length: 300 }, (_, i) => ({
    id: `d${i}`,
    text: `Doc ${i}: ${'word '.repeat(i % 17)}${i % 3 === 0 ? 'Ünïcödé ✓' : 'plain'} ${i * 7}.`,
    source: i % 2 ? 'odd' : 'even',
  }));
  const input = writeInput('par.jsonl', jsonl(docs));
  const outs: string[] = [];
  for (const workers of [0, 1, 2]) {
    const out = dir(`w${workers}`);
    await tokenize({
      inputs: [input],
      outDir: out,
      workers,
      chunkLines: 16,
      maxTokensPerFile: 1000,
      recordPathsRelativeTo: root,
    });
    outs.push(out);
  }
  const files = readdirSync(outs[0]).sort();
  assert.ok(files.length >= 9, `expected several parts, got ${files.join(', ')}`);
  for (const o of outs.slice(1)) {
    assert.deepEqual(readdirSync(o).sort(), files);
    for (const f of files) assert.deepEqual(readFileSync(join(o, f)), readFileSync(join(outs[0], f)), f);
  }
  // Parts concatenated = the single-file tokenization; each part ends with EOS.
  const single = dir('single');
  await tokenize({ inputs: [input], outDir: single, workers: 0 });
  const parts = files.filter((f) => f.endsWith('.npy'));
  assert.deepEqual(
    Buffer.concat(parts.map((f) => readFileSync(join(outs[0], f)))),
    readFileSync(join(single, 'part-00000.npy')),
  );
  for (const f of parts) {
    const b = readFileSync(join(outs[0], f));
    assert.equal(b.readUInt32LE(b.length - 4), 100257);
    assert.ok(existsSync(join(outs[0], f.replace('.npy', '.json'))));
  }
});
