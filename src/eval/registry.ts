// The known tasks and the resolution of task ids into an evaluation plan: the leaf tasks (one dataset, one format
// or protocol) to run, in order, and the suite aggregations (mc_or_rc, MMLU macro, core_9mcqa macro). A registry is
// built from one list of task families; each family owns the ids it resolves. `olmo eval` and library users pass
// families of their own (local_mc:NAME folders, new benchmarks) with `withFamilies` instead of editing a global table.
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
import { makeGenerativeTask, type GenerativeSpec } from './kinds/olmes-generative.ts';
import { mcTaskConfig, MultipleChoiceTask, type McTaskFamily } from './kinds/multiple-choice.ts';
import { gsm8k } from './tasks/gsm8k.ts';
import { drop } from './tasks/drop.ts';
import { naturalqs } from './tasks/naturalqs.ts';
import { triviaqa } from './tasks/triviaqa.ts';
import { LOCAL_MC_FAMILIES } from './tasks/local-mc.ts';
import type { Format, Task, TaskConfig } from './task.ts';
import { FORMATS, formatTaskId, parseTaskId, TaskIdError } from './task-id.ts';
import type { TaskId } from './task-id.ts';
import { simpletomResolver } from './tasks/simpletom/index.ts';
import { worldValuesBenchResolver } from './tasks/worldvaluesbench/index.ts';
import { proc2pddlResolver } from './tasks/proc2pddl/task.ts';
import { digitalSocratesResolver } from './tasks/digital-socrates/tasks.ts';
import { deltaRotResolver } from './tasks/delta-rot/tasks.ts';

/** The 9 core MC tasks of core_9mcqa, in OLMES suite order. */
export const CORE_9MCQA = [
  'arc_challenge',
  'arc_easy',
  'boolq',
  'csqa',
  'hellaswag',
  'openbookqa',
  'piqa',
  'socialiqa',
  'winogrande',
];

/** The built-in multiple-choice families: the 9 core tasks, the 57 MMLU subjects, the synthetic corpus's tasks. */
export const MC_FAMILIES: readonly McTaskFamily[] = [
  arcChallenge,
  arcEasy,
  boolq,
  csqa,
  hellaswag,
  openbookqa,
  piqa,
  socialiqa,
  winogrande,
  ...MMLU_SUBJECTS.map(mmluTask),
  ...LOCAL_MC_FAMILIES,
];

/** The OLMES generative tasks (`<name>::<regime>`, no rc/mc format). */
export const GENERATIVE_SPECS: readonly GenerativeSpec[] = [gsm8k, drop, naturalqs, triviaqa];

/** What a family may add to a plan: leaf tasks and suites (members first), deduplicated by alias. */
export interface PlanBuilder {
  overrides: ConfigOverrides;
  addTask(task: Task): string;
  addSuite(alias: string, how: SuiteAggregation, members: string[]): string;
}

/** A task family: the ids it owns and how they become tasks; `resolve` returns false for ids it does not own. */
export interface TaskResolver {
  /** its task names, for error messages */
  describe: string;
  resolve(id: TaskId, plan: PlanBuilder): boolean;
  listIds(): string[];
  /** A task only this family can rebuild from a saved config (a two-model mode's second stage, by task_name). */
  restore?(saved: TaskConfig): Task | undefined;
}

/** Regime overrides applied over a task's OLMES defaults. */
export const REGIMES: Record<string, (c: TaskConfig) => TaskConfig> = {
  olmes: (c) => c,
  /** ::olmes:full — every doc, no 1,000 sample */
  'olmes:full': (c) => ({ ...c, limit: null }),
};

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
    throw new UnknownTaskError(
      `task id ${JSON.stringify(id)}: unknown regime ${JSON.stringify(regime)}; known regimes: ${Object.keys(REGIMES).join(', ')}`,
    );
  }
}

