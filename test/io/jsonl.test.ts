// The strict JSONL reader for the package's own files: values of the non-blank lines, and a malformed line named
// by file and line (with the caller's prefix).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readJsonLines } from '../../src/io/jsonl.ts';

const dir = mkdtempSync(join(tmpdir(), 'olmo-jsonl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('reads the JSON value of every non-blank line, in order', () => {
  const file = join(dir, 'ok.jsonl');
  writeFileSync(file, '{"step":1}\n\n  \n{"step":2,"loss":0.5}\n[3]\n');
  assert.deepEqual(readJsonLines(file), [{ step: 1 }, { step: 2, loss: 0.5 }, [3]]);
});

test('a malformed line is named by file and line, after the prefix', () => {
  const file = join(dir, 'bad.jsonl');
  writeFileSync(file, '{"step":1}\n\n{"step":\n');
  assert.throws(
    () => readJsonLines(file),
    (e: Error) => e.message.startsWith(`${file}:3: malformed JSON (`),
  );
  assert.throws(
    () => readJsonLines(file, 'rescore: '),
    (e: Error) => e.message.startsWith(`rescore: ${file}:3: malformed JSON`),
  );
});
