// The known tasks, regimes and suites, and the resolution of task ids into an evaluation plan: the leaf tasks
// (one dataset, one format) to run, in order, and the suite aggregations (mc_or_rc, MMLU macro, core_9mcqa macro).
import type { SuiteAggregation } from './aggregate.ts';
import { MMLU_SUBJECTS, mmluTask } from './tasks/mmlu.ts';
import { arcChallenge, arcEasy } from './tasks/arc.ts';
import { boolq } from './tasks/boolq.ts';
import { csqa } from './tasks/csqa.ts';
import { hellaswag } from './tasks/hellaswag.ts';
import { openbookqa } from './tasks/openbookqa.ts';
import { piqa } from './tasks/piqa.ts';
import { socialiqa } from './tasks/siqa.ts';
import { winogrande } from './tasks/winogrande.ts';
import { makeGenerativeTask, type GenerativeSpec } from './tasks/generative-common.ts';
import { gsm8k } from './tasks/gsm8k.ts';
import { drop } from './tasks/drop.ts';
import { naturalqs } from './tasks/naturalqs.ts';
import { triviaqa } from './tasks/triviaqa.ts';
import { LOCAL_MC_FAMILIES } from './tasks/local-mc.ts';
import { configFamily, Task, type Format, type TaskConfig, type TaskFamily } from './task.ts';
import { FORMATS, formatTaskId, parseTaskId, TaskIdError } from './task-id.ts';
import { OLMES_SUBSAMPLE_SEED } from './selection.ts';
import type { TaskId } from './task-id.ts';
import { simpletomResolver } from './tasks/simpletom/index.ts';
import { worldValuesBenchResolver } from './tasks/worldvaluesbench/index.ts';
import { proc2pddlResolver } from './tasks/proc2pddl/task.ts';
import { digitalSocratesResolver, DIGITAL_SOCRATES_STAGE_TASKS } from './tasks/digital-socrates/tasks.ts';
import { deltaRotResolver, DELTA_ROT_STAGE_TASKS } from './tasks/delta-rot/tasks.ts';
import type { GenerationTaskConfig } from './tasks/digital-socrates/generation-task.ts';

/** The 9 core MC tasks of core_9mcqa, in OLMES suite order. */
export const CORE_9MCQA = ['arc_challenge', 'arc_easy', 'boolq', 'csqa', 'hellaswag', 'openbookqa', 'piqa', 'socialiqa', 'winogrande'];

export const TASK_FAMILIES: Record<string, TaskFamily> = Object.fromEntries(
  [arcChallenge, arcEasy, boolq, csqa, hellaswag, openbookqa, piqa, socialiqa, winogrande, ...MMLU_SUBJECTS.map(mmluTask), ...LOCAL_MC_FAMILIES].map((f) => [f.name, f]),
);

/** What a resolver may add to a plan: leaf tasks and suites (members first), deduplicated by alias. */
export interface PlanBuilder {
  overrides: ConfigOverrides;
  addTask(task: Task): string;
  addSuite(alias: string, how: SuiteAggregation, members: string[]): string;
}

/** A task family that resolves its own ids (the seed benchmarks); `resolve` returns false for ids it does not own. */
export interface TaskResolver {
  /** its task names, for error messages */
  describe: string;
  resolve(id: TaskId, plan: PlanBuilder): boolean;
  listIds(): string[];
}

export const TASK_RESOLVERS: TaskResolver[] = [simpletomResolver, worldValuesBenchResolver, proc2pddlResolver, digitalSocratesResolver, deltaRotResolver];

/** The OLMES generative tasks (`<name>::<regime>`, no rc/mc format), by the name used in task ids. */
export const GENERATIVE_TASKS: Record<string, GenerativeSpec> = Object.fromEntries([gsm8k, drop, naturalqs, triviaqa].map((s) => [s.alias, s]));

