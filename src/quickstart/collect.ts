// Gathers the quickstart report's data from the stage outputs of a run folder: the per-stage evaluations
// (evals/<stage>.json), the training curves (each run's metrics.jsonl), the corpus manifest (data/synth.json), the
// model's config and the run state (quickstart.json). Nothing here is computed from anything but those files.
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { readJsonLines } from '../io/jsonl.ts';
import { packageInfo } from '../io/package-info.ts';
import type { SynthManifest } from '../data/synth/index.ts';
import { loadModel } from '../models/index.ts';
import { numThreads } from '../tensor/index.ts';
import type { MeasureKey, StageEval } from './evaluate.ts';
import { pairedComparison } from '../stats/paired.ts';
import type { CurvePoint, EvalColumn, PairedRow, ReportChart, ReportData } from './report-data.ts';
import type { QuickstartSize } from './sizes.ts';
import type { QuickstartState } from './state.ts';

const EVAL_STAGES = ['base', 'anneal', 'soup', 'sft', 'dpo', 'rlvr'];

export const COLUMNS: (EvalColumn & { key: MeasureKey })[] = [
  {
    key: 'val_loss',
    label: 'val loss',
    format: 'nats',
    lowerIsBetter: true,
    description: 'Cross-entropy (nats/token) on the held-out validation split of the pretraining mix.',
  },
  {
    key: 'world_rc',
    label: 'world RC',
    format: 'percent',
    description:
      'OLMES synth_world:rc — questions about held-out facts (a wording never seen in training), answers ranked by log-likelihood, 5-shot.',
  },
  {
    key: 'world_mc',
    label: 'world MC',
    format: 'percent',
    description: 'OLMES synth_world:mc — the same questions with lettered options A–D, 5-shot.',
  },
  {
    key: 'arith_em',
    label: 'arith EM',
    format: 'percent',
    description: 'Exact match of the greedy chat reply (worked solution) on held-out word problems.',
  },
  {
    key: 'pref_acc',
    label: 'pref acc',
    format: 'percent',
    description:
      "DPO reward accuracy on held-out preference pairs: the implicit reward log π − log π_SFT (per-token means, as Tülu 3's dpo_norm) ranks the chosen reply first; the SFT model itself is 50% by definition.",
  },
  {
    key: 'verified',
    label: 'verified',
    format: 'percent',
    description:
      'Greedy verified rate on held-out RLVR prompts (GSM8K verifier: the last number of the reply equals the answer).',
  },
];

