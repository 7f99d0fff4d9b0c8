// README's quickstart command must run the checkout's own `olmo` at once. `npx olmo` inside the checkout does
// not: npm finds no `olmo` in node_modules/.bin, installs the package itself into npm's exec cache (rebuilding
// the native addon and the TypeScript) and only then starts, a minute later with no output. So README names a
// package script that runs bin/olmo.js, and this test runs README's own line with --help and times it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Generous for a loaded two-core machine; the failure this guards against takes a minute.
const START_LIMIT_MS = 20_000;

/** The quickstart line of README's first sh block, without its comment, as words. */
export function readmeQuickstartCommand(readme: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md: no ```sh block with the set-up commands');
  const line = block[1].split('\n').find((l) => /\bquickstart\b/.test(l));
  if (!line) throw new Error("README.md: the first ```sh block has no 'quickstart' command");
  return line.replace(/#.*$/, '').trim().split(/\s+/);
}

test("README's quickstart command runs the checkout's bin/olmo.js (not npx, which reinstalls the package first)", () => {
  const words = readmeQuickstartCommand(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.notEqual(words[0], 'npx', `README runs \`${words.join(' ')}\`: use \`npm run olmo -- quickstart\``);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  assert.equal(pkg.scripts?.olmo, 'node bin/olmo.js', 'package.json needs "olmo": "node bin/olmo.js" in scripts');
  assert.deepEqual(words, ['npm', 'run', 'olmo', '--', 'quickstart']);
});

test("README's quickstart command starts within seconds (run with --help in place of quickstart)", () => {
  const words = readmeQuickstartCommand(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  // Never time `npx olmo` here: it would rebuild the whole package in npm's cache (the first test says why).
  assert.notEqual(words[0], 'npx', 'README still names npx (see the test above)');
  const argv = words.map((w) => (w === 'quickstart' ? '--help' : w));
  const started = performance.now();
  const run = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 3 * START_LIMIT_MS });
  const ms = performance.now() - started;
  assert.equal(run.status, 0, `\`${argv.join(' ')}\` exited with ${run.status}: ${run.stderr}`);
  assert.match(run.stdout, /Usage: olmo <command>/);
  assert.match(run.stdout, /quickstart/);
  assert.ok(ms < START_LIMIT_MS, `\`${argv.join(' ')}\` took ${Math.round(ms)} ms (limit ${START_LIMIT_MS} ms)`);
});
