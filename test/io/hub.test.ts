// The hub client against a fake hub on 127.0.0.1: the exact huggingface_hub cache layout (blobs named by sha256 or
// git blob id, relative snapshot symlinks, refs), no requests for cached files, HF_HUB_OFFLINE, HF_ENDPOINT and
// HF_TOKEN from the environment, 404/401 messages, retries on 5xx/429/cut bodies/stalls, and no half-written files.
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  HubAuthError,
  HubHttpError,
  HubNotFoundError,
  HubOfflineError,
  downloadSnapshot,
  filterPaths,
  hfHubDownload,
  resolveRevision,
  type DownloadOptions,
  type HubProgress,
  type SnapshotOptions,
} from '../../src/io/hub.ts';
import { FakeHub, asBuffer, commit, gitBlobId, sha256 } from './hub-fake.ts';

const SHA = commit('arc-v1');
const SHA2 = commit('arc-v2');
const MODEL_SHA = commit('model');
const PRIVATE_SHA = commit('private');
const CONVERT_SHA = commit('convert');
const parquetBytes = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(3000, 7), Buffer.from('PAR1')]);
const files = {
  'README.md': { content: '---\nconfigs: []\n---\n# ARC\n' },
  'ARC-Easy/test-00000-of-00001.parquet': { content: parquetBytes, lfs: true },
  'ARC-Easy/deep/nested/x.json': { content: '{"a":1}\n' },
  'ARC-Challenge/test-00000-of-00001.parquet': { content: Buffer.alloc(500, 3), lfs: true },
};
const hub = new FakeHub([
  {
    type: 'dataset',
    id: 'allenai/ai2_arc',
    refs: { main: SHA, v2: SHA2, 'refs/convert/parquet': CONVERT_SHA },
    commits: {
      [SHA]: files,
      [SHA2]: { 'README.md': { content: 'v2\n' } },
      [CONVERT_SHA]: { 'ARC-Easy/test/0000.parquet': { content: 'conv', lfs: true } },
    },
  },
  {
    type: 'model',
    id: 'org/tiny-model',
    refs: { main: MODEL_SHA },
    commits: {
      [MODEL_SHA]: {
        'config.json': { content: '{"hidden_size": 8}' },
        'model.safetensors': { content: Buffer.alloc(2048, 1), lfs: true },
      },
    },
  },
  {
    type: 'dataset',
    id: 'org/private',
    token: 'hf_good',
    refs: { main: PRIVATE_SHA },
    commits: { [PRIVATE_SHA]: { 'data/test.jsonl': { content: '{"x":1}\n' } } },
  },
]);
let endpoint = '';
before(async () => {
  endpoint = await hub.start();
});
after(() => hub.close());

const tmp = () => mkdtempSync(join(tmpdir(), 'olmo-hub-'));
/** Options that read nothing from the real environment. */
const opts = (cacheDir: string, extra: SnapshotOptions & DownloadOptions = {}): SnapshotOptions & DownloadOptions => ({
  type: 'dataset',
  endpoint,
  cacheDir,
  env: {},
  backoffMs: 1,
  ...extra,
});
const listAll = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .map((p) => p.split('\\').join('/'))
        .sort()
    : [];

