// The layer table of docs/architecture.md, enforced: every relative import in src/ must point to the importing
// folder itself or to a folder its layer may use, and the olmo command may reach the library only through its
// public entry points (src/index.ts and the entry points package.json `exports` names), as a library user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What each folder of src/ may import directly, besides itself; a layer may also use whatever those layers may
 * (the closure is taken below). Leaves import nothing from src/.
 */
const DIRECT: Record<string, readonly string[]> = {
  random: [],
  verifiers: [],
  stats: [],
  pycompat: [],
  io: [],
  tensor: ['random'],
  tokenizers: ['io'],
  nn: ['tensor'],
  models: ['nn', 'io', 'tokenizers'],
  data: ['io', 'tokenizers', 'random'],
  train: ['models', 'data'],
  posttrain: ['train', 'verifiers', 'stats'],
  pddl: ['random'],
  // The OpenAI-compatible server: HTTP routes and the continuous-batching scheduler over the models.
  serve: ['models', 'tokenizers'],
  // The eval core: no model code. Its tasks add pddl and the verifiers; only backends/local.ts adds models.
  eval: ['io', 'tokenizers', 'pycompat', 'stats', 'random'],
};
const EVAL_TASKS_EXTRA = ['pddl', 'verifiers'];
const EVAL_LOCAL_BACKEND = 'src/eval/backends/local.ts';
const LIBRARY = Object.keys(DIRECT);
// The end-to-end pipeline uses every library layer, like the CLI (but may import them directly).
const APPLICATIONS: Record<string, readonly string[]> = {
  quickstart: LIBRARY,
  // The web dashboard reads what the library writes (runs, eval outputs, checkpoints) and relays to olmo serve.
  dashboard: ['train', 'eval', 'models', 'serve', 'io', 'stats', 'tokenizers', 'quickstart'],
  index: [...LIBRARY, 'quickstart', 'dashboard'],
};

function closure(layers: readonly string[]): Set<string> {
  const out = new Set<string>();
  const visit = (l: string): void => {
    if (out.has(l)) return;
    out.add(l);
    for (const d of DIRECT[l] ?? APPLICATIONS[l] ?? []) visit(d);
  };
  for (const l of layers) visit(l);
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier of a file: static imports and re-exports, `import()` calls and `import('…')` types. */
export function moduleSpecifiers(text: string, fileName = 'file.ts'): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) out.push(arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const lit = node.argument.literal;
      if (ts.isStringLiteral(lit)) out.push(lit.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) out.push(expr.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** `src/<layer>/…` → layer; `src/index.ts` → 'index'. */
function layerOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 2 ? 'index' : parts[1];
}

/** The src/ files package.json `exports` names as entry points (./dist/x/y.js → src/x/y.ts). */
function entryPoints(): Set<string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports?: unknown };
  const out = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      const m = /^\.\/dist\/(.+)\.js$/.exec(value);
      if (m) out.add(`src/${m[1]}.ts`);
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) visit(v);
    }
  };
  visit(pkg.exports);
  return out;
}

interface Edge {
  from: string;
  to: string;
  spec: string;
}

function sourceEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const abs of walk(join(ROOT, 'src'))) {
    const from = relative(ROOT, abs).split(sep).join('/');
    for (const spec of moduleSpecifiers(readFileSync(abs, 'utf8'), from)) {
      if (!spec.startsWith('.')) continue;
      const to = relative(ROOT, resolve(dirname(abs), spec))
        .split(sep)
        .join('/');
      edges.push({ from, to, spec });
    }
  }
  return edges;
}

/** Why an import breaks the layers, or null when it is allowed. */
export function layerViolation(edge: Edge, entries: ReadonlySet<string>): string | null {
  const { from, to } = edge;
  if (!to.startsWith('src/')) return `${from} imports ${edge.spec}, outside src/`;
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === 'cli') {
    if (b === 'cli' || to === 'src/index.ts' || entries.has(to)) return null;
    return `${from} imports ${edge.spec}: the CLI may import only src/index.ts or an entry point in package.json exports`;
  }
  if (a === b) return null;
  if (b === 'cli') return `${from} imports ${edge.spec}: nothing in the library imports the CLI`;
  if (!(a in DIRECT) && !(a in APPLICATIONS)) return `${from}: src/${a} is not in the layer table of this test`;
  let allowed = closure([a]);
  if (a === 'eval' && from.startsWith('src/eval/tasks/')) allowed = closure(['eval', ...EVAL_TASKS_EXTRA]);
  if (from === EVAL_LOCAL_BACKEND) allowed = closure(['eval', 'models']);
  if (allowed.has(b)) return null;
  return `${from} imports ${edge.spec}: src/${a} may not import src/${b} (allowed: ${
    [...allowed]
      .filter((l) => l !== a)
      .sort()
      .join(', ') || 'nothing'
  })`;
}

