// Reading Dolma JSONL as bytes: a UTF-8 byte order mark on line 1, invalid UTF-8 (refused in strict mode, counted
// otherwise), CRLF line ends, lines longer than the read buffer, and segmented encoding of long documents.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { dolma2Tokenizer } from '../../src/tokenizers/index.ts';
import { tokenize, type InvalidUtf8Document, type MalformedLine } from '../../src/data/index.ts';
import { encodeDocument, firstInvalidUtf8, readByteLineChunks } from '../../src/data/documents.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-data-docs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = (name: string) => join(root, `${name}-${n++}`);
const tok = dolma2Tokenizer();
const EOS = 100257;

function writeInput(name: string, body: Buffer): string {
  const d = dir('in');
  mkdirSync(d, { recursive: true });
  const f = join(d, name);
  writeFileSync(f, name.endsWith('.gz') ? gzipSync(body) : body);
  return f;
}

const line = (doc: unknown) => Buffer.from(JSON.stringify(doc) + '\n');
const tokensOf = (out: string) =>
  Array.from(new Uint32Array(new Uint8Array(readFileSync(join(out, 'part-00000.npy'))).buffer));
const expected = (texts: string[]) => texts.flatMap((t) => [...tok.encode(t), EOS]);

for (const name of ['bom.jsonl', 'bom.jsonl.gz']) {
  test(`a UTF-8 byte order mark at the start of ${name} is skipped and line 1 is read`, async () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      line({ id: 'a', text: 'first' }),
      line({ id: 'b', text: 'second' }),
    ]);
    const malformed: MalformedLine[] = [];
    const out = dir('out');
    const r = await tokenize({
      inputs: [writeInput(name, body)],
      outDir: out,
      workers: 0,
      onMalformed: (m) => malformed.push(m),
    });
    assert.deepEqual(malformed, []);
    assert.equal(r.documents, 2);
    assert.deepEqual(tokensOf(out), expected(['first', 'second']));
  });
}

// Line 2's text holds 0xff (never valid in UTF-8) after "ab": byte 17 of the line is `{"id":"y","text":"` + 2.
const BAD_PREFIX = Buffer.from('{"id":"y","text":"ab');
const badLine = Buffer.concat([BAD_PREFIX, Buffer.from([0xff]), Buffer.from('cd"}\n')]);

test('invalid UTF-8 in strict mode: refused with file, line and byte offset, nothing written', async () => {
  for (const name of ['bad.jsonl', 'bad.jsonl.gz']) {
    const first = line({ id: 'x', text: 'ok' });
    const input = writeInput(name, Buffer.concat([first, badLine]));
    const out = dir('out');
    const where = name.endsWith('.gz') ? 'the decompressed file' : 'the file';
    await assert.rejects(
      tokenize({ inputs: [input], outDir: out, workers: 0, strict: true }),
      (e: Error) =>
        e.message.includes(
          `${input}:2: invalid UTF-8 at byte offset ${first.length + BAD_PREFIX.length} of ${where}`,
        ) &&
        e.message.includes(`(byte ${BAD_PREFIX.length} of the line)`) &&
        e.message.includes('strict'),
    );
    assert.deepEqual(
      readdirSync(out).filter((f) => !f.startsWith('.')),
      [],
    );
  }
});

test('invalid UTF-8 without strict: tokenized as U+FFFD, counted and reported per document', async () => {
  const first = line({ id: 'x', text: 'ok' });
  const input = writeInput('bad.jsonl', Buffer.concat([first, badLine]));
  const seen: InvalidUtf8Document[] = [];
  const out = dir('out');
  const r = await tokenize({ inputs: [input], outDir: out, workers: 1, onInvalidUtf8: (m) => seen.push(m) });
  assert.equal(r.documents, 2);
  assert.equal(r.invalidUtf8Documents, 1);
  assert.deepEqual(seen, [
    { file: input, line: 2, lineByte: BAD_PREFIX.length, fileByte: first.length + BAD_PREFIX.length },
  ]);
  assert.deepEqual(tokensOf(out), expected(['ok', 'ab\uFFFDcd']));
});

