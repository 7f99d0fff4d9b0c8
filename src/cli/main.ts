// The `olmo` command: dispatches to one module per subcommand.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatCommand } from './chat.ts';
import { dashboardCommand } from './dashboard.ts';
import { dataCommand } from './data.ts';
import { decontaminateCommand } from './decontaminate.ts';
import { dpoCommand } from './dpo.ts';
import { evalCommand } from './eval.ts';
import { exportCommand } from './export.ts';
import { forwardCommand } from './forward.ts';
import { generateCommand } from './generate.ts';
import { infoCommand } from './info.ts';
import { pddlCommand } from './pddl.ts';
import { quickstartCommand } from './quickstart.ts';
import { distillCommand } from './distill.ts';
import { rlvrCommand } from './rlvr.ts';
import { sftCommand } from './sft.ts';
import { serveCommand } from './serve.ts';
import { soupCommand } from './soup.ts';
import { tokenizerCommand } from './tokenizer.ts';
import { trainCommand } from './train.ts';
import { UsageError, type Command } from './command.ts';
import { packageVersion } from '../index.ts';

const commands: Command[] = [
  quickstartCommand,
  dataCommand,
  tokenizerCommand,
  trainCommand,
  sftCommand,
  dpoCommand,
  rlvrCommand,
  distillCommand,
  soupCommand,
  exportCommand,
  forwardCommand,
  generateCommand,
  chatCommand,
  serveCommand,
  dashboardCommand,
  evalCommand,
  pddlCommand,
  decontaminateCommand,
  infoCommand,
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'olmo — the open OLMo workflow in TypeScript',
    '',
    'Usage: olmo <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: olmo <command> --help)',
    '  -v, --version  show the version',
    '',
    'Environment:',
    '  OLMO_BACKEND=js|native            tensor backend',
    '  OLMO_NUM_THREADS=N                threads of the native kernels',
    '  OLMO_CPU_PATH=avx512|avx2|scalar  force a narrower SIMD path',
    '  OLMO_MEMORY_LIMIT=16GiB           memory the pre-allocation checks compare against',
    '  HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE  the Hugging Face hub and its cache',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(help());
    return name === undefined ? 1 : 0;
  }
  if (name === '-v' || name === '--version') {
    console.log(packageVersion());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(
      `olmo: unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}. See olmo --help.`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\nSee: olmo ${command.name} --help`);
      return 2;
    }
    console.error(`olmo ${command.name}: ${(err as Error).message}`);
    if (process.env.OLMO_DEBUG) console.error((err as Error).stack);
    return 1;
  }
}

// Run when executed as a script (`node --import tsx src/cli/main.ts`); bin/olmo.js imports main() instead.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
