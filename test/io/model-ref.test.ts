// Model references against a fake hub on 127.0.0.1: a folder or owner/name[@revision]; only the files a model
// needs (configs, tokenizer, safetensors index and shards; never .bin/ONNX/README), resumed after a dropped
// connection, refused and kept aside on a checksum mismatch, served from the cache offline, pinned to a branch, tag
// or commit, and clear errors for gated, missing, malformed and offline references. Nothing here reads the real
// environment or network: every call names its endpoint, cache and (empty) environment.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HubAuthError, HubChecksumError, HubNotFoundError } from '../../src/io/hub.ts';
import {
  ModelRefError,
  looksLikeHubId,
  missingModelFiles,
  modelPathOrHubId,
  parseModelRef,
  resolveModelRef,
  type ModelDownloadProgress,
  type ModelRefOptions,
} from '../../src/io/model-ref.ts';
import { FakeHub, commit, sha256, type FakeFile } from './hub-fake.ts';

const MAIN = commit('tiny-main');
const V1 = commit('tiny-v1');
const GATED = commit('gated');
const BIN = commit('bin-only');
const shard1 = Buffer.alloc(40_000, 11);
const shard2 = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 251));
const single = Buffer.alloc(30_000, 5);
const index = JSON.stringify({
  metadata: { total_size: 90_000 },
  weight_map: {
    'a.weight': 'model-00001-of-00002.safetensors',
    'b.weight': 'model-00002-of-00002.safetensors',
    'c.weight': 'model-00002-of-00002.safetensors',
  },
});
const sharded: Record<string, FakeFile> = {
  'config.json': { content: '{"model_type": "olmo2"}' },
  'generation_config.json': { content: '{"eos_token_id": 1}' },
  'tokenizer.json': { content: '{"model": {}}' },
  'tokenizer_config.json': { content: '{}' },
  'model.safetensors.index.json': { content: index },
  'model-00001-of-00002.safetensors': { content: shard1, lfs: true },
  'model-00002-of-00002.safetensors': { content: shard2, lfs: true },
  'pytorch_model.bin': { content: Buffer.alloc(1000, 9), lfs: true },
  'onnx/model.onnx': { content: Buffer.alloc(1000, 8), lfs: true },
  'original/config.json': { content: '{}' },
  'README.md': { content: '# tiny\n' },
};
const hub = new FakeHub([
  {
    type: 'model',
    id: 'org/tiny',
    refs: { main: MAIN, v1: V1 },
    commits: {
      [MAIN]: sharded,
      [V1]: {
        'config.json': { content: '{"model_type": "olmo2", "v": 1}' },
        'model.safetensors': { content: single, lfs: true },
      },
    },
  },
  {
    type: 'model',
    id: 'org/gated',
    gated: true,
    token: 'hf_ok',
    refs: { main: GATED },
    commits: { [GATED]: { 'config.json': { content: '{}' }, 'model.safetensors': { content: single, lfs: true } } },
  },
  {
    type: 'model',
    id: 'org/bin-only',
    refs: { main: BIN },
    commits: { [BIN]: { 'config.json': { content: '{}' }, 'pytorch_model.bin': { content: 'x', lfs: true } } },
  },
]);
let endpoint = '';
before(async () => {
  endpoint = await hub.start();
});
after(() => hub.close());

const tmp = () => mkdtempSync(join(tmpdir(), 'olmo-model-ref-'));
const opts = (cacheDir: string, extra: ModelRefOptions = {}): ModelRefOptions => ({
  endpoint,
  cacheDir,
  env: {},
  backoffMs: 1,
  ...extra,
});
const list = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort() : [];
const since = (n: number) => hub.requests.slice(n).map((r) => r.path);
const rejectsWith = async (p: Promise<unknown>, problem: string, re: RegExp) =>
  assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof ModelRefError, `${e.name}: ${e.message}`);
    assert.equal(e.problem, problem, e.message);
    assert.match(e.message, re);
    return true;
  });

