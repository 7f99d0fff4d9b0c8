// `olmo pddl plan|validate`: plan a PDDL problem (the official Proc2PDDL breadth-first planner, or a
// heuristic one) and print the plan in the official format; check a plan against a domain and problem.
import { readFileSync } from 'node:fs';
import { pddl } from '../index.ts';
import { numberOption, parseCommandArgs, UsageError, type Command, optionTable } from './command.ts';

function readText(command: string, flag: string, path: string | undefined): string {
  if (!path) throw new UsageError(`olmo pddl ${command}: --${flag} FILE is required`);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`olmo pddl ${command}: cannot read --${flag} ${path}: ${(err as Error).message}`);
  }
}

/**
 * Parses both files. By default also refuses undeclared predicates, wrong arities and undeclared objects or
 * variables (each named with file:line:column); `lenient` reads them as the official Proc2PDDL tooling does and
 * prints them as warnings.
 */
function parseBoth(command: string, domainPath: string | undefined, problemPath: string | undefined, lenient: boolean) {
  const domainText = readText(command, 'domain', domainPath);
  const problemText = readText(command, 'problem', problemPath);
  try {
    const domain = pddl.parseDomain(domainText, { source: domainPath, strict: !lenient });
    const problem = pddl.parseProblem(problemText, domain, { source: problemPath, strict: !lenient });
    if (lenient) {
      for (const issue of [...pddl.checkDomain(domain), ...pddl.checkProblem(domain, problem)]) {
        process.stderr.write(`warning: ${issue.message}\n`);
      }
    }
    return { domain, problem };
  } catch (err) {
    if (err instanceof pddl.PddlCheckError) {
      throw new Error(`${err.message}\n(pass --lenient to accept this as the official Proc2PDDL planner does)`, {
        cause: err,
      });
    }
    if (err instanceof pddl.PddlParseError) throw new Error(err.message, { cause: err });
    throw err;
  }
}

const lenientHelp = `  --lenient    accept undeclared predicates, wrong numbers of arguments and undeclared objects or
               variables, as the official Proc2PDDL tooling does (printed as warnings); by default
               each is an error naming file:line:column`;

const planUsage = `olmo pddl plan --domain FILE --problem FILE [--planner bfs|gbfs|astar] [--timeout S] [--max-states N] [--lenient]

  --planner    bfs: the official Proc2PDDL breadth-first planner (default); gbfs / astar: heuristic
               search with h_FF, for larger problems
  --timeout    seconds before giving up (default 30, the official limit)
  --max-states states to expand at most (default 5,000,000)
${lenientHelp}

Prints the plan one action per line as the official tool writes it: name ('arg1', 'arg2').
Exit code 0 when solved, 1 when unsolvable or out of limits.`;

const validateUsage = `olmo pddl validate --domain FILE --problem FILE --plan FILE [--lenient]

${lenientHelp}

Checks the plan (official \`name ('a', 'b')\` lines, PDDL \`(name a b)\` or plain \`name a b\`) step by step;
prints VALID, or the first failing step and why. Exit code 0 when valid, 1 otherwise.`;

async function runPlan(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('pddl plan', {
    args: argv,
    options: {
      ...optionTable(['domain', 'problem', 'planner', 'timeout', 'max-states'], ['lenient']),
    },
  });
  const planner = values.planner ?? 'bfs';
  if (planner !== 'bfs' && planner !== 'gbfs' && planner !== 'astar') {
    throw new UsageError(`olmo pddl plan: --planner must be bfs, gbfs or astar, got '${planner}'`);
  }
  const timeout = numberOption('pddl plan', 'timeout', values.timeout, { min: 0 }) ?? 30;
  const maxStates = numberOption('pddl plan', 'max-states', values['max-states'], { integer: true, min: 1 });
  const { domain, problem } = parseBoth('plan', values.domain, values.problem, values.lenient ?? false);
  const result = pddl.plan(domain, problem, { planner, timeLimitMs: timeout * 1000, maxStates });
  if (result.status === 'solved' || result.status === 'goal-already-satisfied') {
    const text = pddl.formatPlan(result.plan ?? []);
    process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    process.stderr.write(`[${result.plan?.length ?? 0} steps, ${result.stats.expanded} states expanded]\n`);
    return 0;
  }
  console.error(`no plan: ${result.status}${result.message ? ` (${result.message})` : ''}`);
  return 1;
}

async function runValidate(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('pddl validate', {
    args: argv,
    options: {
      ...optionTable(['domain', 'problem', 'plan'], ['lenient']),
    },
  });
  const { domain, problem } = parseBoth('validate', values.domain, values.problem, values.lenient ?? false);
  const steps = pddl.parsePlan(readText('validate', 'plan', values.plan));
  const result = pddl.validatePlan(domain, problem, steps);
  if (result.valid) {
    console.log(`VALID (${result.stepsApplied} steps)`);
    return 0;
  }
  const f = result.failure!;
  console.log(`INVALID at step ${f.step}${f.action ? ` (${f.action})` : ''}: ${f.message}`);
  if (f.unsatisfied?.length) console.log(`unsatisfied: ${f.unsatisfied.join(' ')}`);
  return 1;
}

export const pddlCommand: Command = {
  name: 'pddl',
  summary: 'plan PDDL problems and validate plans (Proc2PDDL)',
  usage: `olmo pddl plan|validate ...\n\n${planUsage}\n\n${validateUsage}`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'plan') return runPlan(rest);
    if (sub === 'validate') return runValidate(rest);
    throw new UsageError(`olmo pddl: expected 'plan' or 'validate', got ${sub === undefined ? 'nothing' : `'${sub}'`}`);
  },
};
