// WorldValuesBench task ids: worldvaluesbench::paper (also the default `worldvaluesbench`, regime olmes),
// ::paper-nodemo, ::logprob, ::logprob-nodemo. See task.ts for the protocols and metrics.
import type { TaskResolver } from '../../registry.ts';
import { OLMES_SUBSAMPLE_SEED } from '../../selection.ts';
import type { TaskConfig } from '../../task.ts';
import { WVB_REPO } from './data.ts';
import { W1_THRESHOLD } from './metric.ts';
import { WorldValuesBenchTask, WVB_PROTOCOLS, type WvbProtocol } from './task.ts';

export * from './data.ts';
export * from './metric.ts';
export * from './prompt.ts';
export * from './task.ts';

export function wvbConfig(regime: string, protocol: WvbProtocol): TaskConfig & { protocol: WvbProtocol } {
  return {
    task_name: 'worldvaluesbench',
    task_core: 'worldvaluesbench',
    alias: `worldvaluesbench::${regime}`,
    format: 'mc',
    regime,
    dataset_path: WVB_REPO,
    dataset_name: null,
    split: 'probe',
    fewshot_split: 'probe',
    num_shots: 0,
    fewshot_source: null,
    fewshot_seed: 1234,
    primary_metric: `within_${W1_THRESHOLD}_le`,
    limit: null,
    random_subsample_seed: OLMES_SUBSAMPLE_SEED,
    native_id_field: 'Question',
    uncond: false,
    version: 0,
    protocol,
  };
}

export const worldValuesBenchResolver: TaskResolver = {
  describe: 'worldvaluesbench',
  resolve(id, plan) {
    if (id.name !== 'worldvaluesbench') return false;
    const protocol = (id.regime === 'olmes' ? 'paper' : id.regime) as WvbProtocol;
    if (id.format || !WVB_PROTOCOLS.includes(protocol)) {
      throw new Error(
        `task id ${JSON.stringify(`${id.name}${id.format ? ':' + id.format : ''}::${id.regime}`)}: WorldValuesBench has no formats; its regimes are olmes (= paper), ${WVB_PROTOCOLS.join(', ')}`,
      );
    }
    if (plan.overrides.num_shots !== undefined && plan.overrides.num_shots !== 0)
      throw new Error('worldvaluesbench is 0-shot; num_shots must be 0');
    let cfg = wvbConfig(id.regime, protocol);
    if (plan.overrides.limit !== undefined) cfg = { ...cfg, limit: plan.overrides.limit };
    plan.addTask(new WorldValuesBenchTask(protocol, cfg));
    return true;
  },
  listIds: () => WVB_PROTOCOLS.map((p) => `worldvaluesbench::${p}`),
};
