// Benchmark runner: `npm run bench -- NAME [--json]`.
//
// Each benchmark is a module exporting `run(opts): Promise<Measurement[]>`; register it below with one line.
// Without --json the measurements print as a table; with --json each prints as one JSON object per line
// (name, value, unit, and baseline and ratio where there is a baseline), and notes go to stderr so that
// stdout stays machine-readable.

export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** The same quantity measured for the baseline (numpy, PyTorch, …) in the same run. */
  baseline?: number;
  /** value / baseline, oriented so that > 1 means olmo-ts is better. */
  ratio?: number;
}

export interface BenchOptions {
  json: boolean;
  /** Prints a note (machine, thread count, why a baseline is missing): stdout for tables, stderr for --json. */
  log(message: string): void;
  /** Arguments after the benchmark name, for the benchmark to interpret. */
  args: string[];
}

export interface Benchmark {
  run(opts: BenchOptions): Promise<Measurement[]>;
}

const registry: Record<string, () => Promise<Benchmark>> = {
  gemm: () => import('./gemm.ts'),
  decode: () => import('./decode.ts'),
  memory: () => import('./memory.ts'),
  train: () => import('./train.ts'),
  eval: () => import('./eval.ts'),
  llm: () => import('./llm.ts'),
  serve: () => import('./serve.ts'),
};

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

function printTable(rows: Measurement[]): void {
  const header = ['name', 'value', 'unit', 'baseline', 'ratio'];
  const cells = rows.map((r) => [
    r.name,
    formatNumber(r.value),
    r.unit,
    r.baseline === undefined ? '-' : formatNumber(r.baseline),
    r.ratio === undefined ? '-' : r.ratio.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((s, i) => (i === 0 || i === 2 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  const name = rest[0];
  if (!name || !(name in registry)) {
    console.error(`usage: npm run bench -- NAME [--json]   (NAME: ${Object.keys(registry).join(', ')})`);
    process.exit(2);
  }
  const bench = await registry[name]();
  const opts: BenchOptions = {
    json,
    args: rest.slice(1),
    log: (message) => (json ? console.error(message) : console.log(message)),
  };
  const results = await bench.run(opts);
  if (json) {
    for (const r of results) {
      const out: Measurement = { name: r.name, value: r.value, unit: r.unit };
      if (r.baseline !== undefined) {
        out.baseline = r.baseline;
        out.ratio = r.ratio;
      }
      console.log(JSON.stringify(out));
    }
  } else {
    printTable(results);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