/** A run's metrics.jsonl, or nothing when the stage did not write one. */
function readJsonl(file: string): Record<string, unknown>[] {
  return existsSync(file) ? readJsonLines<Record<string, unknown>>(file) : [];
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Pretraining curves: train loss per step of each stage and the validation loss, against tokens seen. */
function pretrainChart(runDir: string): ReportChart {
  const rows = readJsonl(join(runDir, 'pretrain', 'metrics.jsonl'));
  const tokensAt = new Map<number, number>();
  const series: Record<string, CurvePoint[]> = {
    'stage 1 train loss': [],
    'anneal train loss': [],
    'validation loss': [],
  };
  for (const r of rows) {
    const step = num(r.step);
    if (step === null) continue;
    const loss = num(r.loss);
    const tokens = num(r.tokens);
    if (loss !== null && tokens !== null && r.skipped !== true) {
      tokensAt.set(step, tokens);
      series[r.stage === 'anneal' ? 'anneal train loss' : 'stage 1 train loss'].push({ step, tokens, value: loss });
    }
    const val = num(r.val_loss);
    if (val !== null) series['validation loss'].push({ step, tokens: tokensAt.get(step) ?? 0, value: val });
  }
  // Further anneal ingredients start from the end of stage 1: their tokens count from there.
  const stage1 = series['stage 1 train loss'];
  const offset = stage1.length > 0 ? stage1[stage1.length - 1].tokens : 0;
  for (let k = 2; existsSync(join(runDir, `anneal-${k}`, 'metrics.jsonl')); k++) {
    series[`anneal ${k} train loss`] = readJsonl(join(runDir, `anneal-${k}`, 'metrics.jsonl'))
      .filter((r) => num(r.loss) !== null && num(r.tokens) !== null && r.skipped !== true)
      .map((r) => ({ step: r.step as number, tokens: offset + (r.tokens as number), value: r.loss as number }));
  }
  return {
    id: 'pretrain',
    title: 'Pretraining and anneal',
    xLabel: 'tokens seen',
    yLabel: 'loss (nats/token)',
    series: Object.entries(series).map(([name, points]) => ({ name, points })),
  };
}

/** Post-training curves against optimizer steps (x = step). */
function posttrainChart(runDir: string): ReportChart {
  const curve = (stage: string, key: string) =>
    readJsonl(join(runDir, stage, 'metrics.jsonl'))
      .filter((r) => num(r[key]) !== null && num(r.step) !== null && r.epoch !== undefined)
      .map((r) => ({ step: r.step as number, tokens: r.step as number, value: r[key] as number }));
  const rlvr = readJsonl(join(runDir, 'rlvr', 'metrics.jsonl'))
    .filter((r) => num(r.mean_reward) !== null && num(r.step) !== null)
    .map((r) => ({ step: r.step as number, tokens: r.step as number, value: r.verified_rate as number }));
  return {
    id: 'posttrain',
    title: 'Post-training',
    xLabel: 'optimizer step',
    yLabel: 'loss / rate',
    series: [
      { name: 'SFT loss per assistant token', points: curve('sft', 'loss') },
      { name: 'DPO loss', points: curve('dpo', 'loss') },
      { name: 'RLVR verified rate of the rollouts', points: rlvr },
    ],
  };
}

/**
 * Each post-training stage against the stage before it on the same held-out items, where both wrote per-item
 * outcomes (evals/<stage>.json "outcomes"): the verified rate moves by a few points, which only a paired test can
 * tell apart from noise at a few hundred items.
 */
function pairedRows(evals: Map<string, StageEval>): PairedRow[] {
  const rows: PairedRow[] = [];
  const order = EVAL_STAGES.filter((s) => evals.has(s));
  for (let i = 1; i < order.length; i++) {
    const [from, to] = [order[i - 1], order[i]];
    for (const measure of ['verified'] as const) {
      const a = evals.get(from)!.outcomes?.[measure];
      const b = evals.get(to)!.outcomes?.[measure];
      if (!a || !b) continue;
      if (a.length !== b.length)
        throw new Error(
          `evals/${from}.json and evals/${to}.json scored ${a.length} and ${b.length} ${measure} items; rerun the evaluations on the same split`,
        );
      const cmp = pairedComparison(
        [...a].map((c) => c === '1'),
        [...b].map((c) => c === '1'),
      );
      rows.push({ measure, label: COLUMNS.find((c) => c.key === measure)!.label, from, to, ...cmp });
    }
  }
  return rows;
}

function modelDescription(runDir: string): string {
  const dir = join(runDir, 'pretrain', 'stages', 'pretrain');
  if (!existsSync(join(dir, 'config.json'))) return 'OLMo 2';
  const model = loadModel(dir, { trainable: false });
  const c = model.config;
  return `OLMo 2, ${(model.numParameters() / 1e6).toFixed(2)}M parameters (d ${c.hiddenSize}, ${c.numLayers} layers, ${c.numHeads} heads, vocab ${c.vocabSize.toLocaleString('en-US')})`;
}

export function collectReport(
  runDir: string,
  state: QuickstartState,
  size: QuickstartSize,
  commands: Record<string, string>,
): ReportData {
  const evals = new Map<string, StageEval>();
  for (const s of EVAL_STAGES) {
    const f = join(runDir, 'evals', `${s}.json`);
    if (existsSync(f)) evals.set(s, JSON.parse(readFileSync(f, 'utf8')) as StageEval);
  }
  const manifest = JSON.parse(readFileSync(join(runDir, 'data', 'synth.json'), 'utf8')) as SynthManifest;
  const info = packageInfo();
  const stageNames = [
    'data',
    'pretrain',
    ...Object.keys(state.stages).filter((k) => /^anneal-\d+$/.test(k)),
    'soup',
    'sft',
    'dpo',
    'rlvr',
  ];
  const evalSeconds = (name: string) => state.stages[`eval-${name}`]?.seconds ?? 0;
  const stages = stageNames.map((name) => ({
    name,
    summary: state.stages[name]?.summary ?? '',
    seconds: state.stages[name]?.seconds ?? 0,
    output: name,
    command: commands[name] ?? `olmo train --config configs/${name}.yaml`,
  }));
  stages.push({
    name: 'evaluations',
    summary:
      EVAL_STAGES.map((s) => state.stages[`eval-${s}`]?.summary).filter(Boolean).length +
      ' stage models evaluated (evals/<stage>.json)',
    seconds: EVAL_STAGES.reduce((a, s) => a + evalSeconds(s), 0),
    output: 'evals',
    command: commands.eval,
  });
  const totalSeconds = Object.values(state.stages).reduce((a, s) => a + s.seconds, 0);
  const notes = [
    `Chance is 25% on world RC and MC (4 options). The corpus's unigram entropy is ${manifest.unigramEntropy?.nats.toFixed(3) ?? '—'} nats/token and a bigram model's validation loss ${manifest.baselines?.bigramValidationNats.toFixed(3) ?? '—'}.`,
    `Held-out sets: ${manifest.world.testFacts} test facts (never asked in training), fresh word problems, and preference pairs about the test facts.`,
    'base = end of pretraining stage 1, anneal = end of the anneal, soup = the average of that anneal and of further anneals from the end of stage 1 in other data orders (as OLMo 2 soups its anneal ingredients); chat measures start at soup (the model SFT starts from).',
  ];
  return {
    title: 'OLMo 2 quickstart report',
    generator: `olmo-ts ${info.version}${info.commit ? ` (git ${info.commit.slice(0, 7)})` : ''}`,
    date: state.created,
    seed: state.seed,
    size: size.name,
    machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${numThreads()} threads`,
    model: modelDescription(runDir),
    totalSeconds,
    stages,
    charts: [pretrainChart(runDir), posttrainChart(runDir)],
    columns: COLUMNS,
    rows: EVAL_STAGES.filter((s) => evals.has(s)).map((s) => ({
      stage: s,
      values: Object.fromEntries(COLUMNS.map((c) => [c.key, evals.get(s)!.values[c.key] ?? null])),
    })),
    paired: pairedRows(evals),
    notes,
  };
}
