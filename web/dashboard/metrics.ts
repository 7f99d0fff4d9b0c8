// Which charts a run's metrics.jsonl rows make: the known metrics of each stage (pretraining, SFT, DPO, RLVR,
// distillation, MoE) grouped into named charts, then every other numeric field present in a chart of its own, so
// nothing a trainer writes goes unseen. Pure functions over rows, shared by the run page and the live updates.

/** One parsed metrics.jsonl line. */
export type MetricRow = Record<string, unknown>;

export interface ChartGroup {
  id: string;
  title: string;
  /** The fields drawn, in legend order. */
  keys: string[];
  /** Log-scale y axis (learning rates span decades during warmup). */
  log?: boolean;
  /** Shown under "more metrics", closed at first. */
  minor?: boolean;
}

/** The known charts, in page order; a group is drawn when any of its keys occurs in the rows. */
const KNOWN: ChartGroup[] = [
  { id: 'loss', title: 'Loss', keys: ['loss', 'val_loss', 'eval_loss'] },
  { id: 'z_loss', title: 'z-loss', keys: ['z_loss'] },
  { id: 'lr', title: 'Learning rate', keys: ['lr'] },
  { id: 'grad_norm', title: 'Gradient norm', keys: ['grad_norm'] },
  { id: 'throughput', title: 'Throughput (per second)', keys: ['tokens_per_s', 'pairs_per_s', 'sequences_per_s'] },
  { id: 'skipped', title: 'Skipped steps', keys: ['skipped_steps'] },
  { id: 'expert_load', title: 'MoE expert load (share of routed tokens)', keys: [] },
  { id: 'dpo_rewards', title: 'DPO rewards', keys: ['chosen_reward', 'rejected_reward', 'reward_margin'] },
  { id: 'dpo_accuracy', title: 'DPO reward accuracy', keys: ['reward_accuracy'] },
  { id: 'rlvr_reward', title: 'RLVR reward', keys: ['mean_reward', 'eval_mean_reward'] },
  { id: 'rlvr_kl', title: 'RLVR KL', keys: ['kl', 'kl_token'] },
  { id: 'rlvr_verified', title: 'Verified rate', keys: ['verified_rate', 'eval_verified_rate'] },
];

/** Fields that are axes or bookkeeping, never charted on their own. */
const NOT_METRICS = new Set(['step', 'epoch', 'tokens', 'stage', 'skipped', 'expert_load', 'time', 'timestamp']);

export const EXPERT_LOAD = 'expert_load';

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The charts the rows call for: known groups with data, then one chart per other numeric field. */
export function chartGroups(rows: readonly MetricRow[]): ChartGroup[] {
  const present = new Set<string>();
  for (const row of rows) for (const [k, v] of Object.entries(row)) if (isNumber(v)) present.add(k);
  const hasExpertLoad = rows.some((r) => Array.isArray(r[EXPERT_LOAD]));
  const known = new Set(KNOWN.flatMap((g) => g.keys));
  const groups: ChartGroup[] = [];
  for (const g of KNOWN) {
    if (g.id === 'expert_load' ? hasExpertLoad : g.keys.some((k) => present.has(k)))
      groups.push({ ...g, keys: g.keys.filter((k) => present.has(k)) });
  }
  const others = [...present].filter((k) => !known.has(k) && !NOT_METRICS.has(k)).sort();
  for (const k of others) groups.push({ id: `m-${k}`, title: k, keys: [k], minor: true });
  return groups;
}

export type XAxis = 'step' | 'tokens';

/**
 * The x value of a row. Against tokens, a row without a token count (a validation row) takes the count of the
 * last training row at or before its step, from `tokensAtStep`.
 */
export function xOf(row: MetricRow, axis: XAxis, tokensAtStep: Map<number, number>): number | null {
  const step = isNumber(row.step) ? row.step : null;
  if (axis === 'step') return step;
  if (isNumber(row.tokens)) return row.tokens;
  return step === null ? null : (tokensAtStep.get(step) ?? null);
}

/** Records step → tokens for the rows that carry both (grows as live rows arrive). */
export function noteTokens(rows: readonly MetricRow[], into: Map<number, number>): void {
  for (const r of rows) if (isNumber(r.step) && isNumber(r.tokens)) into.set(r.step, r.tokens);
}

export interface Point {
  x: number;
  y: number;
}

/** The points of one field: rows that carry a finite value for it and an x. */
export function seriesPoints(
  rows: readonly MetricRow[],
  key: string,
  axis: XAxis,
  tokensAtStep: Map<number, number>,
): Point[] {
  const out: Point[] = [];
  for (const r of rows) {
    const y = r[key];
    const x = xOf(r, axis, tokensAtStep);
    if (isNumber(y) && x !== null) out.push({ x, y });
  }
  return out;
}

/**
 * MoE expert load per expert: the routed-token counts summed over layers, as a share of all routed tokens at that
 * step (1/E each when routing is perfectly balanced). One series per expert.
 */
export function expertLoadSeries(rows: readonly MetricRow[], axis: XAxis, tokensAtStep: Map<number, number>) {
  const series: Point[][] = [];
  for (const r of rows) {
    const load = r[EXPERT_LOAD];
    const x = xOf(r, axis, tokensAtStep);
    if (!Array.isArray(load) || x === null) continue;
    const perExpert: number[] = [];
    for (const layer of load) {
      if (!Array.isArray(layer)) continue;
      layer.forEach((n, e) => (perExpert[e] = (perExpert[e] ?? 0) + (isNumber(n) ? n : 0)));
    }
    const total = perExpert.reduce((a, b) => a + b, 0);
    if (total <= 0) continue;
    perExpert.forEach((n, e) => (series[e] ??= []).push({ x, y: n / total }));
  }
  return series.map((points, e) => ({ key: `expert ${e}`, points }));
}

/** Where the `stage` field changes between consecutive rows: [step of the first row of the new stage, its name]. */
export function stageChanges(rows: readonly MetricRow[]): { step: number; stage: string }[] {
  const out: { step: number; stage: string }[] = [];
  let last: string | undefined;
  for (const r of rows) {
    if (typeof r.stage !== 'string' || !isNumber(r.step)) continue;
    if (last !== undefined && r.stage !== last) out.push({ step: r.step, stage: r.stage });
    last = r.stage;
  }
  return out;
}