test('downloadSnapshot writes the exact huggingface_hub cache layout', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  const progress: HubProgress[] = [];
  const snap = await downloadSnapshot(
    'allenai/ai2_arc',
    opts(cache, { allowPatterns: ['README.md', 'ARC-Easy/'], onProgress: (p) => progress.push(p) }),
  );
  const repo = join(cache, 'datasets--allenai--ai2_arc');
  assert.equal(snap, join(repo, 'snapshots', SHA));
  assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), SHA); // exactly the sha, no newline
  const readme = asBuffer(files['README.md'].content);
  const nested = asBuffer(files['ARC-Easy/deep/nested/x.json'].content);
  // LFS files are named by their sha256, others by their git blob id (the hub's ETag); nothing else in blobs/
  assert.deepEqual(listAll(join(repo, 'blobs')), [gitBlobId(readme), gitBlobId(nested), sha256(parquetBytes)].sort());
  assert.deepEqual(listAll(join(repo, 'snapshots', SHA)), [
    'ARC-Easy',
    'ARC-Easy/deep',
    'ARC-Easy/deep/nested',
    'ARC-Easy/deep/nested/x.json',
    'ARC-Easy/test-00000-of-00001.parquet',
    'README.md',
  ]);
  assert.ok(lstatSync(join(snap, 'README.md')).isSymbolicLink());
  assert.equal(readlinkSync(join(snap, 'README.md')), `../../blobs/${gitBlobId(readme)}`);
  assert.equal(
    readlinkSync(join(snap, 'ARC-Easy/test-00000-of-00001.parquet')),
    `../../../blobs/${sha256(parquetBytes)}`,
  );
  assert.equal(readlinkSync(join(snap, 'ARC-Easy/deep/nested/x.json')), `../../../../../blobs/${gitBlobId(nested)}`);
  assert.deepEqual(readFileSync(join(snap, 'ARC-Easy/test-00000-of-00001.parquet')), parquetBytes);
  assert.equal(readFileSync(join(snap, 'README.md'), 'utf8'), files['README.md'].content);
  assert.deepEqual(listAll(join(repo, 'refs')), ['main']);
  // requests: one listing, three resolves, one storage fetch for the LFS file (ARC-Challenge never asked for)
  const made = hub.requests.slice(start).map((r) => r.path);
  assert.equal(made.filter((p) => p.startsWith('/api/datasets/allenai/ai2_arc/revision/main')).length, 1);
  assert.equal(made.filter((p) => p.includes('/resolve/')).length, 3);
  assert.ok(made.every((p) => !p.includes('ARC-Challenge')));
  assert.ok(
    made.filter((p) => p.includes('/resolve/')).every((p) => p.includes(`/resolve/${SHA}/`)),
    'files are fetched by commit',
  );
  // progress: bytes of the parquet file grow to its size; the last event has every file done
  const par = progress.filter((p) => p.file === 'ARC-Easy/test-00000-of-00001.parquet' && p.bytes > 0);
  assert.equal(par.at(-1)!.bytes, parquetBytes.length);
  assert.equal(par.at(-1)!.total, parquetBytes.length);
  assert.deepEqual([progress.at(-1)!.filesDone, progress.at(-1)!.filesTotal], [3, 3]);

  // a second call asks only for the file list; hfHubDownload of a cached file asks nothing
  const second = hub.requests.length;
  assert.equal(
    await downloadSnapshot('allenai/ai2_arc', opts(cache, { allowPatterns: ['README.md', 'ARC-Easy/'] })),
    snap,
  );
  assert.deepEqual(
    hub.requests.slice(second).map((r) => r.path),
    ['/api/datasets/allenai/ai2_arc/revision/main'],
  );
  const third = hub.requests.length;
  assert.equal(
    await hfHubDownload('allenai/ai2_arc', 'ARC-Easy/test-00000-of-00001.parquet', opts(cache)),
    join(snap, 'ARC-Easy/test-00000-of-00001.parquet'),
  );
  assert.equal(hub.requests.length, third);
  // a tag gets its own ref; a blob shared between commits is not fetched again
  await downloadSnapshot('allenai/ai2_arc', opts(cache, { revision: 'v2' }));
  assert.equal(readFileSync(join(repo, 'refs', 'v2'), 'utf8'), SHA2);
  // a ref with slashes nests, as in huggingface_hub: refs/refs/convert/parquet
  await downloadSnapshot('allenai/ai2_arc', opts(cache, { revision: 'refs/convert/parquet' }));
  assert.equal(readFileSync(join(repo, 'refs', 'refs', 'convert', 'parquet'), 'utf8'), CONVERT_SHA);
  assert.ok(hub.requests.some((r) => r.path === '/api/datasets/allenai/ai2_arc/revision/refs/convert/parquet'));
  // a commit as the revision writes no ref
  await downloadSnapshot('allenai/ai2_arc', opts(cache, { revision: SHA, allowPatterns: 'README.md' }));
  assert.deepEqual(listAll(join(repo, 'refs')), ['main', 'refs', 'refs/convert', 'refs/convert/parquet', 'v2']);
  assert.ok(!listAll(repo).some((p) => p.endsWith('.incomplete')));
});