test('a hub id downloads only what a model needs into the standard cache, the shards one by one, and resolves to the snapshot', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  const progress: ModelDownloadProgress[] = [];
  const log: string[] = [];
  const dir = await resolveModelRef(
    'org/tiny',
    opts(cache, { onProgress: (p) => progress.push(p), log: (l) => log.push(l) }),
  );
  const repo = join(cache, 'models--org--tiny');
  assert.equal(dir, join(repo, 'snapshots', MAIN));
  assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), MAIN);
  assert.deepEqual(list(dir), [
    'config.json',
    'generation_config.json',
    'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors',
    'model.safetensors.index.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  assert.deepEqual(readFileSync(join(dir, 'model-00002-of-00002.safetensors')), shard2);
  assert.deepEqual(missingModelFiles(dir), []);
  const made = since(start);
  assert.ok(!made.some((p) => /pytorch_model|onnx|README|original/.test(p)), made.join('\n'));
  assert.deepEqual(
    made.filter((p) => p.startsWith('/cdn/')),
    [`/cdn/${sha256(shard1)}`, `/cdn/${sha256(shard2)}`],
    'shards in order, each once',
  );
  // the shards come after every small file: a gated repository fails before any large transfer
  const firstShard = made.findIndex((p) => p.includes('safetensors') && !p.includes('index'));
  assert.ok(made.slice(firstShard).every((p) => p.includes('model-0000') || p.startsWith('/cdn/')));
  const weights = progress.filter((p) => p.stage === 'weights');
  assert.deepEqual(
    [weights.at(-1)!.bytes, weights.at(-1)!.total],
    [shard1.length + shard2.length, shard1.length + shard2.length],
  );
  assert.deepEqual([weights.at(-1)!.filesDone, weights.at(-1)!.filesTotal], [2, 2]);
  assert.ok(
    log.some((l) => /downloading 2 weight files \(0\.1 MB\)/.test(l)),
    log.join('\n'),
  );

  // online again: one listing request (a branch may have moved), nothing downloaded
  const again = hub.requests.length;
  assert.equal(await resolveModelRef('org/tiny@main', opts(cache)), dir);
  assert.deepEqual(since(again), ['/api/models/org/tiny/revision/main']);
  assert.ok(!list(repo).some((p) => p.endsWith('.incomplete') || p.endsWith('.corrupt')));
});

test('revision pinning: a tag, a branch that moves, and a commit (a cached commit makes no request at all)', async () => {
  const cache = tmp();
  const repo = join(cache, 'models--org--tiny');
  const v1 = await resolveModelRef('org/tiny@v1', opts(cache));
  assert.equal(v1, join(repo, 'snapshots', V1));
  assert.equal(readFileSync(join(repo, 'refs', 'v1'), 'utf8'), V1);
  assert.equal(readFileSync(join(v1, 'config.json'), 'utf8'), '{"model_type": "olmo2", "v": 1}');
  assert.deepEqual(list(v1), ['config.json', 'model.safetensors']);
  // a commit sha: downloaded once, writes no ref, then answered from the cache without asking the hub
  const bySha = await resolveModelRef(`org/tiny@${MAIN}`, opts(cache));
  assert.equal(bySha, join(repo, 'snapshots', MAIN));
  assert.deepEqual(list(join(repo, 'refs')), ['v1']);
  const n = hub.requests.length;
  assert.equal(await resolveModelRef(`org/tiny@${MAIN}`, opts(cache)), bySha);
  assert.equal(hub.requests.length, n);
  // main moves to the v1 commit: online, the branch is re-resolved and its ref follows
  const repoDef = hub.repos.find((r) => r.id === 'org/tiny')!;
  repoDef.refs.main = V1;
  try {
    assert.equal(await resolveModelRef('org/tiny', opts(cache)), v1);
    assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), V1);
  } finally {
    repoDef.refs.main = MAIN;
  }
  await rejectsWith(
    resolveModelRef('org/tiny@no-such-branch', opts(cache)),
    'not-found',
    new RegExp(`^revision 'no-such-branch' of model 'org/tiny' not found on ${endpoint}`),
  );
});

test('a connection dropped mid-file is resumed with a Range request, within a run and across runs', async () => {
  const cache = tmp();
  const path = `/cdn/${sha256(shard2)}`;
  hub.addFault(path, { truncate: true });
  const start = hub.requests.length;
  const dir = await resolveModelRef('org/tiny', opts(cache));
  assert.deepEqual(readFileSync(join(dir, 'model-00002-of-00002.safetensors')), shard2);
  assert.deepEqual(
    hub.requests
      .slice(start)
      .filter((r) => r.path === path)
      .map((r) => r.range),
    [null, `bytes=${shard2.length / 2}-`],
  );

  // a run that gives up leaves the partial blob (never a blob, a snapshot entry or a ref), and the next run resumes it
  const cache2 = tmp();
  const repo = join(cache2, 'models--org--tiny');
  hub.addFault(path, { truncate: true });
  await rejectsWith(
    resolveModelRef('org/tiny', opts(cache2, { retries: 0 })),
    'network',
    /model 'org\/tiny': downloading file model-00002-of-00002\.safetensors .*failed after 1 attempt/,
  );
  assert.ok(existsSync(join(repo, 'blobs', `${sha256(shard2)}.incomplete`)));
  assert.ok(!existsSync(join(repo, 'blobs', sha256(shard2))));
  assert.ok(!existsSync(join(repo, 'snapshots', MAIN, 'model-00002-of-00002.safetensors')));
  assert.ok(!existsSync(join(repo, 'refs', 'main')));
  assert.ok(existsSync(join(repo, 'blobs', sha256(shard1))), 'the finished shard is kept');
  const resume = hub.requests.length;
  await resolveModelRef('org/tiny', opts(cache2));
  const again = hub.requests.slice(resume).filter((r) => r.path.startsWith('/cdn/'));
  assert.deepEqual(
    again.map((r) => [r.path, r.range]),
    [[path, `bytes=${shard2.length / 2}-`]],
    'only the rest of the unfinished shard',
  );
  assert.deepEqual(readFileSync(join(repo, 'snapshots', MAIN, 'model-00002-of-00002.safetensors')), shard2);
});