/** Regime overrides applied over a task's OLMES defaults. */
export const REGIMES: Record<string, (c: TaskConfig) => TaskConfig> = {
  olmes: (c) => c,
  /** ::olmes:full — every doc, no 1,000 sample */
  'olmes:full': (c) => ({ ...c, limit: null }),
};

/** Suite names (beyond `<task>::regime` = max(MC, RC)). */
export const SUITES = ['core_9mcqa', 'mmlu'];

export interface ConfigOverrides {
  limit?: number | null;
  num_shots?: number;
}

export interface SuiteSpec {
  alias: string;
  how: SuiteAggregation;
  /** aliases of leaf tasks or of suites listed earlier */
  members: string[];
}

export interface EvalPlan {
  tasks: Task[];
  suites: SuiteSpec[];
}

export class UnknownTaskError extends TaskIdError {}

function checkRegime(regime: string, id: string): void {
  if (!REGIMES[regime]) {
    throw new UnknownTaskError(`task id ${JSON.stringify(id)}: unknown regime ${JSON.stringify(regime)}; known regimes: ${Object.keys(REGIMES).join(', ')}`);
  }
}

function knownNames(): string {
  return `${[...SUITES, ...CORE_9MCQA, ...Object.keys(GENERATIVE_TASKS)].join(', ')}, mmlu_<subject> (57 subjects, e.g. mmlu_anatomy), ${TASK_RESOLVERS.map((r) => r.describe).join(', ')}`;
}

export function makeTask(name: string, format: Format, regime: string, overrides: ConfigOverrides = {}): Task {
  const f = TASK_FAMILIES[name];
  if (!f) throw new UnknownTaskError(`unknown task ${JSON.stringify(name)}; known tasks: ${knownNames()}`);
  checkRegime(regime, `${name}:${format}::${regime}`);
  const def = f.formats[format];
  let cfg: TaskConfig = {
    task_name: f.name,
    task_core: f.name,
    alias: formatTaskId({ name, format, regime }),
    format,
    regime,
    dataset_path: f.datasetPath,
    dataset_name: f.datasetName ?? null,
    split: f.evalSplit,
    fewshot_split: f.fewshotSplit,
    num_shots: f.numShots,
    fewshot_source: f.fewshotSource,
    fewshot_seed: 1234,
    primary_metric: def.primaryMetric,
    limit: f.limit,
    random_subsample_seed: OLMES_SUBSAMPLE_SEED,
    native_id_field: f.nativeIdField,
    uncond: def.uncond,
    version: 0,
  };
  cfg = REGIMES[regime](cfg);
  if (overrides.limit !== undefined) cfg = { ...cfg, limit: overrides.limit };
  if (overrides.num_shots !== undefined) cfg = { ...cfg, num_shots: overrides.num_shots };
  return new Task(f, cfg);
}

/** Every task id this registry knows: leaf ids, per-task max(MC, RC) ids and suites, for `--list-tasks`. */
export function listTaskIds(regime = 'olmes'): string[] {
  const out: string[] = [`core_9mcqa::${regime}`, `mmlu::${regime}`, `mmlu:mc::${regime}`, `mmlu:rc::${regime}`];
  for (const name of Object.keys(TASK_FAMILIES)) {
    out.push(`${name}::${regime}`);
    for (const fmt of FORMATS) out.push(`${name}:${fmt}::${regime}`);
  }
  for (const name of Object.keys(GENERATIVE_TASKS)) out.push(`${name}::${regime}`);
  for (const r of TASK_RESOLVERS) out.push(...r.listIds());
  return out;
}

