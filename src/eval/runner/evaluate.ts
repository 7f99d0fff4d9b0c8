// One call for a whole evaluation, as `olmo eval` makes it: task ids (local_mc:NAME folders and the two-model critic
// modes included) → the plain tasks run into `outputDir`, each critic mode into `<outputDir>/<mode>/<stage>/`; or,
// with `dryRun`, the requests files only. Library users call this with their own backends and task families.
//
//   const r = await evaluate({ tasks: ['core_9mcqa::olmes', 'gsm8k::olmes'], source, outputDir, backend });
//   console.log(r.parts.map((p) => p.result.table).join('\n'));
import { join } from 'node:path';
import { splitCriticModes, type CriticMode } from '../critic-modes.ts';
import type { DatasetSource } from '../data/source.ts';
import {
  MultipleChoiceTasks,
  TASKS,
  type ConfigOverrides,
  type EvalPlan,
  type TaskRegistry,
  type TaskResolver,
} from '../registry.ts';
import { localMcIds } from '../tasks/local-mc.ts';
import type { Backend } from './backend.ts';
import { dryRun, runEval, type EvalProgress, type EvalRunResult } from './run.ts';

export interface EvaluateOptions {
  /** task ids: name[:mc|:rc][::regime], suites, local_mc:NAME[:mc|:rc][::regime], the critic modes' ids; or their plan */
  tasks: readonly string[] | EvaluatePlan;
  overrides?: ConfigOverrides;
  source: DatasetSource;
  outputDir: string;
  /** the evaluated model (not needed with dryRun) */
  backend?: Backend;
  /** the critic of the two-model modes (needed when `tasks` names one) */
  critic?: Backend;
  /** task families beyond the built-in ones, tried after them */
  families?: readonly TaskResolver[];
  /** requests per backend call (default 32); metrics do not depend on it */
  batchSize?: number;
  /** provenance written as compute_config */
  computeConfig?: Record<string, unknown>;
  /** write the requests files only, with no model */
  dryRun?: boolean;
  onProgress?: (p: EvalProgress) => void;
  /** each part as it finishes: the plain tasks, then each stage of each critic mode */
  onPart?: (part: EvaluatePart) => void;
}

/** One finished run folder: the plain tasks (`mode` absent) or one stage of a critic mode. */
export interface EvaluatePart {
  mode?: string;
  stage?: string;
  dir: string;
  result: EvalRunResult;
}

export interface EvaluateResult {
  parts: EvaluatePart[];
  /** with dryRun: the requests files written */
  dry?: { files: string[]; numRequests: number };
}

/** What a task list asks for: the plan of its plain tasks and the critic modes, with the registry that planned it. */
export interface EvaluatePlan {
  plan: EvalPlan;
  modes: { mode: CriticMode; regime: string; id: string }[];
  registry: TaskRegistry;
}

/** Resolve a task list (local_mc:NAME folders become a family of their own; critic modes are set apart). */
export function planEvaluation(
  ids: readonly string[],
  overrides: ConfigOverrides = {},
  families: readonly TaskResolver[] = [],
): EvaluatePlan {
  let registry = TASKS.withFamilies(families);
  const local = localMcIds(ids, (name) => registry.mcFamily(name));
  if (local.families.length > 0) registry = registry.withFamilies([new MultipleChoiceTasks(local.families)]);
  const { modes, others } = splitCriticModes(local.ids);
  const plan = others.length > 0 ? registry.plan(others, overrides) : { tasks: [], suites: [] };
  return { plan, modes, registry };
}

export async function evaluate(opts: EvaluateOptions): Promise<EvaluateResult> {
  const overrides = opts.overrides ?? {};
  const { plan, modes } = 'plan' in opts.tasks ? opts.tasks : planEvaluation(opts.tasks, overrides, opts.families);
  const { source, outputDir, onProgress, batchSize, computeConfig } = opts;
  if (opts.dryRun) {
    if (modes.length > 0)
      throw new Error(
        `--dry-run cannot write ${modes.map((m) => m.mode.name).join(', ')}: the critic's requests depend on the evaluated model's outputs`,
      );
    const r = await dryRun({ tasks: plan, source, outputDir, onProgress });
    return { parts: [], dry: { files: r.files, numRequests: r.numRequests } };
  }
  const backend = opts.backend;
  if (!backend) throw new Error('evaluate: a backend is needed (or dryRun)');
  if (modes.length > 0 && !opts.critic) throw new Error(`${modes.map((m) => m.id).join(', ')} needs a critic model`);
  const parts: EvaluatePart[] = [];
  const done = (p: EvaluatePart) => {
    parts.push(p);
    opts.onPart?.(p);
  };
  if (plan.tasks.length > 0) {
    done({
      dir: outputDir,
      result: await runEval({ tasks: plan, source, outputDir, backend, batchSize, onProgress, computeConfig }),
    });
  }
  for (const { mode, regime } of modes) {
    const r = await mode.run({
      model: backend,
      critic: opts.critic!,
      regime,
      overrides,
      source,
      outputDir: join(outputDir, mode.name),
      batchSize,
      computeConfig,
      onProgress: onProgress && ((_stage, p) => onProgress(p)),
    });
    for (const st of r.stages) done({ mode: mode.name, stage: st.stage, dir: st.dir, result: st.result });
  }
  return { parts };
}
