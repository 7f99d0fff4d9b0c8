// Runs `olmo eval ARGS` the way src/cli/main.ts runs a command (UsageError → exit 2, other errors → 1), for the
// tests, until main.ts registers evalCommand.
import { UsageError } from '../../src/cli/command.ts';
import { evalCommand } from '../../src/cli/eval.ts';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(evalCommand.usage);
} else {
  try {
    process.exitCode = await evalCommand.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\nSee: olmo eval --help`);
      process.exitCode = 2;
    } else {
      console.error(`olmo eval: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}