/** Resolve task ids into leaf tasks (deduplicated, in first-mention order) and suites (members before suites). */
export function planTasks(ids: readonly string[], overrides: ConfigOverrides = {}): EvalPlan {
  const tasks = new Map<string, Task>();
  const suites = new Map<string, SuiteSpec>();

  const leaf = (name: string, format: Format, regime: string): string => {
    const t = makeTask(name, format, regime, overrides);
    if (!tasks.has(t.config.alias)) tasks.set(t.config.alias, t);
    return t.config.alias;
  };
  const suite = (alias: string, how: SuiteAggregation, members: string[]): string => {
    if (!suites.has(alias)) suites.set(alias, { alias, how, members });
    return alias;
  };
  const mmluFormat = (format: Format, regime: string) =>
    suite(`mmlu:${format}::${regime}`, 'macro', MMLU_SUBJECTS.map((s) => leaf(`mmlu_${s}`, format, regime)));
  const maxMcRc = (name: string, regime: string, mk: (f: Format) => string) =>
    suite(`${name}::${regime}`, 'mc_or_rc', [mk('mc'), mk('rc')]);

  const builder: PlanBuilder = {
    overrides,
    addTask: (t) => {
      if (!tasks.has(t.config.alias)) tasks.set(t.config.alias, t);
      return t.config.alias;
    },
    addSuite: (alias, how, members) => suite(alias, how, members),
  };
  const resolve = (id: string): void => {
    const parsed = parseTaskId(id);
    if (TASK_RESOLVERS.some((r) => r.resolve(parsed, builder))) return;
    const { name, format, regime } = parsed;
    checkRegime(regime, id);
    if (name === 'mmlu') {
      if (format) mmluFormat(format, regime);
      else maxMcRc('mmlu', regime, (f) => mmluFormat(f, regime));
      return;
    }
    if (name === 'core_9mcqa') {
      const members = CORE_9MCQA.map((n) =>
        format ? leaf(n, format, regime) : maxMcRc(n, regime, (f) => leaf(n, f, regime)),
      );
      suite(formatTaskId({ name, format, regime }), 'macro', members);
      return;
    }
    const gen = GENERATIVE_TASKS[name];
    if (gen) {
      if (format) throw new UnknownTaskError(`task id ${JSON.stringify(id)}: ${name} is a generative task and has no :${format} format; use ${name}::${regime}`);
      const t = makeGenerativeTask(gen, regime, REGIMES[regime], overrides);
      if (!tasks.has(t.config.alias)) tasks.set(t.config.alias, t);
      return;
    }
    if (!TASK_FAMILIES[name]) throw new UnknownTaskError(`task id ${JSON.stringify(id)}: unknown task ${JSON.stringify(name)}; known tasks: ${knownNames()}`);
    if (format) leaf(name, format, regime);
    else maxMcRc(name, regime, (f) => leaf(name, f, regime));
  };
  for (const id of ids) resolve(id);
  return { tasks: [...tasks.values()], suites: [...suites.values()] };
}

/** Tasks that only the two-model modes make (their docs come from a first stage's outputs), by task_name. */
const STAGE_TASKS: Record<string, (config: GenerationTaskConfig) => Task> = { ...DIGITAL_SOCRATES_STAGE_TASKS, ...DELTA_ROT_STAGE_TASKS };

/**
 * The task a run's saved task_config describes, carrying exactly that config (rescore): resolved by its alias as a
 * task id, or by task_name for the two-model modes' second stages; a log-likelihood task this registry no longer
 * knows by name (e.g. a local_mc:NAME registered at run time) is scored as a plain MC task, which needs no family.
 */
export function taskFromConfig(saved: TaskConfig): Task {
  const stage = STAGE_TASKS[saved.task_name];
  if (stage) return stage(saved as GenerationTaskConfig);
  let why = '';
  try {
    const t = planTasks([saved.alias]).tasks.find((x) => x.config.alias === saved.alias);
    if (t) return t.withConfig(saved);
    why = `the id resolves to ${planTasks([saved.alias]).tasks.map((x) => x.config.alias).join(', ')}`;
  } catch (e) {
    why = (e as Error).message;
  }
  if (saved.format === 'rc' || saved.format === 'mc') return new Task(configFamily(saved), saved);
  throw new UnknownTaskError(`task ${JSON.stringify(saved.alias)} (task_name ${saved.task_name}) cannot be rebuilt from its saved config: ${why}`);
}
