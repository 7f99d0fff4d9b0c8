// Byte-level BPE training: merges on hand-checkable corpora, agreement with a naive recount-every-step trainer,
// the tokenizer.json written (loaded through loadTokenizer: vocabulary, special ids, config, round trip), determinism,
// file inputs, errors, and `olmo tokenizer train`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tokenizerCommand } from '../../src/cli/tokenizer.ts';
import { UsageError } from '../../src/cli/command.ts';
import {
  CL100K_PATTERN,
  HfTokenizer,
  TULU_CHAT_TEMPLATE,
  applyChatTemplate,
  loadTokenizer,
} from '../../src/tokenizers/index.ts';
import { BYTE_TO_UNICODE } from '../../src/tokenizers/text.ts';
import {
  BpeWordCounter,
  CL100K_HF_PATTERN,
  saveTrainedTokenizer,
  tokenizerJsonString,
  trainByteLevelBpe,
  trainByteLevelBpeSync,
  type TrainedBpe,
} from '../../src/tokenizers/train-bpe.ts';
import { rng } from '../helpers.ts';
import { randomCodePoints, randomText } from './util.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-train-bpe-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const save = (t: TrainedBpe): string => {
  const dir = join(root, `tok${dirs++}`);
  saveTrainedTokenizer(t, dir);
  return dir;
};
const B = 2 + 256; // default specials + bytes

test('aaabdaaabac: aa, then ab (tie with aa·a goes to the smaller ids), then aa·ab', () => {
  const t = trainByteLevelBpeSync({ texts: ['aaabdaaabac'], vocabSize: B + 3 });
  assert.deepEqual(t.merges, [
    ['a', 'a'],
    ['a', 'b'],
    ['aa', 'ab'],
  ]);
  assert.deepEqual(t.vocab.slice(B), ['aa', 'ab', 'aaab']);
  assert.equal(t.stats.tokens, 5); // aaab d aaab a c
  const tok = loadTokenizer(save(t));
  assert.deepEqual(
    tok.encode('aaabdaaabac').map((id) => tok.idToToken(id)),
    ['aaab', 'd', 'aaab', 'a', 'c'],
  );
  // One more merge: every remaining pair occurs once; (a, c) has the smallest ids.
  assert.deepEqual(trainByteLevelBpeSync({ texts: ['aaabdaaabac'], vocabSize: B + 4 }).merges.at(-1), ['a', 'c']);
});

test("HF BpeTrainer's own test case: re, are, is with min_frequency 2", () => {
  // tokenizers/src/models/bpe/trainer.rs `test_train`: one document per word, each pre-tokenised alone.
  const counts: [string, number][] = [
    ['roses', 1],
    ['are', 2],
    ['red', 1],
    ['voilets', 1],
    ['blue', 1],
    ['BERT', 1],
    ['is', 2],
    ['big', 1],
    ['and', 1],
    ['so', 1],
  ];
  const texts = counts.flatMap(([w, n]) => Array<string>(n).fill(w));
  const t = trainByteLevelBpeSync({
    texts,
    vocabSize: 1000,
    minFrequency: 2,
    specialTokens: ['<|endoftext|>'],
    padToken: null,
  });
  assert.deepEqual(t.merges, [
    ['r', 'e'],
    ['a', 're'],
    ['i', 's'],
  ]);
  assert.equal(t.stats.vocabSize, 1 + 256 + 3);
  assert.equal(t.stats.lastMergeCount, 2);
});

test('byte symbols: ids after the specials, ordered by the code point of their byte-level character; words keep the regex pieces', () => {
  const t = trainByteLevelBpeSync({ texts: ['hello hello world'], vocabSize: B + 4 });
  assert.deepEqual(t.vocab.slice(0, 2), ['<|endoftext|>', '<|pad|>']);
  const symbols = t.vocab.slice(2, B);
  assert.deepEqual(
    [...symbols].sort((x, y) => x.charCodeAt(0) - y.charCodeAt(0)),
    symbols,
  );
  assert.deepEqual(new Set(symbols), new Set(BYTE_TO_UNICODE));
  assert.equal(symbols[0], '!');
  // " hello" is one piece with its leading space (Ġ); no merge crosses a piece boundary.
  assert.ok(t.vocab.slice(B).every((tok) => !tok.slice(1).includes('Ġ')));
  const counter = new BpeWordCounter(CL100K_PATTERN, []);
  counter.add("It's 12345 ok!\n\n  x");
  assert.deepEqual(
    [...counter.counts],
    [
      ['It', 1],
      ["'s", 1],
      [' ', 2],
      ['123', 1],
      ['45', 1],
      [' ok', 1],
      ['!\n\n', 1],
      [' x', 1],
    ],
  );
});