test('a checksum mismatch is refused: the bytes are kept aside as .corrupt, nothing in blobs/, snapshots/ or refs/ looks complete', async () => {
  const cache = tmp();
  const repo = join(cache, 'models--org--tiny');
  const path = `/cdn/${sha256(shard1)}`;
  hub.addFault(path, { corrupt: true });
  const start = hub.count(path);
  await assert.rejects(resolveModelRef('org/tiny', opts(cache)), (e: Error) => {
    assert.ok(e instanceof ModelRefError && e.problem === 'checksum', e.message);
    assert.ok(e.cause instanceof HubChecksumError);
    assert.match(
      e.message,
      /model-00001-of-00002\.safetensors .*sha256 mismatch: expected [0-9a-f]{64} \(the hub's metadata\), got [0-9a-f]{64}\. The file is refused/,
    );
    assert.equal((e.cause as HubChecksumError).keptAt, join(repo, 'blobs', `${sha256(shard1)}.corrupt`));
    return true;
  });
  assert.equal(
    hub.count(path) - start,
    1,
    'not retried: the hub served these bytes on purpose or not, they are not the file',
  );
  assert.deepEqual(
    list(join(repo, 'blobs')).filter((b) => b.startsWith(sha256(shard1))),
    [`${sha256(shard1)}.corrupt`],
  );
  assert.ok(!existsSync(join(repo, 'snapshots', MAIN, 'model-00001-of-00002.safetensors')));
  assert.ok(!existsSync(join(repo, 'refs', 'main')));
  // a run afterwards downloads the file afresh
  const dir = await resolveModelRef('org/tiny', opts(cache));
  assert.deepEqual(readFileSync(join(dir, 'model-00001-of-00002.safetensors')), shard1);
});

test('offline: a complete cached snapshot is used without any request; otherwise a clear error', async () => {
  const cache = tmp();
  const env = { HF_HUB_OFFLINE: '1', HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache };
  const n0 = hub.requests.length;
  await rejectsWith(
    resolveModelRef('org/tiny', { env }),
    'offline',
    new RegExp(
      `^model 'org/tiny' at revision main is not in the hub cache ${cache} .*offline mode is on \\(HF_HUB_OFFLINE=1\\).*unset`,
    ),
  );
  assert.equal(hub.requests.length, n0);
  const dir = await resolveModelRef('org/tiny', { env: { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache } });
  const n1 = hub.requests.length;
  assert.equal(await resolveModelRef('org/tiny', { env }), dir);
  assert.equal(await resolveModelRef('org/tiny@main', { env }), dir);
  assert.equal(await resolveModelRef(`org/tiny@${MAIN}`, { env }), dir);
  assert.equal(hub.requests.length, n1);
  await rejectsWith(resolveModelRef('org/tiny@v1', { env }), 'offline', /revision v1 is not in the hub cache/);
  // a snapshot that lacks a shard (deleted, or written by a tool that fetched only some files) is not complete
  rmSync(join(dir, 'model-00002-of-00002.safetensors'));
  await rejectsWith(
    resolveModelRef('org/tiny', { env }),
    'offline',
    /the cached snapshot .* lacks model-00002-of-00002\.safetensors/,
  );
  assert.equal(hub.requests.length, n1);
  // online, the missing link is restored from the blob still in the cache: no file is fetched
  assert.equal(await resolveModelRef('org/tiny', { env: { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache } }), dir);
  assert.deepEqual(since(n1), ['/api/models/org/tiny/revision/main']);
});

test('a gated repository without a token names the variables to set; with the token it downloads', async () => {
  const cache = tmp();
  const start = hub.requests.length;
  await assert.rejects(resolveModelRef('org/gated', opts(cache)), (e: Error) => {
    assert.ok(e instanceof ModelRefError && e.problem === 'auth', e.message);
    assert.ok(e.cause instanceof HubAuthError);
    assert.match(
      e.message,
      new RegExp(`^model 'org/gated' on ${endpoint} is gated or private: .*answered 401 GatedRepo`),
    );
    for (const v of [
      'HF_TOKEN',
      'HUGGING_FACE_HUB_TOKEN',
      'HF_TOKEN_PATH',
      'huggingface-cli login',
      "accepting the repository's terms",
    ])
      assert.ok(e.message.includes(v), v);
    return true;
  });
  assert.ok(!since(start).some((p) => p.startsWith('/cdn/')), 'no weights asked for');
  await rejectsWith(
    resolveModelRef('org/gated', opts(cache, { env: { HF_TOKEN: 'hf_wrong' } })),
    'auth',
    /refused the token from HF_TOKEN .*answered 403 GatedRepo/,
  );
  const dir = await resolveModelRef('org/gated', opts(cache, { env: { HF_TOKEN: 'hf_ok' } }));
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), single);
});