test('hfHubDownload works for model repos (no datasets/ prefix) and re-resolves only on refresh', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  const file = await hfHubDownload('org/tiny-model', 'model.safetensors', { endpoint, cacheDir: cache, env: {} });
  assert.equal(file, join(cache, 'models--org--tiny-model', 'snapshots', MODEL_SHA, 'model.safetensors'));
  assert.deepEqual(readFileSync(file), Buffer.alloc(2048, 1));
  assert.deepEqual(
    hub.requests.slice(start).map((r) => r.path),
    [
      '/api/models/org/tiny-model/revision/main',
      `/org/tiny-model/resolve/${MODEL_SHA}/model.safetensors`,
      `/cdn/${sha256(Buffer.alloc(2048, 1))}`,
    ],
  );
  const n = hub.requests.length;
  await hfHubDownload('org/tiny-model', 'model.safetensors', { endpoint, cacheDir: cache, env: {} });
  assert.equal(hub.requests.length, n, 'a cached file makes no request');
  await hfHubDownload('org/tiny-model', 'model.safetensors', { endpoint, cacheDir: cache, env: {}, refresh: true });
  assert.equal(hub.requests.length, n + 1, 'refresh asks for the revision only; the blob is already there');
});

test('HF_ENDPOINT, HF_HUB_CACHE, HF_HOME and HF_TOKEN (or the token file) come from the environment', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  const file = await hfHubDownload('org/tiny-model', 'config.json', {
    env: { HF_ENDPOINT: `${endpoint}/`, HF_HUB_CACHE: cache, HF_TOKEN: 'hf_env' },
  });
  assert.equal(file, join(cache, 'models--org--tiny-model', 'snapshots', MODEL_SHA, 'config.json'));
  assert.ok(hub.requests.length > start, 'the fake hub named by HF_ENDPOINT was asked');
  assert.ok(hub.requests.slice(start).every((r) => r.auth === 'Bearer hf_env'));
  // the token file under HF_HOME (and the cache under HF_HOME/hub) opens a private repository
  const home = tmp();
  writeFileSync(join(home, 'token'), 'hf_good\n');
  const p = await hfHubDownload('org/private', 'data/test.jsonl', {
    type: 'dataset',
    env: { HF_ENDPOINT: endpoint, HF_HOME: home },
  });
  assert.equal(p, join(home, 'hub', 'datasets--org--private', 'snapshots', PRIVATE_SHA, 'data', 'test.jsonl'));
  assert.equal(readFileSync(p, 'utf8'), '{"x":1}\n');
});

test('HF_HUB_OFFLINE=1: no request ever; cached files still served; a clear error otherwise', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  const env = { HF_HUB_OFFLINE: '1', HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache };
  await assert.rejects(downloadSnapshot('allenai/ai2_arc', { type: 'dataset', env }), (e: Error) => {
    assert.ok(e instanceof HubOfflineError);
    assert.match(e.message, /dataset allenai\/ai2_arc at revision main: offline mode is on \(HF_HUB_OFFLINE=1\)/);
    assert.ok(e.message.includes(cache));
    return true;
  });
  await assert.rejects(
    hfHubDownload('org/tiny-model', 'config.json', { env }),
    /cannot fetch file config\.json in model org\/tiny-model at revision main: offline mode is on \(HF_HUB_OFFLINE=1\)/,
  );
  await assert.rejects(resolveRevision('org/tiny-model', { env }), HubOfflineError);
  assert.equal(hub.requests.length, start);
  // download online, then offline reads it without the network
  await hfHubDownload('org/tiny-model', 'config.json', { endpoint, cacheDir: cache, env: {} });
  const n = hub.requests.length;
  for (const v of ['1', 'true', 'YES', 'on']) {
    const e2 = { ...env, HF_HUB_OFFLINE: v };
    assert.equal(
      readFileSync(await hfHubDownload('org/tiny-model', 'config.json', { env: e2 }), 'utf8'),
      '{"hidden_size": 8}',
    );
    assert.equal(
      await downloadSnapshot('org/tiny-model', { env: e2 }),
      join(cache, 'models--org--tiny-model', 'snapshots', MODEL_SHA),
    );
  }
  assert.equal(hub.requests.length, n);
});

