// SimpleToM task ids (see task.ts for the protocols):
//   simpletom_<config>:mc::olmes, :rc::olmes, ::olmes (max of the two), ::olmes:full
//   simpletom_<config>::original | paper | paper-cot | paper-msr | paper-msr-cot | paper-msr-gold | paper-msr-gold-cot
//   simpletom[:mc|:rc]::<regime>   the macro average over the question types (the reminder regimes: behavior and
//                                  judgment only); `simpletom::original` is OLMES's suite of the same name
// <config> ∈ mental-state-qa, behavior-qa, judgment-qa.
import { RowError } from '../../data/fields.ts';
import { makeClozePrompt } from '../../prompts.ts';
import type { PlanBuilder, TaskResolver } from '../../registry.ts';
import { OLMES_SUBSAMPLE_SEED } from '../../selection.ts';
import type { Format, TaskConfig } from '../../task.ts';
import type { McTaskFamily } from '../../kinds/multiple-choice.ts';
import type { TaskId } from '../../task-id.ts';
import { mcFormats } from '../common.ts';
import { SIMPLETOM_PATH, SIMPLETOM_QA_CONFIGS, SIMPLETOM_SPLIT, type SimpleToMQaConfig } from './data.ts';
import {
  generationKwargs,
  protocolSpec,
  SIMPLETOM_PROTOCOLS,
  SimpleToMGenTask,
  SimpleToMMcTask,
  type SimpleToMProtocol,
} from './task.ts';

export * from './data.ts';
export * from './parse.ts';
export * from './prompts.ts';
export * from './task.ts';

/** The OLMES MC (letters) and RC (answer texts) log-likelihood formats: story, question, options, "Answer:". */
export function simpletomFamily(config: SimpleToMQaConfig): McTaskFamily {
  return {
    name: `simpletom_${config}`,
    datasetPath: SIMPLETOM_PATH,
    datasetName: config,
    evalSplit: SIMPLETOM_SPLIT,
    fewshotSplit: SIMPLETOM_SPLIT,
    fewshotSource: null,
    numShots: 0,
    limit: null,
    nativeIdField: 'id',
    formats: mcFormats({
      extract(row, w) {
        const choices = (row.choices as { text?: unknown } | undefined)?.text;
        const labels = (row.choices as { label?: unknown } | undefined)?.label;
        if (!Array.isArray(choices) || choices.some((c) => typeof c !== 'string'))
          throw new RowError(`${w}: field "choices.text" must be a list of strings`);
        if (typeof row.story !== 'string' || typeof row.question !== 'string')
          throw new RowError(`${w}: fields "story" and "question" must be strings`);
        const gold = Array.isArray(labels) ? labels.indexOf(row.answerKey) : -1;
        if (gold < 0)
          throw new RowError(
            `${w}: field "answerKey" must be one of the choice labels, got ${JSON.stringify(row.answerKey)}`,
          );
        return { question: row.question, choices: choices as string[], gold };
      },
      nativeIdField: 'id',
      rcQuery: (question, row) => makeClozePrompt(question, `Story: ${String(row.story)}\nQuestion: `),
      mcOptions: (row) => ({ questionPrefix: `Story: ${String(row.story)}\nQuestion: ` }),
      rcPrimary: 'acc_per_char',
      rcUncond: false,
    }),
  };
}

const MC_REGIMES = ['olmes', 'olmes:full'];

function baseConfig(
  config: SimpleToMQaConfig,
  alias: string,
  format: Format,
  regime: string,
  primary: string,
): TaskConfig {
  return {
    task_name: `simpletom_${config}`,
    task_core: `simpletom_${config}`,
    alias,
    format,
    regime,
    dataset_path: SIMPLETOM_PATH,
    dataset_name: config,
    split: SIMPLETOM_SPLIT,
    fewshot_split: SIMPLETOM_SPLIT,
    num_shots: 0,
    fewshot_source: null,
    fewshot_seed: 1234,
    primary_metric: primary,
    limit: null,
    random_subsample_seed: OLMES_SUBSAMPLE_SEED,
    native_id_field: 'id',
    uncond: false,
    version: 0,
  };
}

