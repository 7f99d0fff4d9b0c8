// The output-folder lock: a second holder fails at once naming the folder and the holder (pid, host, start time);
// a lock left by a dead process on this host is taken over with a warning; one from another host is not; release
// removes only our own lock. Two real processes: a child holds the lock, is killed, and the lock is taken over.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FolderLockedError, LOCK_FILE, lockFolder } from '../../src/io/lock.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dirOf = () => join(root, `out${n++}`);
/** A pid that is certainly not running: a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

test('a second lock on a held folder fails at once, naming the folder and the holder; release frees it', () => {
  const dir = dirOf();
  const release = lockFolder(dir, 'olmo eval', { command: 'olmo eval --output x' });
  const held = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  assert.equal(held.pid, process.pid);
  assert.equal(held.host, hostname());
  assert.throws(
    () => lockFolder(dir, 'olmo eval'),
    (e: Error) =>
      e instanceof FolderLockedError &&
      e.message.includes(
        `olmo eval: ${dir} is in use by another run (pid ${process.pid} on ${hostname()}, started ${held.started} (olmo eval --output x))`,
      ) &&
      e.holder?.pid === process.pid,
  );
  release();
  assert.equal(existsSync(join(dir, LOCK_FILE)), false);
  release(); // twice is harmless
  lockFolder(dir, 'olmo eval')();
  assert.deepEqual(readdirSync(dir), [], 'no temporary or stale file is left');
});

test('a lock left by a dead process on this host is taken over with a warning naming it', () => {
  const dir = dirOf();
  lockFolder(dir, 'x')(); // creates the folder
  const pid = deadPid();
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid, host: hostname(), started: '2020-01-01T00:00:00.000Z', command: 'olmo eval' }),
  );
  const warnings: string[] = [];
  const release = lockFolder(dir, 'olmo eval', { warn: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    new RegExp(`taking over the lock on .* left by a run that is no longer running \\(pid ${pid} on `),
  );
  assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
  release();
  assert.deepEqual(readdirSync(dir), []);
});

test('a lock from another host is never taken over; an unreadable lock is reported', () => {
  const dir = dirOf();
  lockFolder(dir, 'x')();
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: deadPid(), host: 'some-other-host', started: '2020-01-01T00:00:00.000Z', command: '' }),
  );
  assert.throws(
    () => lockFolder(dir, 'olmo eval'),
    new RegExp(
      `on some-other-host, started 2020-01-01T00:00:00.000Z\\); wait for it to finish or choose another output folder; if that run is gone, delete ${join(dir, LOCK_FILE).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
    ),
  );
  writeFileSync(join(dir, LOCK_FILE), 'garbage');
  assert.throws(() => lockFolder(dir, 'olmo eval'), /is locked by .*\.olmo\.lock, which cannot be read/);
});

test('release does not remove a lock that is no longer ours', () => {
  const dir = dirOf();
  const release = lockFolder(dir, 'x');
  const other = JSON.stringify({ pid: 1, host: hostname(), started: '2021-01-01T00:00:00.000Z', command: '' });
  writeFileSync(join(dir, LOCK_FILE), other);
  release();
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), other);
});

test('two processes: the second fails while the first holds the lock, and takes it over once the first is killed', async () => {
  const dir = dirOf();
  const lockModule = join(import.meta.dirname, '..', '..', 'src', 'io', 'lock.ts');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import(${JSON.stringify(lockModule)}).then((m) => { m.lockFolder(${JSON.stringify(dir)}, 'child'); console.log('locked'); setInterval(() => {}, 1000); });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited with ${code} before locking`)));
    });
    assert.throws(
      () => lockFolder(dir, 'olmo eval'),
      (e: Error) =>
        e instanceof FolderLockedError &&
        e.holder?.pid === child.pid &&
        e.message.includes(`pid ${child.pid} on ${hostname()}`),
    );
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r)));
  const warnings: string[] = [];
  const release = lockFolder(dir, 'olmo eval', { warn: (m) => warnings.push(m) });
  assert.match(warnings.join('\n'), new RegExp(`pid ${child.pid}`));
  release();
});