test('404 and 401/403 give errors that say what is missing or that a token is needed', async () => {
  const cache = tmp();
  await assert.rejects(
    downloadSnapshot('nope/missing', opts(cache)),
    (e: Error) =>
      e instanceof HubNotFoundError &&
      /^repository or file not found: dataset nope\/missing at revision main \(.*answered 404 RepoNotFound/.test(
        e.message,
      ),
  );
  await assert.rejects(
    hfHubDownload('allenai/ai2_arc', 'ARC-Easy/nope.parquet', opts(cache)),
    (e: Error) =>
      e instanceof HubNotFoundError &&
      e.message.startsWith(
        'repository or file not found: file ARC-Easy/nope.parquet in dataset allenai/ai2_arc at revision main',
      ),
  );
  await assert.rejects(
    downloadSnapshot('allenai/ai2_arc', opts(cache, { revision: 'no-such-branch' })),
    /repository or file not found: .*answered 404 RevisionNotFound/,
  );
  await assert.rejects(
    downloadSnapshot('org/private', opts(cache)),
    (e: Error) =>
      e instanceof HubAuthError &&
      /dataset org\/private at revision main needs a token .*answered 401.*Set HF_TOKEN/.test(e.message),
  );
  await assert.rejects(
    downloadSnapshot('org/private', opts(cache, { token: 'hf_bad' })),
    (e: Error) => e instanceof HubAuthError && /refused the token from the token passed in/.test(e.message),
  );
  assert.equal(
    readFileSync(
      join(await downloadSnapshot('org/private', opts(cache, { token: 'hf_good' })), 'data/test.jsonl'),
      'utf8',
    ),
    '{"x":1}\n',
  );
  await assert.rejects(hfHubDownload('bad id!', 'x', opts(cache)), /invalid repository id/);
});

test('5xx and 429 are retried with backoff; persistent failures name the URL, status and attempts', async () => {
  const cache = tmp();
  const path = `/datasets/allenai/ai2_arc/resolve/${SHA}/README.md`;
  hub.addFault(path, { status: 500 }, { status: 429, retryAfter: '0' });
  const start = hub.count(path);
  const snap = await downloadSnapshot('allenai/ai2_arc', opts(cache, { allowPatterns: 'README.md' }));
  assert.equal(hub.count(path) - start, 3);
  assert.equal(readFileSync(join(snap, 'README.md'), 'utf8'), files['README.md'].content);

  const cache2 = tmp();
  hub.addFault('/api/models/org/tiny-model/revision', { status: 503 }, { status: 503 }, { status: 503 });
  await assert.rejects(
    hfHubDownload('org/tiny-model', 'config.json', { endpoint, cacheDir: cache2, env: {}, retries: 2, backoffMs: 1 }),
    (e: Error) =>
      e instanceof HubHttpError &&
      e.status === 503 &&
      /failed after 3 attempts: .*answered 503/.test(e.message) &&
      e.message.includes('HF_HUB_OFFLINE=1'),
  );
  assert.deepEqual(listAll(cache2), []);
});

test('a download cut short keeps only its .incomplete file (no blob, no snapshot entry, no ref); the next attempt resumes it', async () => {
  const cache = tmp();
  const sha = sha256(parquetBytes);
  hub.addFault(`/cdn/${sha}`, { truncate: true });
  await assert.rejects(
    hfHubDownload('allenai/ai2_arc', 'ARC-Easy/test-00000-of-00001.parquet', opts(cache, { retries: 0 })),
    (e: Error) => e instanceof HubHttpError && /failed after 1 attempt: /.test(e.message),
  );
  const repo = join(cache, 'datasets--allenai--ai2_arc');
  assert.deepEqual(listAll(join(repo, 'blobs')), [`${sha}.incomplete`]); // huggingface_hub's name for a partial blob
  assert.equal(readFileSync(join(repo, 'blobs', `${sha}.incomplete`)).length, parquetBytes.length / 2);
  assert.ok(!existsSync(join(repo, 'snapshots', SHA, 'ARC-Easy/test-00000-of-00001.parquet')));
  assert.ok(!existsSync(join(repo, 'refs', 'main')));

  const start = hub.requests.length;
  const file = await hfHubDownload(
    'allenai/ai2_arc',
    'ARC-Easy/test-00000-of-00001.parquet',
    opts(cache, { retries: 0 }),
  );
  assert.deepEqual(readFileSync(file), parquetBytes);
  assert.deepEqual(listAll(join(repo, 'blobs')), [sha]);
  const cdn = hub.requests.slice(start).filter((r) => r.path.startsWith('/cdn/'));
  assert.deepEqual(
    cdn.map((r) => r.range),
    [`bytes=${parquetBytes.length / 2}-`],
    'only the missing half is asked for',
  );
  assert.ok(!listAll(join(cache, '.locks')).some((p) => p.endsWith('.olmo.lock')), 'the lock is released');
});

test('a stalled answer times out and is retried', async () => {
  const cache = tmp();
  hub.addFault('/api/models/org/tiny-model/revision', { stallMs: 3000 });
  const t0 = Date.now();
  const file = await hfHubDownload('org/tiny-model', 'config.json', {
    endpoint,
    cacheDir: cache,
    env: {},
    timeoutMs: 150,
    backoffMs: 1,
  });
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  assert.equal(readFileSync(file, 'utf8'), '{"hidden_size": 8}');
  hub.addFault('/api/models/org/tiny-model/revision', { stallMs: 3000 });
  await assert.rejects(
    hfHubDownload('org/tiny-model', 'config.json', { endpoint, cacheDir: tmp(), env: {}, timeoutMs: 100, retries: 0 }),
    /timed out \(no data for 100 ms\)/,
  );
});

test('filterPaths follows huggingface_hub: fnmatch (* crosses /), a trailing / means the folder', () => {
  const f = ['README.md', 'ARC-Easy/test-0.parquet', 'ARC-Easy/sub/x.json', 'data/train.jsonl'].map((path) => ({
    path,
  }));
  const paths = (a?: string | string[], i?: string | string[]) => filterPaths(f, a, i).map((x) => x.path);
  assert.deepEqual(paths('ARC-Easy/'), ['ARC-Easy/test-0.parquet', 'ARC-Easy/sub/x.json']);
  assert.deepEqual(paths('*.json*'), ['ARC-Easy/sub/x.json', 'data/train.jsonl']);
  assert.deepEqual(paths(undefined, ['*.md', 'data/*']), ['ARC-Easy/test-0.parquet', 'ARC-Easy/sub/x.json']);
  assert.deepEqual(paths('ARC-Easy/test-?.parquet'), ['ARC-Easy/test-0.parquet']);
  assert.deepEqual(paths('[RA]*'), ['README.md', 'ARC-Easy/test-0.parquet', 'ARC-Easy/sub/x.json']);
  assert.deepEqual(paths('[!RA]*'), ['data/train.jsonl']);
  assert.deepEqual(
    filterPaths([{ path: '[x' }, { path: 'x' }], '[x').map((x) => x.path),
    ['[x'],
  ); // an unclosed [ is literal
});

test('unsafe paths from a listing are refused', async () => {
  const { downloadFiles } = await import('../../src/io/hub.ts');
  const cache = tmp();
  mkdirSync(cache, { recursive: true });
  await assert.rejects(
    downloadFiles(
      { repo: 'allenai/ai2_arc', type: 'dataset', revision: 'main', sha: SHA, files: [] },
      [{ path: '../../escape' }],
      opts(cache),
    ),
    /refusing the unsafe file path/,
  );
});

test('a file another download holds is waited for, then taken from the cache; a wait that runs out says so', async () => {
  const { lockFolder } = await import('../../src/io/lock.ts');
  const cache = tmp();
  const blob = sha256(Buffer.alloc(2048, 1));
  const release = lockFolder(join(cache, '.locks', 'models--org--tiny-model', `${blob}.olmo-ts`), 'test holder');
  await assert.rejects(
    hfHubDownload('org/tiny-model', 'model.safetensors', { endpoint, cacheDir: cache, env: {}, lockWaitMs: 100 }),
    /gave up after waiting 0 s for another download of the same file: .*in use by another run \(pid/,
  );
  const waiting = hfHubDownload('org/tiny-model', 'model.safetensors', {
    endpoint,
    cacheDir: cache,
    env: {},
    lockWaitMs: 10_000,
  });
  await new Promise((r) => setTimeout(r, 300));
  release();
  assert.deepEqual(readFileSync(await waiting), Buffer.alloc(2048, 1));
});
