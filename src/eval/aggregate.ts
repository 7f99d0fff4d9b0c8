// Suite aggregation as oe_eval/tasks/aggregate_tasks.py: macro (mean of primary scores), micro (weighted by
// num_instances) and mc_or_rc (the larger primary score; a tie keeps the first listed, which is MC).

export interface TaskScore {
  alias: string;
  primary_score: number;
  num_instances: number;
}

export type SuiteAggregation = 'macro' | 'micro' | 'mc_or_rc';

export interface SuiteScore {
  alias: string;
  primary_score: number;
  num_instances: number;
  num_tasks: number;
  /** for mc_or_rc: the alias of the member whose score was kept */
  used_mc_or_rc?: string;
}

export function aggregateScores(alias: string, how: SuiteAggregation, members: readonly TaskScore[]): SuiteScore {
  if (members.length === 0) throw new Error(`suite ${alias}: no member scores to aggregate`);
  const num_instances = members.reduce((a, m) => a + m.num_instances, 0);
  if (how === 'macro') {
    const s = members.reduce((a, m) => a + m.primary_score, 0) / members.length;
    return { alias, primary_score: s, num_instances, num_tasks: members.length };
  }
  if (how === 'micro') {
    if (num_instances === 0) throw new Error(`suite ${alias}: micro average over zero instances`);
    const s = members.reduce((a, m) => a + m.primary_score * m.num_instances, 0) / num_instances;
    return { alias, primary_score: s, num_instances, num_tasks: members.length };
  }
  let best = members[0];
  for (const m of members.slice(1)) if (m.primary_score > best.primary_score) best = m;
  return {
    alias,
    primary_score: best.primary_score,
    num_instances: best.num_instances,
    num_tasks: members.length,
    used_mc_or_rc: best.alias,
  };
}