function applyOverrides(c: TaskConfig, plan: PlanBuilder): TaskConfig {
  let cfg = c;
  if (plan.overrides.limit !== undefined) cfg = { ...cfg, limit: plan.overrides.limit };
  if (plan.overrides.num_shots !== undefined && plan.overrides.num_shots !== 0) {
    throw new Error(`${c.alias}: SimpleToM is a 0-shot test set (no train split); num_shots must be 0`);
  }
  return cfg;
}

function configsFor(regime: string): readonly SimpleToMQaConfig[] {
  return protocolSpec(regime as SimpleToMProtocol).reminder === 'none'
    ? SIMPLETOM_QA_CONFIGS
    : ['behavior-qa', 'judgment-qa'];
}

function mcLeaf(config: SimpleToMQaConfig, format: Format, regime: string, plan: PlanBuilder): string {
  const family = simpletomFamily(config);
  const alias = `simpletom_${config}:${format}::${regime}`;
  const def = family.formats[format];
  const cfg = applyOverrides(baseConfig(config, alias, format, regime, def.primaryMetric), plan);
  return plan.addTask(new SimpleToMMcTask(family, cfg, config));
}

function genLeaf(config: SimpleToMQaConfig, regime: SimpleToMProtocol, plan: PlanBuilder): string {
  const spec = protocolSpec(regime);
  const alias = `simpletom_${config}::${regime}`;
  const c = baseConfig(config, alias, 'mc', regime, spec.olmes ? 'exact_match' : 'acc');
  const cfg = applyOverrides(
    { ...c, generation_kwargs: generationKwargs(spec), use_chat_format: true, protocol: regime } as TaskConfig,
    plan,
  );
  return plan.addTask(new SimpleToMGenTask(config, regime, cfg));
}

function unknown(id: TaskId): Error {
  return new Error(
    `task id ${JSON.stringify(`${id.name}${id.format ? ':' + id.format : ''}::${id.regime}`)}: SimpleToM regimes are ` +
      `${[...MC_REGIMES, ...SIMPLETOM_PROTOCOLS].join(', ')} (formats :mc/:rc only with ${MC_REGIMES.join(', ')})`,
  );
}

export const simpletomResolver: TaskResolver = {
  describe: 'simpletom, simpletom_{mental-state-qa,behavior-qa,judgment-qa}',
  resolve(id, plan) {
    const { name, format, regime } = id;
    const single = SIMPLETOM_QA_CONFIGS.find((c) => name === `simpletom_${c}`);
    if (name !== 'simpletom' && !single) return false;
    const isMc = MC_REGIMES.includes(regime);
    if (!isMc && (format || !(SIMPLETOM_PROTOCOLS as readonly string[]).includes(regime))) throw unknown(id);
    const leaf = (c: SimpleToMQaConfig): string => {
      if (!isMc) return genLeaf(c, regime as SimpleToMProtocol, plan);
      if (format) return mcLeaf(c, format, regime, plan);
      return plan.addSuite(`simpletom_${c}::${regime}`, 'mc_or_rc', [
        mcLeaf(c, 'mc', regime, plan),
        mcLeaf(c, 'rc', regime, plan),
      ]);
    };
    if (single) {
      if (!isMc && protocolSpec(regime as SimpleToMProtocol).reminder !== 'none' && single === 'mental-state-qa') {
        throw new Error(
          `task id simpletom_mental-state-qa::${regime}: the mental-state reminder applies to behavior-qa and judgment-qa only`,
        );
      }
      leaf(single);
      return true;
    }
    const configs = isMc ? SIMPLETOM_QA_CONFIGS : configsFor(regime);
    plan.addSuite(`simpletom${format ? ':' + format : ''}::${regime}`, 'macro', configs.map(leaf));
    return true;
  },
  listIds() {
    const out: string[] = [];
    for (const r of MC_REGIMES.slice(0, 1)) {
      out.push(`simpletom::${r}`, `simpletom:mc::${r}`, `simpletom:rc::${r}`);
      for (const c of SIMPLETOM_QA_CONFIGS)
        out.push(`simpletom_${c}::${r}`, `simpletom_${c}:mc::${r}`, `simpletom_${c}:rc::${r}`);
    }
    for (const p of SIMPLETOM_PROTOCOLS) {
      out.push(`simpletom::${p}`);
      for (const c of configsFor(p)) out.push(`simpletom_${c}::${p}`);
    }
    return out;
  },
};