test('a hub id that does not exist, a repository without safetensors, malformed references: each a clear error', async () => {
  const cache = tmp();
  await assert.rejects(resolveModelRef('nobody/nothing', opts(cache)), (e: Error) => {
    assert.ok(
      e instanceof ModelRefError && e.problem === 'not-found' && e.cause instanceof HubNotFoundError,
      e.message,
    );
    assert.match(
      e.message,
      new RegExp(
        `^model 'nobody/nothing' not found on ${endpoint}, and there is no folder .*nobody/nothing either\\. If it is private, it needs a token: Set HF_TOKEN`,
      ),
    );
    return true;
  });
  await rejectsWith(
    resolveModelRef('org/bin-only', opts(cache)),
    'incomplete',
    /model 'org\/bin-only' at revision main \(commit [0-9a-f]{40}\) has no safetensors weights .*only pytorch_model\.bin: olmo-ts reads safetensors only/,
  );
  assert.ok(!existsSync(join(cache, 'models--org--bin-only', 'refs')));
  const cwd = tmp();
  const bad: [string, RegExp][] = [
    [
      'a/b/c',
      /^model 'a\/b\/c' is neither a folder \(.* does not exist\) nor a hub id: a hub id has exactly one '\/' \(owner\/name\), this one has 2$/,
    ],
    ['owner/', /the name \(after the \/\) is empty/],
    ['owner/name@', /the revision after '@' is empty/],
    ['own er/name', /the owner 'own er' may hold only letters/],
    ['org/na--me', /the name 'na--me' may hold only/],
    [
      'olmo2',
      /model folder .*olmo2 does not exist \(a hub id is owner\/name\[@revision\], e\.g\. allenai\/OLMo-2-0425-1B, not 'olmo2'\)/,
    ],
    ['', /the model reference is empty/],
  ];
  for (const [ref, re] of bad) await rejectsWith(resolveModelRef(ref, opts(cache, { cwd })), 'malformed', re);
  await rejectsWith(
    resolveModelRef('./runs/x', opts(cache, { cwd })),
    'not-found',
    /^model folder .*runs\/x does not exist$/,
  );
  await rejectsWith(
    resolveModelRef('/no/such/dir', opts(cache, { cwd })),
    'not-found',
    /^model folder \/no\/such\/dir does not exist$/,
  );
  writeFileSync(join(cwd, 'file.txt'), 'x');
  await rejectsWith(
    resolveModelRef('file.txt', opts(cache, { cwd })),
    'malformed',
    /is a file; a model is a checkpoint folder/,
  );
});

test('a folder is a folder (even one named like a hub id); config fields keep hub ids and resolve paths', async () => {
  const cwd = tmp();
  mkdirSync(join(cwd, 'org', 'tiny'), { recursive: true });
  const n = hub.requests.length;
  assert.equal(await resolveModelRef('org/tiny', opts(tmp(), { cwd })), join(cwd, 'org', 'tiny'));
  assert.equal(hub.requests.length, n);
  assert.deepEqual(parseModelRef('allenai/OLMo-2-0425-1B@refs/pr/1', cwd), {
    kind: 'hub',
    repo: 'allenai/OLMo-2-0425-1B',
    revision: 'refs/pr/1',
  });
  assert.deepEqual(parseModelRef('allenai/OLMo-2-0425-1B', cwd), {
    kind: 'hub',
    repo: 'allenai/OLMo-2-0425-1B',
    revision: 'main',
  });
  assert.ok(
    looksLikeHubId('allenai/OLMo-2-0425-1B@v1') &&
      !looksLikeHubId('./a/b') &&
      !looksLikeHubId('a/b/c') &&
      !looksLikeHubId('model'),
  );
  assert.equal(modelPathOrHubId(cwd, 'org/tiny'), join(cwd, 'org', 'tiny'));
  assert.equal(modelPathOrHubId(cwd, 'allenai/OLMo-2-0425-1B-SFT@main'), 'allenai/OLMo-2-0425-1B-SFT@main');
  assert.equal(modelPathOrHubId(cwd, 'runs/sft/final'), join(cwd, 'runs/sft/final'));
  assert.equal(modelPathOrHubId(cwd, '/abs/model'), '/abs/model');
  assert.equal(modelPathOrHubId(cwd, undefined), undefined);
});
