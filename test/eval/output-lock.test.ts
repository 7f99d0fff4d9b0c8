// Two evaluations into one output folder: while one holds it, the other fails at once naming the folder and the
// holder, and writes nothing there; after the first ends the folder is free again.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalHfFolderSource } from '../../src/eval/data/source.ts';
import { runEval } from '../../src/eval/runner/run.ts';
import { FolderLockedError, LOCK_FILE, lockFolder } from '../../src/io/lock.ts';
import { FakeBackend, writeSyntheticData } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-eval-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
const dataRoot = join(root, 'data');
writeSyntheticData(dataRoot, 3, []);
const evalInto = (out: string) =>
  runEval({
    tasks: ['arc_easy:rc::olmes'],
    source: new LocalHfFolderSource(dataRoot),
    outputDir: out,
    backend: new FakeBackend(),
  });

test('a second evaluation into a folder in use fails at once, naming the folder and the holder', async () => {
  const out = join(root, 'out');
  const release = lockFolder(out, 'olmo eval', { command: 'olmo eval --output out (the other run)' });
  try {
    await assert.rejects(
      evalInto(out),
      (e: Error) =>
        e instanceof FolderLockedError &&
        e.message.includes(`${out} is in use by another run (pid ${process.pid} on ${hostname()}`) &&
        e.message.includes('(the other run)'),
    );
    assert.deepEqual(readdirSync(out), [LOCK_FILE], 'the refused run wrote nothing');
  } finally {
    release();
  }
  const r = await evalInto(out);
  assert.ok(r.computed > 0);
  assert.equal(existsSync(join(out, LOCK_FILE)), false, 'the lock is released when the run ends');
});

test('two concurrent evaluations into one folder: exactly one runs', async () => {
  const out = join(root, 'concurrent');
  const results = await Promise.allSettled([evalInto(out), evalInto(out)]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(failed.reason instanceof FolderLockedError, String(failed.reason));
});
