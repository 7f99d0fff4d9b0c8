// A realistic quickstart report for the renderer tests: the six stages, the seven evaluation columns with some
// stages not measured, two loss charts of about fifty points, and a stage summary with markup in it.
import type { CurvePoint, ReportData } from '../../src/quickstart/report-data.ts';

const TOKENS_PER_STEP = 16 * 256;

/** A decaying loss curve with a little deterministic wiggle, one point every `every` steps. */
function curve(from: number, to: number, every: number, start: number, floor: number, tokensBefore = 0): CurvePoint[] {
  const points: CurvePoint[] = [];
  for (let step = from; step <= to; step += every) {
    const t = step - from;
    const value = floor + (start - floor) * Math.exp(-t / ((to - from) / 4)) + 0.03 * Math.sin(step * 1.7);
    points.push({ step, tokens: tokensBefore + step * TOKENS_PER_STEP, value });
  }
  return points;
}

export const XSS_SUMMARY = 'reward 0.21 → 0.48 in 60 steps & <script>alert("x")</script> | kept';

export function reportFixture(): ReportData {
  const pretrainTokens = 400 * TOKENS_PER_STEP;
  return {
    title: 'OLMo 2 quickstart report',
    generator: 'olmo-ts 0.1.0 (git 09c53c4)',
    date: '2025-06-01T12:34:56.000Z',
    seed: 1234,
    size: 'tiny',
    machine: 'AMD EPYC 7B13, 2 threads',
    model: 'OLMo 2, 3.6M parameters (d 256, 4 layers, 4 heads, vocab 1,280)',
    totalSeconds: 1874.4,
    stages: [
      {
        name: 'base',
        summary: 'val loss 6.93 → 1.13 in 400 steps',
        seconds: 754.2,
        output: 'base',
        command: 'olmo train --config base/config.yaml --out base',
      },
      {
        name: 'anneal',
        summary: 'val loss 1.13 → 1.05 in 100 steps',
        seconds: 190.7,
        output: 'anneal',
        command: 'olmo train --config anneal/config.yaml --init base --out anneal',
      },
      {
        name: 'soup',
        summary: 'averaged 3 anneal checkpoints',
        seconds: 2.3,
        output: 'soup',
        command: 'olmo soup anneal/step-80 anneal/step-90 anneal/step-100 --out soup',
      },
      {
        name: 'sft',
        summary: 'loss 2.41 → 1.87 in 120 steps',
        seconds: 301.9,
        output: 'sft',
        command: "olmo sft --config sft/config.yaml --model soup --out sft --data 'sft/train.jsonl'",
      },
      {
        name: 'dpo',
        summary: 'preference accuracy 55% → 81% in 80 steps',
        seconds: 245.0,
        output: 'dpo',
        command: 'olmo dpo --config dpo/config.yaml --model sft --out dpo',
      },
      {
        name: 'rlvr',
        summary: XSS_SUMMARY,
        seconds: 380.3,
        output: 'rlvr',
        command: 'olmo rlvr --config rlvr/config.yaml --model dpo --out rlvr',
      },
    ],
    charts: [
      {
        id: 'pretrain',
        title: 'Pretraining and annealing loss',
        xLabel: 'tokens seen',
        yLabel: 'loss (nats)',
        series: [
          { name: 'train loss', points: curve(8, 400, 8, 6.9, 1.2) },
          { name: 'validation loss', points: curve(40, 400, 40, 6.5, 1.13) },
          {
            name: 'anneal train loss',
            points: curve(2, 100, 2, 1.2, 1.02, pretrainTokens).map((p) => ({ ...p, step: p.step + 400 })),
          },
        ],
      },
      {
        id: 'posttrain',
        title: 'Post-training loss',
        xLabel: 'tokens seen',
        yLabel: 'loss (nats)',
        series: [
          { name: 'sft loss', points: curve(3, 150, 3, 2.41, 1.87, pretrainTokens * 1.25) },
          { name: 'dpo loss', points: curve(2, 100, 2, 0.69, 0.42, pretrainTokens * 1.4) },
        ],
      },
    ],
    columns: [
      {
        key: 'val_loss',
        label: 'val loss',
        description: 'Cross-entropy per token on the held-out synthetic corpus.',
        format: 'nats',
        lowerIsBetter: true,
      },
      {
        key: 'world_rc',
        label: 'world RC',
        description: 'World-facts questions, ranked classification (answer log-likelihood), 200 held-out items.',
        format: 'percent',
      },
      {
        key: 'world_mc',
        label: 'world MC',
        description: 'World-facts questions, multiple choice with lettered options, 200 held-out items.',
        format: 'percent',
      },
      {
        key: 'arith_em',
        label: 'arith EM',
        description: 'Two-digit arithmetic, exact match of the generated answer, 100 held-out items.',
        format: 'percent',
      },
      {
        key: 'pref_acc',
        label: 'pref acc',
        description: 'Share of held-out preference pairs where the chosen reply scores higher.',
        format: 'percent',
      },
      {
        key: 'verified',
        label: 'verified',
        description: 'Share of held-out prompts whose answer passes the verifier.',
        format: 'percent',
      },
      {
        key: 'chat_rc',
        label: 'chat RC',
        description: 'Chat-formatted world-facts questions, ranked classification.',
        format: 'percent',
      },
    ],
    rows: [
      {
        stage: 'base',
        values: {
          val_loss: 1.1349,
          world_rc: 0.415,
          world_mc: 0.25,
          arith_em: 0.03,
          pref_acc: null,
          verified: null,
          chat_rc: null,
        },
      },
      {
        stage: 'anneal',
        values: {
          val_loss: 1.05234,
          world_rc: 0.4875,
          world_mc: 0.265,
          arith_em: 0.07,
          pref_acc: null,
          verified: null,
          chat_rc: null,
        },
      },
      {
        stage: 'soup',
        values: {
          val_loss: 1.04871,
          world_rc: 0.5,
          world_mc: 0.27,
          arith_em: 0.08,
          pref_acc: null,
          verified: null,
          chat_rc: null,
        },
      },
      {
        stage: 'sft',
        values: {
          val_loss: 1.2012,
          world_rc: 0.47,
          world_mc: 0.31,
          arith_em: 0.19,
          pref_acc: 0.551,
          verified: 0.12,
          chat_rc: 0.52,
        },
      },
      {
        stage: 'dpo',
        values: {
          val_loss: 1.2555,
          world_rc: 0.465,
          world_mc: 0.305,
          arith_em: 0.2,
          pref_acc: 0.8125,
          verified: 0.14,
          chat_rc: 0.535,
        },
      },
      {
        stage: 'rlvr',
        values: {
          val_loss: 1.2601,
          world_rc: 0.46,
          world_mc: 0.3,
          arith_em: 0.31,
          pref_acc: 0.79,
          verified: 0.3125,
          chat_rc: 0.53,
        },
      },
    ],
    paired: [
      {
        measure: 'verified',
        label: 'verified',
        from: 'dpo',
        to: 'rlvr',
        n: 1200,
        fixed: 41,
        broken: 21,
        before: 0.14,
        after: 0.3125,
        pValue: 0.0152,
      },
    ],
    notes: [
      'Chance is 25% on world MC (4 options) and 0% on arith EM.',
      'Post-training columns are measured only after sft.',
    ],
  };
}
