// Builds the dashboard's web app into one folder the dashboard server serves as static files: index.html, app.js
// (web/dashboard/main.ts and Chart.js bundled by esbuild, so the page loads nothing from a CDN and works offline)
// and app.css. Run by `npm run build`; `node scripts/build-dashboard.mjs [OUT_DIR]` writes to dist/dashboard-app by
// default. Exported as buildDashboard(outDir) for the browser tests, which build into a temporary folder.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web', 'dashboard');

/**
 * Bundles the web app into outDir (created if missing) and returns the paths written. Minified, with a source map
 * next to app.js so a stack trace in the browser still names the TypeScript line.
 */
export async function buildDashboard(outDir) {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [join(WEB, 'main.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  for (const warning of result.warnings) console.warn(`build-dashboard: ${warning.text}`);
  copyFileSync(join(WEB, 'style.css'), join(out, 'app.css'));
  writeFileSync(join(out, 'index.html'), readFileSync(join(WEB, 'index.html'), 'utf8'));
  return { outDir: out, files: ['index.html', 'app.js', 'app.css'].map((f) => join(out, f)) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = process.argv[2] ?? join(ROOT, 'dist', 'dashboard-app');
  buildDashboard(outDir).then(
    ({ files }) => console.log(`dashboard built: ${files.join(', ')}`),
    (err) => {
      console.error(`build-dashboard: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
