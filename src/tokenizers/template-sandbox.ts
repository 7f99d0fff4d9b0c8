// Bounded rendering of untrusted Jinja chat templates. A checkpoint's tokenizer_config.json is code that runs
// on every render (SFT encoding, evaluation prompts, chat, serving); @huggingface/jinja has no resource limits,
// so `{{ range(300000000)|length }}` kills the process and nested loops never end. transformers renders with
// Jinja's ImmutableSandboxedEnvironment, whose range() refuses more than MAX_RANGE = 100000 items
// (https://github.com/pallets/jinja/blob/main/src/jinja2/sandbox.py); here the same cap applies to range() and
// to lists a template builds, plus caps on loop iterations, string sizes and wall-clock time.
//
// The one hook used is the library's public `Interpreter.evaluate`, through which every node is evaluated:
// it checks the deadline, the size of each string and list built, and charges each for-loop the length of what
// it iterates over. Globals are the library's `setupGlobals` list with range() replaced. Escapes such as `__class__`, `__globals__`, `constructor` resolve to undefined in this
// library: attribute access only reads its own runtime maps, never JavaScript properties.
import { Environment, Interpreter, Template } from '@huggingface/jinja';

/** Resource limits for one render. */
export interface TemplateLimits {
  /** Longest list range() may return, and longest list the template may build (Jinja sandbox MAX_RANGE). */
  maxItems: number;
  /** For-loop iterations in one render, over all loops, nested ones included. */
  maxLoopIterations: number;
  /** Longest string the template may build, the rendered text included. */
  maxOutputChars: number;
  /** Characters of all strings built during one render (intermediate values, every nesting level). */
  maxWorkChars: number;
  /** Wall-clock time of one render. */
  timeoutMs: number;
}

export const DEFAULT_TEMPLATE_LIMITS: Readonly<TemplateLimits> = Object.freeze({
  maxItems: 100_000,
  maxLoopIterations: 100_000,
  maxOutputChars: 16 * 1024 * 1024,
  maxWorkChars: 128 * 1024 * 1024,
  timeoutMs: 5_000,
});

/** A render stopped by one of the TemplateLimits; the message names the limit, its value and the template's source. */
export class TemplateLimitError extends Error {
  constructor(
    readonly limit: keyof TemplateLimits,
    message: string,
  ) {
    super(message);
    this.name = 'TemplateLimitError';
  }
}

// The package's typings re-export its runtime through an extensionless path that NodeNext resolution cannot
// follow (Interpreter and Environment arrive as `any`), so the parts used here are declared here.
interface Statement {
  type: string;
}
interface RuntimeValue {
  type: string;
  value: unknown;
}
interface JinjaEnvironment {
  set(name: string, value: unknown): unknown;
}
interface JinjaInterpreter {
  evaluate(statement: Statement | undefined, environment: JinjaEnvironment): RuntimeValue;
  run(program: unknown): RuntimeValue;
}
const EnvironmentClass = Environment as new (parent?: JinjaEnvironment) => JinjaEnvironment;
const InterpreterClass = Interpreter as new (env: JinjaEnvironment) => JinjaInterpreter;

/** Nodes whose value is an existing one looked up, not a newly built string or list. */
const LOOKUPS = new Set(['Identifier', 'MemberExpression']);

/** Counts what one render spends and throws TemplateLimitError at the first limit crossed. */
class Budget {
  private loops = 0;
  private work = 0;
  private ticks = 0;
  private readonly deadline: number;

  constructor(
    readonly limits: TemplateLimits,
    readonly source: string,
  ) {
    this.deadline = performance.now() + limits.timeoutMs;
  }

  fail(limit: keyof TemplateLimits, what: string): never {
    throw new TemplateLimitError(
      limit,
      `chat template exceeds ${what} (limit ${limit} = ${this.limits[limit]}) in ${this.source}`,
    );
  }

  tick(): void {
    if ((++this.ticks & 255) === 0 && performance.now() > this.deadline) {
      this.fail('timeoutMs', `its time limit of ${this.limits.timeoutMs} ms`);
    }
  }

  iterations(n: number): void {
    if ((this.loops += n) > this.limits.maxLoopIterations) {
      this.fail('maxLoopIterations', `${this.limits.maxLoopIterations} loop iterations`);
    }
  }