/** Reference trainer: recounts every pair of every word before each merge (quadratic, obviously right). */
function naiveTrain(texts: string[], vocabSize: number, specials: string[]): [string, string][] {
  const counter = new BpeWordCounter(CL100K_PATTERN, specials);
  for (const t of texts) counter.add(t);
  const vocab = [...specials, ...[...BYTE_TO_UNICODE].sort((x, y) => x.charCodeAt(0) - y.charCodeAt(0))];
  const idOf = new Map(vocab.map((t, i) => [t, i]));
  const words = [...counter.counts].map(([w, c]) => ({
    s: [...Buffer.from(w, 'utf8')].map((b) => idOf.get(BYTE_TO_UNICODE[b])!),
    c,
  }));
  const merges: [string, string][] = [];
  const done = new Set<string>();
  while (vocab.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.s.length; i++) {
        const k = `${w.s[i]},${w.s[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + w.c);
      }
    let best: [number, number, number] | null = null;
    for (const [k, c] of counts) {
      const [a, b] = k.split(',').map(Number);
      if (best === null || c > best[0] || (c === best[0] && (a < best[1] || (a === best[1] && b < best[2]))))
        best = [c, a, b];
    }
    if (best === null) break;
    const [, a, b] = best;
    const token = vocab[a] + vocab[b];
    let r = idOf.get(token);
    if (r === undefined) {
      r = vocab.length;
      vocab.push(token);
      idOf.set(token, r);
    }
    if (!done.has(`${a},${b}`)) merges.push([vocab[a], vocab[b]]);
    done.add(`${a},${b}`);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.s.length;) {
        if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) {
          out.push(r);
          i += 2;
        } else out.push(w.s[i++]);
      }
      w.s = out;
    }
  }
  return merges;
}

test('incremental pair counts give exactly the merges of a trainer that recounts everything', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const r = rng(seed);
    const alphabet = ['a', 'b', 'c', 'ab', ' ', 'aa', '1', '2', 'é', '\n', '<|pad|>'];
    const texts = Array.from({ length: 40 }, () =>
      Array.from({ length: 30 }, () => alphabet[Math.floor(r() * alphabet.length)]).join(''),
    );
    for (const extra of [20, 60, 150]) {
      const t = trainByteLevelBpeSync({ texts, vocabSize: B + extra });
      assert.deepEqual(
        t.merges,
        naiveTrain(texts, B + extra, ['<|endoftext|>', '<|pad|>']),
        `seed ${seed}, ${extra} merges`,
      );
    }
  }
  const mixed = Array.from({ length: 30 }, (_, i) => randomText(100 + i, 60));
  const t = trainByteLevelBpeSync({ texts: mixed, vocabSize: B + 200 });
  assert.deepEqual(t.merges, naiveTrain(mixed, B + 200, ['<|endoftext|>', '<|pad|>']));
});

const CORPUS = Array.from({ length: 300 }, (_, i) => {
  const r = rng(i + 7);
  const names = ['Alice', 'Bob', 'Carol', 'Dave', 'Ümit', '東京'];
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  return `${pick(names)} lives in ${pick(names)}ville. ${pick(names)} has ${Math.floor(r() * 1000)} apples, and ${pick(names)} gives ${Math.floor(r() * 50)} more.\n`;
});

test('tokenizer.json follows the HF schema and loads through loadTokenizer with the OLMo 2 special tokens', () => {
  const t = trainByteLevelBpeSync({
    texts: CORPUS,
    vocabSize: 384,
    specialTokens: ['<|endoftext|>', '<|pad|>', '<|im_start|>'],
  });
  assert.equal(t.stats.vocabSize, 384);
  const dir = save(t);
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.deepEqual(Object.keys(json), [
    'version',
    'truncation',
    'padding',
    'added_tokens',
    'normalizer',
    'pre_tokenizer',
    'post_processor',
    'decoder',
    'model',
  ]);
  assert.equal(json.model.type, 'BPE');
  assert.equal(Object.keys(json.model.vocab).length, 384);
  assert.equal(json.model.merges.length, 384 - 3 - 256);
  assert.ok(json.model.merges.every((m: unknown) => typeof m === 'string' && m.split(' ').length === 2));
  assert.deepEqual(json.pre_tokenizer, {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: CL100K_HF_PATTERN }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  });
  assert.equal(json.decoder.type, 'ByteLevel');
  assert.deepEqual(
    json.added_tokens.map((a: { id: number; content: string; special: boolean }) => [a.id, a.content, a.special]),
    [
      [0, '<|endoftext|>', true],
      [1, '<|pad|>', true],
      [2, '<|im_start|>', true],
    ],
  );
  // The vocabulary is written in id order (JSON.stringify alone would move numeric tokens like "12" first).
  const text = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  const ids = [...text.slice(text.indexOf('"vocab": {')).matchAll(/^ {6}".*": (\d+),?$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(
    ids,
    Array.from({ length: 384 }, (_, i) => i),
  );

  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(config.chat_template, TULU_CHAT_TEMPLATE);
  const tok = loadTokenizer(dir);
  assert.equal(tok.vocabSize, 384);
  assert.equal(tok.eosTokenId, 0);
  assert.equal(tok.bosTokenId, 0);
  assert.equal(tok.padTokenId, 1);
  assert.equal(tok.eosToken, '<|endoftext|>');
  assert.equal(tok.padToken, '<|pad|>');
  assert.deepEqual([...tok.specialTokenIds].sort(), [0, 1, 2]);
  assert.equal(tok.tokenToId('<|im_start|>'), 2);
  assert.deepEqual(tok.encode('hi<|endoftext|><|pad|>'), [...tok.encode('hi'), 0, 1]);
  assert.equal(tok.decode(tok.encode('hi<|endoftext|>'), { skipSpecialTokens: true }), 'hi');
  assert.equal(
    applyChatTemplate(tok, [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
    ]),
    '<|endoftext|><|user|>\nHi\n<|assistant|>\nHello<|endoftext|>',
  );
  // The same object works without a file.
  const direct = new HfTokenizer({ tokenizerJson: t.tokenizerJson, tokenizerConfig: t.tokenizerConfig });
  assert.deepEqual(direct.encode(CORPUS[0]), tok.encode(CORPUS[0]));
});

test('every string round-trips; the training text takes far fewer tokens than bytes, as training segmented it', () => {
  const t = trainByteLevelBpeSync({ texts: CORPUS, vocabSize: 512 });
  const tok = loadTokenizer(save(t));
  const samples = ['', ' ', '\n\n\t x', 'héllo wörld', '😀👨‍👩‍👧 🇩🇪', '\u0000\u0001\u007f', "It's 12345!", CORPUS[3]];
  for (let s = 1; s <= 40; s++) samples.push(randomText(s, 60), randomCodePoints(s + 1000, 30));
  for (const s of samples) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s));
  const bytes = CORPUS.reduce((a, d) => a + Buffer.byteLength(d), 0);
  const tokens = CORPUS.reduce((a, d) => a + tok.encode(d).length, 0);
  assert.equal(t.stats.bytes, bytes);
  assert.equal(tokens, t.stats.tokens);
  assert.ok(tokens < 0.3 * bytes, `${tokens} tokens for ${bytes} bytes`);
  // Streamed decoding agrees too (byte-level decode stream).
  const ids = tok.encode('Ümit lives in 東京ville.');
  const stream = tok.decodeStream();
  assert.equal(ids.map((id) => stream.push(id)).join('') + stream.flush(), 'Ümit lives in 東京ville.');
});

test('deterministic: same text → byte-identical files, whatever the document order', () => {
  const a = tokenizerJsonString(trainByteLevelBpeSync({ texts: CORPUS, vocabSize: 512 }).tokenizerJson);
  const b = tokenizerJsonString(trainByteLevelBpeSync({ texts: [...CORPUS].reverse(), vocabSize: 512 }).tokenizerJson);
  assert.equal(a, b);
  const d1 = save(trainByteLevelBpeSync({ texts: CORPUS, vocabSize: 512 }));
  const d2 = save(trainByteLevelBpeSync({ texts: CORPUS, vocabSize: 512 }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    assert.ok(readFileSync(join(d1, f)).equals(readFileSync(join(d2, f))), f);
});

test('special-token text is split out of the training text, never merged', () => {
  const t = trainByteLevelBpeSync({ texts: Array(50).fill('ab<|endoftext|>ab<|pad|>'), vocabSize: B + 10 });
  assert.deepEqual(t.merges, [['a', 'b']]); // only "ab" pieces remain; the corpus runs out of pairs
  assert.equal(t.stats.vocabSize, B + 1);
  assert.ok(!t.vocab.slice(B).some((v) => v.includes('<') || v.includes('|')));
});

test('files: Dolma JSONL (plain and gzipped) and plain text; equal to training on the texts', async () => {
  const jsonl = join(root, 'docs.jsonl');
  const half = CORPUS.length / 2;
  writeFileSync(
    jsonl,
    CORPUS.slice(0, half)
      .map((text, i) => JSON.stringify({ id: String(i), text, source: 's' }))
      .join('\n') + '\n',
  );
  const gz = join(root, 'docs2.jsonl.gz');
  writeFileSync(
    gz,
    gzipSync(
      CORPUS.slice(half)
        .map((text) => JSON.stringify({ text }))
        .join('\n'),
    ),
  );
  const fromFiles = await trainByteLevelBpe({ files: [jsonl, gz], vocabSize: 512 });
  const fromTexts = await trainByteLevelBpe({ texts: CORPUS, vocabSize: 512 });
  assert.deepEqual(fromFiles.merges, fromTexts.merges);
  assert.equal(fromFiles.stats.documents, CORPUS.length);
  const txt = join(root, 'corpus.txt');
  writeFileSync(txt, CORPUS.join(''));
  const fromTxt = await trainByteLevelBpe({ files: [txt], vocabSize: 512 });
  assert.equal(fromTxt.stats.documents, 1);
  assert.equal(fromTxt.stats.bytes, fromTexts.stats.bytes);
  const bad = join(root, 'bad.jsonl');
  writeFileSync(bad, '{"text": "ok"}\n{"id": 3}\n');
  await assert.rejects(
    trainByteLevelBpe({ files: [bad], vocabSize: 300 }),
    /bad\.jsonl:2: expected an object with a string "text" field/,
  );
  await assert.rejects(
    trainByteLevelBpe({ files: [join(root, 'missing.jsonl')], vocabSize: 300 }),
    /missing\.jsonl: no such file/,
  );
});

test('bad options are named', () => {
  assert.throws(
    () => trainByteLevelBpeSync({ texts: ['x'], vocabSize: 200 }),
    /vocabSize must be an integer from 258 \(2 special tokens \+ 256 bytes\)/,
  );
  assert.throws(
    () => trainByteLevelBpeSync({ texts: ['x'], vocabSize: 300, specialTokens: ['<s>'] }),
    /eosToken "<\|endoftext\|>" is not among the special tokens/,
  );
  assert.throws(
    () =>
      trainByteLevelBpeSync({ texts: ['x'], vocabSize: 300, specialTokens: ['<|endoftext|>', '<|pad|>', '<|pad|>'] }),
    /given twice/,
  );
});

test('olmo tokenizer train', async () => {
  const input = join(root, 'cli.jsonl');
  writeFileSync(input, CORPUS.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const out = join(root, 'cli-tok');
  const logs: string[] = [];
  const log = console.log;
  console.log = (s: string) => logs.push(s);
  const stderr = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(
      await tokenizerCommand.run([
        'train',
        input,
        '--vocab-size',
        '448',
        '--out',
        out,
        '--special',
        '<|im_start|>',
        '--special',
        '<|im_end|>',
      ]),
      0,
    );
  } finally {
    console.log = log;
    process.stderr.write = stderr;
  }
  const summary = JSON.parse(logs[0]);
  assert.equal(summary.vocab_size, 448);
  assert.equal(summary.documents, CORPUS.length);
  const tok = loadTokenizer(out);
  assert.equal(tok.vocabSize, 448);
  assert.deepEqual(
    [tok.tokenToId('<|im_start|>'), tok.tokenToId('<|im_end|>'), tok.eosTokenId, tok.padTokenId],
    [2, 3, 0, 1],
  );
  assert.equal(tok.decode(tok.encode(CORPUS[5])), CORPUS[5]);
  await assert.rejects(
    tokenizerCommand.run(['train', input, '--out', out]),
    (e) => e instanceof UsageError && /--vocab-size N is required/.test(e.message),
  );
  await assert.rejects(
    tokenizerCommand.run(['train', input, '--out', out, '--vocab-size', '100']),
    (e) => e instanceof UsageError && /--vocab-size must be an integer ≥ 258/.test(e.message),
  );
  await assert.rejects(tokenizerCommand.run(['fit']), UsageError);
});