/** Multiple-choice families as one task family: `name[:mc|:rc]::regime`, the max(MC, RC) suite, and (`suites`) mmlu and core_9mcqa. */
export class MultipleChoiceTasks implements TaskResolver {
  readonly families: ReadonlyMap<string, McTaskFamily>;
  readonly describe: string;
  constructor(
    families: readonly McTaskFamily[],
    private readonly suites = false,
  ) {
    this.families = new Map(families.map((f) => [f.name, f]));
    const names = families.filter((f) => !f.name.startsWith('mmlu_')).map((f) => f.name);
    this.describe = [
      ...(suites ? ['core_9mcqa', 'mmlu'] : []),
      ...names,
      ...(suites ? ['mmlu_<subject> (57 subjects, e.g. mmlu_anatomy)'] : []),
    ].join(', ');
  }

  task(name: string, format: Format, regime: string, overrides: ConfigOverrides = {}): MultipleChoiceTask | undefined {
    const f = this.families.get(name);
    if (!f) return undefined;
    checkRegime(regime, `${name}:${format}::${regime}`);
    return new MultipleChoiceTask(f, mcTaskConfig(f, format, regime, REGIMES[regime], overrides));
  }

  resolve(id: TaskId, plan: PlanBuilder): boolean {
    const { name, format, regime } = id;
    const isSuite = this.suites && (name === 'mmlu' || name === 'core_9mcqa');
    if (!isSuite && !this.families.has(name)) return false;
    checkRegime(regime, formatTaskId(id));
    const leaf = (n: string, f: Format): string => plan.addTask(this.task(n, f, regime, plan.overrides)!);
    const maxMcRc = (alias: string, mk: (f: Format) => string) =>
      plan.addSuite(`${alias}::${regime}`, 'mc_or_rc', [mk('mc'), mk('rc')]);
    const mmlu = (f: Format) =>
      plan.addSuite(
        `mmlu:${f}::${regime}`,
        'macro',
        MMLU_SUBJECTS.map((s) => leaf(`mmlu_${s}`, f)),
      );
    if (name === 'mmlu' && isSuite) {
      if (format) mmlu(format);
      else maxMcRc('mmlu', mmlu);
    } else if (name === 'core_9mcqa' && isSuite) {
      const members = CORE_9MCQA.map((n) => (format ? leaf(n, format) : maxMcRc(n, (f) => leaf(n, f))));
      plan.addSuite(formatTaskId({ name, format, regime }), 'macro', members);
    } else if (format) leaf(name, format);
    else maxMcRc(name, (f) => leaf(name, f));
    return true;
  }

  listIds(regime = 'olmes'): string[] {
    const out = this.suites
      ? [`core_9mcqa::${regime}`, `mmlu::${regime}`, `mmlu:mc::${regime}`, `mmlu:rc::${regime}`]
      : [];
    for (const name of this.families.keys())
      out.push(`${name}::${regime}`, ...FORMATS.map((fmt) => `${name}:${fmt}::${regime}`));
    return out;
  }
}

/** The OLMES generative specs as one task family (`name::regime`). */
export function generativeTasks(specs: readonly GenerativeSpec[]): TaskResolver {
  const byName = new Map(specs.map((s) => [s.alias, s]));
  return {
    describe: specs.map((s) => s.alias).join(', '),
    resolve(id, plan) {
      const spec = byName.get(id.name);
      if (!spec) return false;
      const text = formatTaskId(id);
      checkRegime(id.regime, text);
      if (id.format)
        throw new UnknownTaskError(
          `task id ${JSON.stringify(text)}: ${id.name} is a generative task and has no :${id.format} format; use ${id.name}::${id.regime}`,
        );
      plan.addTask(makeGenerativeTask(spec, id.regime, REGIMES[id.regime], plan.overrides));
      return true;
    },
    listIds: () => specs.map((s) => `${s.alias}::olmes`),
  };
}

/** The built-in task families, in --list-tasks order. */
export const BUILTIN_FAMILIES: readonly TaskResolver[] = [
  new MultipleChoiceTasks(MC_FAMILIES, true),
  generativeTasks(GENERATIVE_SPECS),
  simpletomResolver,
  worldValuesBenchResolver,
  proc2pddlResolver,
  digitalSocratesResolver,
  deltaRotResolver,
];