test('every import in src/ follows the layer table', () => {
  const entries = entryPoints();
  const edges = sourceEdges();
  assert.ok(edges.length > 200, `only ${edges.length} relative imports found under src/: the scan is broken`);
  const violations = edges.map((e) => layerViolation(e, entries)).filter((v): v is string => v !== null);
  assert.deepEqual(violations, [], `layer violations:\n${violations.join('\n')}`);
});

test('every folder of src/ is in the layer table', () => {
  const folders = readdirSync(join(ROOT, 'src')).filter((n) => statSync(join(ROOT, 'src', n)).isDirectory());
  const known = new Set([...LIBRARY, ...Object.keys(APPLICATIONS), 'cli']);
  assert.deepEqual(
    folders.filter((f) => !known.has(f)),
    [],
    'add new src/ folders to DIRECT in this test and to docs/architecture.md',
  );
});

test('package.json entry points exist in src/', () => {
  for (const entry of entryPoints())
    assert.ok(statSync(join(ROOT, entry)).isFile(), `${entry} (from package.json exports) is missing`);
  assert.ok(entryPoints().has('src/index.ts'), 'package.json exports "." must be dist/index.js');
});

test('the checker finds every import form and refuses what the table forbids', () => {
  const text = [
    "import { a } from './a.ts';",
    "import type { B } from '../b.ts';",
    "export * from './c.ts';",
    "export * as d from './d.ts';",
    "const e = await import('./e.ts');",
    "type F = import('./f.ts').F;",
    "import 'node:fs';",
  ].join('\n');
  assert.deepEqual(moduleSpecifiers(text), ['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts', './f.ts', 'node:fs']);
  const none = new Set<string>();
  const check = (from: string, to: string) => layerViolation({ from, to, spec: to }, none);
  assert.equal(check('src/models/olmo2.ts', 'src/nn/index.ts'), null);
  assert.equal(check('src/models/olmo2.ts', 'src/tensor/index.ts'), null, 'models may use tensor through nn');
  assert.match(check('src/nn/linear.ts', 'src/models/index.ts') ?? '', /src\/nn may not import src\/models/);
  assert.match(check('src/stats/paired.ts', 'src/io/jsonl.ts') ?? '', /allowed: nothing/);
  assert.match(check('src/eval/runner/run.ts', 'src/models/index.ts') ?? '', /src\/eval may not import src\/models/);
  assert.equal(check('src/eval/backends/local.ts', 'src/models/index.ts'), null);
  assert.equal(check('src/eval/tasks/gsm8k.ts', 'src/verifiers/gsm8k.ts'), null);
  assert.match(check('src/eval/metrics.ts', 'src/verifiers/gsm8k.ts') ?? '', /may not import src\/verifiers/);
  assert.match(check('src/eval/index.ts', 'src/posttrain/index.ts') ?? '', /may not import src\/posttrain/);
  assert.match(check('src/posttrain/sft/run.ts', 'src/eval/index.ts') ?? '', /may not import src\/eval/);
  assert.match(check('src/cli/train.ts', 'src/train/index.ts') ?? '', /the CLI may import only src\/index\.ts/);
  assert.equal(check('src/cli/train.ts', 'src/index.ts'), null);
  assert.equal(
    layerViolation({ from: 'src/cli/x.ts', to: 'src/train/index.ts', spec: '' }, new Set(['src/train/index.ts'])),
    null,
  );
  assert.match(check('src/train/loop.ts', 'src/cli/command.ts') ?? '', /nothing in the library imports the CLI/);
  assert.match(check('src/widgets/a.ts', 'src/io/jsonl.ts') ?? '', /not in the layer table/);
});
