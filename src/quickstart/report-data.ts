// What the quickstart report shows, gathered from the stage outputs of a run folder (collect.ts) and rendered as
// report.md and a self-contained report.html (render-markdown.ts, render-html.ts). Every number here is read from
// a file a stage wrote; nothing is computed by the renderers.
import type { PairedComparison } from '../stats/paired.ts';

/** One point of a loss curve. */
export interface CurvePoint {
  step: number;
  /** Tokens seen by the end of this step (counted from the start of pretraining). */
  tokens: number;
  value: number;
}

/** A named series of a chart, e.g. "pretrain train loss" or "validation loss". */
export interface CurveSeries {
  name: string;
  points: CurvePoint[];
}

export interface ReportChart {
  /** Stable id (used for the canvas element's id in the HTML). */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: CurveSeries[];
}

export interface EvalColumn {
  key: string;
  /** Short header, e.g. "world RC". */
  label: string;
  /** One sentence: what is measured and on which held-out data. */
  description: string;
  /** 'percent': a fraction in [0, 1] shown as 12.3%; 'nats': a loss shown with 3 decimals. */
  format: 'percent' | 'nats';
  /** Whether lower is better (losses). */
  lowerIsBetter?: boolean;
}

export interface EvalRow {
  /** Stage name: base, anneal, soup, sft, dpo, rlvr. */
  stage: string;
  /** Value per column key; null when the stage was not measured on it. */
  values: Record<string, number | null>;
}

/** Two stages compared item by item on the same held-out items of one measure (src/stats/paired.ts). */
export interface PairedRow extends PairedComparison {
  /** The column key and label of the measure. */
  measure: string;
  label: string;
  from: string;
  to: string;
}

export interface StageSummary {
  name: string;
  /** One-line summary written when the stage ended (e.g. "val loss 1.13 → 1.05 in 312 steps"). */
  summary: string;
  /** Wall-clock seconds the stage took (summed over resumed runs). */
  seconds: number;
  /** The stage's output folder, relative to the run folder. */
  output: string;
  /** The command that reproduces this stage by hand, run from the run folder. */
  command: string;
}

export interface ReportData {
  title: string;
  /** e.g. "olmo-ts 0.1.0 (git 09c53c4)". */
  generator: string;
  /** ISO date the report was written (from the run's state file, so a resumed run writes the same report). */
  date: string;
  seed: number;
  size: string;
  /** e.g. "AMD EPYC 7B13, 2 threads". */
  machine: string;
  /** Model description, e.g. "OLMo 2, 3.6M parameters (d 256, 4 layers, 4 heads, vocab 1,280)". */
  model: string;
  totalSeconds: number;
  stages: StageSummary[];
  charts: ReportChart[];
  columns: EvalColumn[];
  rows: EvalRow[];
  /** Consecutive stages compared on the same held-out items (the post-training stages' verified rate). */
  paired: PairedRow[];
  /** Extra remarks shown under the table (e.g. what chance level is). */
  notes: string[];
}