export class TaskRegistry {
  constructor(readonly families: readonly TaskResolver[]) {}

  /** This registry with more families, tried after these (a name two families own resolves to the first). */
  withFamilies(extra: readonly TaskResolver[]): TaskRegistry {
    return extra.length === 0 ? this : new TaskRegistry([...this.families, ...extra]);
  }

  /** The multiple-choice family of this name, if any family of this registry holds one. */
  mcFamily(name: string): McTaskFamily | undefined {
    for (const f of this.families)
      if (f instanceof MultipleChoiceTasks && f.families.has(name)) return f.families.get(name);
    return undefined;
  }

  /** Every task id this registry knows, for `--list-tasks`. */
  listIds(): string[] {
    return this.families.flatMap((f) => f.listIds());
  }

  /** Resolve task ids into leaf tasks (deduplicated, in first-mention order) and suites (members before suites). */
  plan(ids: readonly string[], overrides: ConfigOverrides = {}): EvalPlan {
    const tasks = new Map<string, Task>();
    const suites = new Map<string, SuiteSpec>();
    const builder: PlanBuilder = {
      overrides,
      addTask: (t) => {
        if (!tasks.has(t.config.alias)) tasks.set(t.config.alias, t);
        return t.config.alias;
      },
      addSuite: (alias, how, members) => {
        if (!suites.has(alias)) suites.set(alias, { alias, how, members });
        return alias;
      },
    };
    for (const id of ids) {
      const parsed = parseTaskId(id);
      if (this.families.some((f) => f.resolve(parsed, builder))) continue;
      checkRegime(parsed.regime, id);
      throw new UnknownTaskError(
        `task id ${JSON.stringify(id)}: unknown task ${JSON.stringify(parsed.name)}; known tasks: ${this.knownNames()}`,
      );
    }
    return { tasks: [...tasks.values()], suites: [...suites.values()] };
  }

  knownNames(): string {
    return this.families.map((f) => f.describe).join(', ');
  }

  /**
   * The task a run's saved task_config describes, carrying exactly that config (rescore): a family's own restore
   * (the two-model modes' second stages), else its alias resolved as a task id; a log-likelihood task no family
   * knows by name (e.g. a local_mc:NAME registered at run time) is scored as a plain MC task, which needs no family.
   */
  fromConfig(saved: TaskConfig): Task {
    for (const f of this.families) {
      const t = f.restore?.(saved);
      if (t) return t;
    }
    let why: string;
    try {
      const planned = this.plan([saved.alias]).tasks;
      const t = planned.find((x) => x.config.alias === saved.alias);
      if (t) return t.withConfig(saved);
      why = `the id resolves to ${planned.map((x) => x.config.alias).join(', ')}`;
    } catch (e) {
      why = (e as Error).message;
    }
    if (saved.format === 'rc' || saved.format === 'mc') return MultipleChoiceTask.fromSavedConfig(saved);
    throw new UnknownTaskError(
      `task ${JSON.stringify(saved.alias)} (task_name ${saved.task_name}) cannot be rebuilt from its saved config: ${why}`,
    );
  }
}

/** The registry of the built-in tasks. */
export const TASKS = new TaskRegistry(BUILTIN_FAMILIES);

/** One MC leaf task of a built-in family (tests, library users). */
export function makeTask(
  name: string,
  format: Format,
  regime: string,
  overrides: ConfigOverrides = {},
): MultipleChoiceTask {
  const t = (BUILTIN_FAMILIES[0] as MultipleChoiceTasks).task(name, format, regime, overrides);
  if (!t) throw new UnknownTaskError(`unknown task ${JSON.stringify(name)}; known tasks: ${TASKS.knownNames()}`);
  return t;
}

/** Every task id the built-in registry knows. */
export function listTaskIds(): string[] {
  return TASKS.listIds();
}

/** Resolve task ids with the built-in registry, or `registry`. */
export function planTasks(
  ids: readonly string[],
  overrides: ConfigOverrides = {},
  registry: TaskRegistry = TASKS,
): EvalPlan {
  return registry.plan(ids, overrides);
}
