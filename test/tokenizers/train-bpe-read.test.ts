// Reading tokenizer-training files: the byte-level line reader of `olmo data tokenize` (BOM skipped, invalid UTF-8
// refused when strict or reported, CRLF), for JSONL, gzipped JSONL and plain text.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  readTrainingDocuments,
  trainByteLevelBpe,
  type InvalidUtf8Document,
  type TrainingDocumentsOptions,
} from '../../src/tokenizers/train-bpe.ts';

const dir = mkdtempSync(join(tmpdir(), 'olmo-train-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const bytes = (...parts: (string | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));

function write(name: string, content: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, name.endsWith('.gz') ? gzipSync(content) : content);
  return file;
}

async function read(file: string, options: TrainingDocumentsOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const t of readTrainingDocuments(file, options)) out.push(t);
  return out;
}

test('a byte order mark at the start is skipped, the first line kept (JSONL, gzipped JSONL, plain text)', async () => {
  const jsonl = bytes(BOM, '{"text":"first line"}\r\n{"text":"second"}\n');
  assert.deepEqual(await read(write('bom.jsonl', jsonl)), ['first line', 'second']);
  assert.deepEqual(await read(write('bom.jsonl.gz', jsonl)), ['first line', 'second']);
  assert.deepEqual(await read(write('bom.txt', bytes(BOM, 'plain text\n'))), ['plain text\n']);
  // Only at the start of the file: a BOM inside the text is text.
  assert.deepEqual(await read(write('inner.txt', bytes('a', BOM, 'b'))), ['a\ufeffb']);
});

test('invalid UTF-8: strict reading refuses it naming file, line and byte; otherwise it is reported', async () => {
  const content = bytes('{"text":"good"}\n', '{"text":"bad ', Buffer.from([0xff]), ' byte"}\n');
  for (const name of ['bad.jsonl', 'bad.jsonl.gz']) {
    const file = write(name, content);
    await assert.rejects(read(file, { strict: true }), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(`${name.replace(/\./g, '\\.')}:2: invalid UTF-8 at byte 13 of the line \\(byte 29 of the file\\)`),
      );
      return true;
    });
    const seen: InvalidUtf8Document[] = [];
    assert.deepEqual(await read(file, { onInvalidUtf8: (w) => seen.push(w) }), ['good', 'bad \ufffd byte']);
    assert.deepEqual(seen, [{ file, line: 2, lineByte: 13, fileByte: 29 }]);
  }
  const plain = write('bad.txt', bytes(BOM, 'ok\nsecond ', Buffer.from([0xc3, 0x28]), '\n'));
  await assert.rejects(
    read(plain, { strict: true }),
    /bad\.txt:2: invalid UTF-8 at byte 7 of the line \(byte 13 of the file\)/,
  );
  const seen: InvalidUtf8Document[] = [];
  assert.deepEqual(await read(plain, { onInvalidUtf8: (w) => seen.push(w) }), ['ok\nsecond \ufffd(\n']);
  assert.deepEqual(seen, [{ file: plain, line: 2, lineByte: 7, fileByte: 13 }]);
});

test('malformed lines are named by file and line', async () => {
  await assert.rejects(read(write('json.jsonl', bytes('{"text":"a"}\n\n{"text":\n'))), /json\.jsonl:3: invalid JSON/);
  await assert.rejects(
    read(write('field.jsonl', bytes('{"text":1}\n'))),
    /field\.jsonl:1: expected an object with a string "text" field/,
  );
  await assert.rejects(read(join(dir, 'missing.jsonl')), /missing\.jsonl: no such file/);
});

test('trainByteLevelBpe counts documents with invalid UTF-8 and refuses them when strict', async () => {
  const file = write(
    'train.jsonl',
    bytes('{"text":"hello hello"}\n{"text":"x ', Buffer.from([0xfe]), '"}\n', '{"text":"y"}\n'),
  );
  const trained = await trainByteLevelBpe({ files: [file], vocabSize: 270 });
  assert.equal(trained.stats.documents, 3);
  assert.equal(trained.stats.invalidUtf8Documents, 1);
  assert.deepEqual(trained.stats.firstInvalidUtf8, { file, line: 2, lineByte: 11, fileByte: 34 });
  const clean = await trainByteLevelBpe({ texts: ['hello'], vocabSize: 270 });
  assert.equal(clean.stats.invalidUtf8Documents, 0);
  assert.equal(clean.stats.firstInvalidUtf8, null);
  await assert.rejects(
    trainByteLevelBpe({ files: [file], vocabSize: 270, strict: true }),
    /train\.jsonl:2: invalid UTF-8 at byte 11/,
  );
});

test('olmo tokenizer train reports invalid UTF-8 and --strict refuses it', async () => {
  const { tokenizerCommand } = await import('../../src/cli/tokenizer.ts');
  const file = write('cli-bad.jsonl', bytes('{"text":"hello world"}\n{"text":"x ', Buffer.from([0xfe]), '"}\n'));
  const logs: string[] = [];
  const errs: string[] = [];
  const [log, stderr] = [console.log, process.stderr.write];
  console.log = (s: string) => logs.push(s);
  process.stderr.write = ((s: string) => errs.push(s) > 0) as typeof process.stderr.write;
  try {
    const out = join(dir, 'cli-tok');
    assert.equal(await tokenizerCommand.run(['train', file, '--vocab-size', '270', '--out', out]), 0);
    await assert.rejects(
      tokenizerCommand.run(['train', file, '--vocab-size', '270', '--out', out, '--strict']),
      /cli-bad\.jsonl:2: invalid UTF-8 at byte 11/,
    );
  } finally {
    console.log = log;
    process.stderr.write = stderr;
  }
  assert.equal(JSON.parse(logs[0]).invalid_utf8_documents, 1);
  assert.ok(
    errs.some((e) => /1 document\(s\) held invalid UTF-8, .*cli-bad\.jsonl:2, byte 11/.test(e)),
    errs.join(''),
  );
});
