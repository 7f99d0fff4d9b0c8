// Runs every test/**/*.test.ts file with Node's built-in test runner (tsx compiles TypeScript on the fly).
// Usage: node scripts/run-tests.mjs [substring-filter ...]
//
// With CI set (CI=true, as .ci/run does), a run cannot pass by skipping: it fails at once when the native addon
// does not load, and after the tests when any test skipped, except a skip for the shared workspace's fixtures
// when ../shared is absent, or one listed in ALLOWED_CI_SKIPS with the reason it cannot run anywhere.
//
// Files run one after another (node --test on 2 cores). Those in RUN_FIRST run before the rest and may leave
// outputs in OLMO_TEST_SHARED_DIR (a folder made for this run and removed after it) for later files to copy:
// the quickstart test leaves its tiny quickstart folder, which the dashboard's browser test would otherwise make
// again. A file run alone makes what it needs itself.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Skips that stay legitimate in CI: a test-name pattern and why the test cannot run even with ../shared. */
export const ALLOWED_CI_SKIPS = [
  {
    test: /^shared δ-RoT sample rows parse/,
    why: "../shared/fixtures/benchmarks/delta-rot holds only a README (the dataset's LFS files were not reachable)",
  },
];

/** Files that run first, in this order, because later ones reuse what they leave in OLMO_TEST_SHARED_DIR. */
const RUN_FIRST = ['test/quickstart/quickstart.test.ts'];

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** CI is on for any value but '', '0' and 'false' (CI systems set CI=true or CI=1). */
export function isCi(value) {
  return value !== undefined && !['', '0', 'false'].includes(value.toLowerCase());
}

/** Skipped tests in a TAP stream: `ok N - name # SKIP reason`, at any nesting depth. */
export function tapSkips(tap) {
  const out = [];
  for (const line of tap.split('\n')) {
    const m = /^\s*ok \d+ - (.*?) # SKIP\b\s*(.*)$/.exec(line);
    if (m) out.push({ name: m[1].replace(/\\#/g, '#'), reason: m[2] });
  }
  return out;
}

/** The skips that fail a CI run, given whether ../shared exists. */
export function unexpectedSkips(skips, sharedPresent) {
  return skips.filter((s) => {
    if (ALLOWED_CI_SKIPS.some((a) => a.test.test(s.name))) return false;
    // Skips for the shared workspace's fixtures name it ("shared"); they are fine only where it is absent.
    if (!sharedPresent && /shared/i.test(s.reason)) return false;
    return true;
  });
}

function checkNativeAddon() {
  const probe = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "const m = await import('./src/tensor/native-addon.ts'); if (!m.loadNativeAddon()) { console.error(m.nativeLoadError()); process.exit(1); }",
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (probe.status !== 0) {
    console.error(`CI: the native addon must load, and it does not: ${probe.stderr.trim()}`);
    process.exit(1);
  }
}

function main() {
  const filters = process.argv.slice(2);
  const files = findTests('test')
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  if (files.length === 0) {
    console.error(`no test files match ${filters.join(' ')}`);
    process.exit(1);
  }
  const ci = isCi(process.env.CI);
  if (ci) checkNativeAddon();
  const tapDir = ci ? mkdtempSync(join(tmpdir(), 'olmo-tests-')) : null;
  const tapFile = tapDir ? join(tapDir, 'results.tap') : null;
  const reporters = tapFile
    ? [
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tapFile}`,
      ]
    : ['--test-reporter=spec'];
  const sharedDir = mkdtempSync(join(tmpdir(), 'olmo-test-shared-'));
  // Tests never touch the network: the hub client refuses to fetch in offline mode.
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...files], {
    stdio: 'inherit',
    env: { ...process.env, HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', OLMO_TEST_SHARED_DIR: sharedDir },
  });
  rmSync(sharedDir, { recursive: true, force: true });
  let status = result.status ?? 1;
  if (tapFile) {
    const sharedPresent = existsSync(resolve(ROOT, '..', 'shared'));
    const bad = unexpectedSkips(tapSkips(readFileSync(tapFile, 'utf8')), sharedPresent);
    rmSync(tapDir, { recursive: true, force: true });
    if (bad.length > 0) {
      console.error(
        `\nCI: ${bad.length} test(s) skipped, which CI does not allow (../shared ${sharedPresent ? 'is present' : 'is absent'}):`,
      );
      for (const s of bad) console.error(`  - ${s.name}: ${s.reason}`);
      status = 1;
    }
  }
  process.exit(status);
}

function rank(file) {
  const i = RUN_FIRST.indexOf(file.split('\\').join('/'));
  return i < 0 ? RUN_FIRST.length : i;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