test('firstInvalidUtf8 finds overlong forms, surrogates, truncation and code points above U+10FFFF', () => {
  const at = (...b: number[]) => firstInvalidUtf8(new Uint8Array(b));
  assert.equal(at(0x61, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80), -1); // a € 😀
  assert.equal(at(0x61, 0xc0, 0x80), 1); // overlong NUL
  assert.equal(at(0xe0, 0x80, 0x80), 0); // overlong 3-byte
  assert.equal(at(0x61, 0x62, 0xed, 0xa0, 0x80), 2); // UTF-16 surrogate D800
  assert.equal(at(0x61, 0xe2, 0x82), 1); // truncated at the end
  assert.equal(at(0xf4, 0x90, 0x80, 0x80), 0); // U+110000
  assert.equal(at(0x80), 0); // lone continuation byte
});

test('CRLF line ends give the same documents as LF', async () => {
  const docs = [{ text: 'one' }, { text: 'two\r\nlines' }];
  const lf = writeInput('lf.jsonl', Buffer.concat(docs.map(line)));
  const crlf = writeInput('crlf.jsonl', Buffer.from(docs.map((d) => JSON.stringify(d)).join('\r\n') + '\r\n'));
  const [a, b] = [dir('out'), dir('out')];
  await tokenize({ inputs: [lf], outDir: a, workers: 0, strict: true });
  await tokenize({ inputs: [crlf], outDir: b, workers: 0, strict: true });
  assert.deepEqual(tokensOf(b), tokensOf(a));
});

test('a line longer than the read buffer is one chunk that owns its bytes (no extra copies), tokenized whole', async () => {
  const long = 'The quick brown fox.\nJumps over 12 lazy dogs; '.repeat(26_000); // ~1.2 MB, more than the 1 MiB read buffer
  const body = Buffer.concat([line({ text: 'short' }), line({ text: long }), line({ text: 'tail' })]);
  const input = writeInput('long.jsonl', body);
  const chunks = [];
  for await (const c of readByteLineChunks(input, { maxBytes: 1 << 20 })) chunks.push(c);
  assert.deepEqual(
    chunks.map((c) => c.lineNos),
    [[1], [2], [3]],
  );
  const big = chunks[1].data;
  assert.equal(big.byteLength, line({ text: long }).length - 1);
  assert.equal(big.buffer.byteLength, big.byteLength, 'the long line is not a view into a larger buffer');
  const out = dir('out');
  await tokenize({ inputs: [input], outDir: out, workers: 1 });
  assert.deepEqual(tokensOf(out), expected(['short', long, 'tail']));
});

test('segmented encoding of long dolma2 documents equals encoding them whole', () => {
  // Pieces chosen around the cut rules: letters, spaces, line breaks, digits, punctuation, contractions,
  // runs of whitespace, non-ASCII letters, astral characters and special-token text.
  const pieces = [
    'word',
    ' ',
    'x',
    '\n',
    '\n\n',
    '  ',
    'Ab',
    "'s",
    "'ll",
    '123',
    '4',
    '.',
    '!\n',
    '\t',
    ' \n',
    'é',
    'ß',
    '日本',
    '😀',
    '<|endoftext|>',
    '|||EMAIL_ADDRESS|||',
    '\u00a0',
    '\r\n',
  ];
  let seed = 7;
  const rand = (k: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  for (let trial = 0; trial < 20; trial++) {
    const text = Array.from({ length: 600 }, () => pieces[rand(pieces.length)]).join('');
    const whole = [...tok.encode(text), EOS];
    for (const seg of [8, 37, 200]) {
      assert.deepEqual(
        Array.from(encodeDocument(tok, text, EOS, true, seg)),
        whole,
        `trial ${trial}, segments of ${seg}`,
      );
    }
  }
});
