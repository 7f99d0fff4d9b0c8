// `olmo generate --model owner/name` end to end against a fake hub on 127.0.0.1 serving a tiny sharded checkpoint
// (saved with saveModel): the same text as the local folder, downloaded once into HF_HUB_CACHE, then served from the
// cache with HF_HUB_OFFLINE=1 and no request; a hub id that does not exist and a malformed one are usage errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadModel, saveModel } from '../../src/models/index.ts';
import { FakeHub, commit, type FakeFile } from '../io/hub-fake.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';
import type { CliResult } from './cli-helpers.ts';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'olmo2', 'model');
const tmp = mkdtempSync(join(tmpdir(), 'olmo-cli-hub-'));
const SHA = commit('tiny-olmo2');

/** The CLI in a child process, asynchronously (the fake hub answers from this process's event loop). */
function olmoAsync(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...OLMO_NODE_ARGS, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

const local = join(tmp, 'local-model');
let hub: FakeHub;
let endpoint = '';
before(async () => {
  // a sharded checkpoint with a tokenizer, as a user would upload it
  saveModel(loadModel(FIXTURE), local, { maxShardSize: '200KB' });
  writeFileSync(join(local, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  const files: Record<string, FakeFile> = { 'README.md': { content: '# tiny\n' } };
  for (const name of readdirSync(local))
    files[name] = { content: readFileSync(join(local, name)), lfs: name.endsWith('.safetensors') };
  assert.ok(Object.keys(files).filter((f) => f.endsWith('.safetensors')).length >= 2, 'the checkpoint is sharded');
  hub = new FakeHub([{ type: 'model', id: 'org/tiny-olmo2', refs: { main: SHA }, commits: { [SHA]: files } }]);
  endpoint = await hub.start();
});
after(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('olmo generate --model owner/name', () => {
  const prompt = ['--prompt', 'hello world', '--max-new-tokens', '5', '--no-stream'];

  it('downloads the checkpoint into the hub cache, generates what the local folder generates, then runs offline', async () => {
    const cache = join(tmp, 'hub-cache');
    const online = { HF_ENDPOINT: endpoint, HF_HOME: tmp, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '0', HF_TOKEN: '' };
    const expected = await olmoAsync(['generate', '--model', local, ...prompt], online);
    assert.equal(expected.code, 0, expected.stderr);
    const start = hub.requests.length;
    const fromHub = await olmoAsync(['generate', '--model', 'org/tiny-olmo2', ...prompt], online);
    assert.equal(fromHub.code, 0, fromHub.stderr);
    assert.equal(fromHub.stdout, expected.stdout);
    const snapshot = join(cache, 'models--org--tiny-olmo2', 'snapshots', SHA);
    assert.match(fromHub.stderr, new RegExp(`model 'org/tiny-olmo2' at revision main: downloading \\d+ weight files`));
    assert.ok(fromHub.stderr.includes(snapshot), fromHub.stderr);
    assert.ok(hub.requests.length > start && !hub.requests.slice(start).some((r) => r.path.includes('README')));
    assert.equal(readFileSync(join(cache, 'models--org--tiny-olmo2', 'refs', 'main'), 'utf8'), SHA);

    const n = hub.requests.length;
    const offline = await olmoAsync(['generate', '--model', 'org/tiny-olmo2@main', ...prompt], {
      ...online,
      HF_HUB_OFFLINE: '1',
    });
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.stdout, expected.stdout);
    assert.equal(hub.requests.length, n, 'offline: no request');
  });

  it('a hub id that does not exist and a malformed reference are usage errors naming what', async () => {
    const env = {
      HF_ENDPOINT: endpoint,
      HF_HOME: tmp,
      HF_HUB_CACHE: join(tmp, 'cache-2'),
      HF_HUB_OFFLINE: '0',
      HF_TOKEN: '',
    };
    const missing = await olmoAsync(['generate', '--model', 'org/no-such-model', ...prompt], env);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(
      missing.stderr,
      new RegExp(`olmo generate: --model: model 'org/no-such-model' not found on ${endpoint}`),
    );
    const bad = await olmoAsync(['generate', '--model', 'org/a/b', ...prompt], env);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(
      bad.stderr,
      /--model: model 'org\/a\/b' is neither a folder .* nor a hub id: a hub id has exactly one '\/'/,
    );
    const offline = await olmoAsync(['generate', '--model', 'org/tiny-olmo2', ...prompt], {
      ...env,
      HF_HUB_OFFLINE: '1',
    });
    assert.equal(offline.code, 1, offline.stderr);
    assert.match(
      offline.stderr,
      /olmo generate: model 'org\/tiny-olmo2' at revision main is not in the hub cache .*offline mode is on \(HF_HUB_OFFLINE=1\)/,
    );
  });
});
