// Builds the native addon at `npm install`. A failed build is not fatal for users: the package then runs on the
// pure-TypeScript backend and says so once when it loads. In CI (CI set) it is: the native kernels must be tested.
import { spawnSync } from 'node:child_process';

if (process.env.OLMO_SKIP_NATIVE === '1') {
  console.log('olmo-ts: OLMO_SKIP_NATIVE=1, skipping the native addon build (pure-TypeScript backend).');
  process.exit(0);
}
const result = spawnSync('node-gyp', ['rebuild', '-j', 'max'], {
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI.toLowerCase());
if (result.status !== 0 && ci) {
  console.error('\nolmo-ts: the native addon did not build (see the node-gyp output above); CI requires it.\n');
  process.exit(1);
}
if (result.status !== 0) {
  console.warn(
    '\nolmo-ts: the native addon did not build (see the node-gyp output above).\n' +
      'olmo-ts will still work on its pure-TypeScript backend, only more slowly.\n' +
      'To get native speed, install a C++ toolchain (g++, make, python3) and run `npm rebuild olmo-ts`.\n',
  );
}