  items(n: number, what: string): void {
    if (n > this.limits.maxItems) this.fail('maxItems', `${this.limits.maxItems} items: ${what} has ${n}`);
  }

  /** A string value: its own length, and (when newly built) its share of the work budget. */
  text(length: number, built: boolean): void {
    if (length > this.limits.maxOutputChars) {
      this.fail('maxOutputChars', `${this.limits.maxOutputChars} characters: it built a string of ${length}`);
    }
    if (built && (this.work += length) > this.limits.maxWorkChars) {
      this.fail('maxWorkChars', `${this.limits.maxWorkChars} characters of text built while rendering`);
    }
  }
}

class BoundedInterpreter extends InterpreterClass {
  /** Iterable expressions of the for-loops met so far: their value's length is charged as loop iterations. */
  private readonly loopIterables = new WeakSet<object>();

  constructor(
    env: JinjaEnvironment,
    private readonly budget: Budget,
  ) {
    super(env);
  }

  override evaluate(statement: Statement | undefined, environment: JinjaEnvironment): RuntimeValue {
    this.budget.tick();
    if (statement?.type === 'For') this.loopIterables.add(loopIterable(statement));
    const value = super.evaluate(statement, environment);
    const type = statement?.type ?? '';
    const raw: unknown = value.value;
    if (typeof raw === 'string') this.budget.text(raw.length, !LOOKUPS.has(type));
    else if (Array.isArray(raw) && !LOOKUPS.has(type)) this.budget.items(raw.length, 'a list it built');
    // The library's for-loop prepares every item before running the first iteration, so the whole length is
    // charged as soon as the iterable is known (nested loops add up, a `break` does not refund).
    if (statement !== undefined && this.loopIterables.has(statement)) {
      this.budget.iterations(Array.isArray(raw) ? raw.length : raw instanceof Map ? raw.size : 0);
    }
    return value;
  }
}

/** The expression a for-loop iterates over (`for x in ITEMS if test` iterates ITEMS). */
function loopIterable(node: Statement): object {
  const iterable = (node as unknown as { iterable: { type: string; lhs?: object } }).iterable;
  return iterable.type === 'SelectExpression' && iterable.lhs !== undefined ? iterable.lhs : iterable;
}

/** Python's range() with the sandbox's cap, checked before anything is allocated. */
function boundedRange(budget: Budget): (start: number, stop?: number, step?: number) => number[] {
  return (start, stop, step = 1) => {
    if (stop === undefined) [start, stop] = [0, start];
    if (step === 0) throw new Error('range() step must not be zero');
    const span = Math.ceil((stop - start) / step);
    const n = span > 0 ? span : 0; // NaN (non-numeric bounds) gives an empty range, as the library's loop does
    budget.items(n, `range(${start}, ${stop}, ${step})`);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(start + i * step);
    return out;
  };
}

/** strftime_now is delegated to the library's own implementation through an ordinary render. */
const strftimeTemplate = new Template('{{ strftime_now(format) }}');

/** The globals of @huggingface/jinja's `setupGlobals` (not exported by the package), range() bounded. */
function sandboxGlobals(budget: Budget): JinjaEnvironment {
  const env = new EnvironmentClass();
  const constants: Record<string, unknown> = {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
  };
  for (const [name, value] of Object.entries(constants)) env.set(name, value);
  env.set('raise_exception', (message: string) => {
    throw new Error(message);
  });
  env.set('range', boundedRange(budget));
  env.set('strftime_now', (format: string) => strftimeTemplate.render({ format }));
  return env;
}

/**
 * Renders a parsed template with `variables`, within `limits`; `source` (a file or a description) is named in
 * the TemplateLimitError a crossed limit throws. Output is that of `template.render(variables)` otherwise.
 */
export function renderBounded(
  template: Template,
  variables: Record<string, unknown>,
  source: string,
  limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS,
): string {
  const budget = new Budget(limits, source);
  const env = new EnvironmentClass(sandboxGlobals(budget));
  for (const [key, value] of Object.entries(variables)) env.set(key, value);
  const result = new BoundedInterpreter(env, budget).run(template.parsed);
  return result.value as string;
}
