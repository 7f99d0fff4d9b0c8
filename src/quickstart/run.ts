// `olmo quickstart`: the whole OLMo 2 pipeline in miniature, offline. Each stage calls the same library code and
// config files as its own command (olmo data synth, olmo train, olmo soup, olmo sft|dpo|rlvr, olmo eval), writes its
// outputs under the run folder and records itself in quickstart.json; a rerun skips finished stages and resumes an
// interrupted training stage from its last checkpoint (bit-identical with the same thread count), so the final
// report is the same as an uninterrupted run's.
//
//   RUN/data/            the embedded corpus (olmo data synth)
//   RUN/configs/*.yaml   the stage configs (from configs/quickstart/*.yaml)
//   RUN/pretrain/        olmo train: stages/pretrain (base), stages/anneal, checkpoints/, metrics.jsonl
//   RUN/anneal-2/        a second anneal from the end of stage 1 with another data order
//   RUN/soup/            the average of the anneal runs (OLMo 2's souping)
//   RUN/sft/ dpo/ rlvr/  post-training runs (final/ is each stage's model)
//   RUN/evals/<stage>.json and evals/<stage>/ (OLMES outputs)   held-out measures of each stage's model
//   RUN/report.{md,html,json}
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeTextAtomically } from '../io/atomic.ts';
import { readJsonLines } from '../io/jsonl.ts';
import { synthesize } from '../data/synth/index.ts';
import { clearPool } from '../tensor/index.ts';
import { loadDpoConfig, DpoTrainer } from '../posttrain/dpo/index.ts';
import { loadRlvrConfig, runRlvr } from '../posttrain/rlvr/index.ts';
import { loadSftConfig, SftTrainer } from '../posttrain/sft/index.ts';
import { loadTrainConfig, soup, Trainer, type TrainResult } from '../train/index.ts';
import { collectReport, COLUMNS } from './collect.ts';
import { formatValue } from './render-markdown.ts';
import { ANNEAL_SEEDS, writeAnnealIngredientConfig, writeQuickstartConfigs } from './configs.ts';
import { evaluateStage, type MeasureKey, type StageEval } from './evaluate.ts';
import { scaledSize, sizeByName, type QuickstartSize } from './sizes.ts';
import { openState, saveState, type QuickstartState } from './state.ts';
import { writeReport } from './write-report.ts';

export interface QuickstartOptions {
  out: string;
  seed?: number;
  size?: string;
  /**
   * Time budget in minutes: scales the corpus (and so the pretraining steps, the bulk of the time) by
   * minutes / the size's nominal minutes. Approximate: post-training and evaluations do not scale.
   */
  minutes?: number;
  signal?: AbortSignal;
  /** Progress bars of the training stages (a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
  /** Stop after this stage (tests). */
  stopAfter?: string;
}

export interface QuickstartResult {
  runDir: string;
  stopped: boolean;
  report?: string;
}

/** The model folder each evaluated stage produces, relative to the run folder. */
export const STAGE_MODELS: Record<string, string> = {
  base: 'pretrain/stages/pretrain',
  anneal: 'pretrain/stages/anneal',
  soup: 'soup',
  sft: 'sft/final',
  dpo: 'dpo/final',
  rlvr: 'rlvr/final',
};

/** Which measures each stage's model gets (chat measures only once the model has been chat-tuned, or just before). */
export const STAGE_MEASURES: Record<string, MeasureKey[]> = {
  base: ['val_loss', 'world_rc', 'world_mc'],
  anneal: ['val_loss', 'world_rc', 'world_mc'],
  soup: ['val_loss', 'world_rc', 'world_mc', 'arith_em'], // arith EM shows it cannot chat yet; no verified rate (600 replies of 48 tokens)
  sft: ['val_loss', 'world_rc', 'world_mc', 'arith_em', 'pref_acc', 'verified'],
  dpo: ['val_loss', 'world_rc', 'world_mc', 'arith_em', 'pref_acc', 'verified'],
  rlvr: ['val_loss', 'world_rc', 'world_mc', 'arith_em', 'pref_acc', 'verified'],
};

/** The commands that reproduce each stage by hand, from the run folder. */
export function stageCommands(size: QuickstartSize, seed: number): Record<string, string> {
  return {
    data: `olmo data synth --out data --seed ${seed} --scale ${size.synthScale}`,
    pretrain: 'olmo train --config configs/pretrain.yaml',
    ...Object.fromEntries(
      Array.from({ length: size.annealIngredients - 1 }, (_, i) => [
        `anneal-${i + 2}`,
        `olmo train --config configs/anneal-${i + 2}.yaml`,
      ]),
    ),
    soup: `olmo soup ${soupIngredients('.', size).join(' ')} --out soup`,
    sft: 'olmo sft --config configs/sft.yaml',
    dpo: 'olmo dpo --config configs/dpo.yaml',
    rlvr: 'olmo rlvr --config configs/rlvr.yaml',
    eval: 'olmo eval --model soup --tasks synth_world:rc,synth_world:mc --data-dir data --output evals/soup',
  };
}

const fmt = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);

/** One stage of the pipeline: `run` returns its summary line, or null when it stopped early (to be resumed). */
interface Stage {
  name: string;
  title: string;
  run: () => Promise<string | null>;
}

interface StageContext {
  runDir: string;
  seed: number;
  size: QuickstartSize;
  log: (line: string) => void;
  trainerOpts: { signal?: AbortSignal; progress?: boolean; log: (line: string) => void };
}

/** A training stage on configs/NAME.yaml (written by `writeConfig` when missing), resumed as `olmo train` does. */
function trainStage(
  c: StageContext,
  name: string,
  title: string,
  writeConfig: () => void,
  summary: (r: TrainResult) => string,
): Stage {
  return {
    name,
    title,
    run: async () => {
      const file = join(c.runDir, 'configs', `${name}.yaml`);
      if (!existsSync(file)) writeConfig();
      const r = new Trainer(loadTrainConfig(file), { resume: true, ...c.trainerOpts }).train();
      return r.stopped ? null : summary(r);
    },
  };
}

/** The pipeline's stages in order: data, pretraining and anneals, soup, SFT, DPO, RLVR, each evaluated. */
function quickstartStages(c: StageContext): Stage[] {
  const { runDir, seed, size, log, trainerOpts } = c;
  const evalStage = (name: string): Stage => ({
    name: `eval-${name}`,
    title: `evaluate ${name}`,
    run: async () => {
      const r = await evaluateOne(runDir, name, size);
      return `${name}: ${describeEval(r)}`;
    },
  });
  return [
    {
      name: 'data',
      title: 'generate and tokenize the embedded corpus',
      run: async () => {
        const m = await synthesize({
          outDir: join(runDir, 'data'),
          seed,
          scale: size.synthScale,
          onProgress: (l) => log(`  data: ${l}`),
        });
        const tokens = Object.entries(m.tokens ?? {})
          .filter(([k]) => k.startsWith('tokens/pretrain/'))
          .reduce((a, [, v]) => a + v, 0);
        setAnnealBudget(join(runDir, 'data', 'data-config.json'), tokens, size.annealFraction);
        return `${m.world.facts} facts (${m.world.testFacts} held out), ${tokens.toLocaleString('en-US')} pretraining tokens, unigram entropy ${fmt(m.unigramEntropy?.nats)} nats`;
      },
    },
    trainStage(
      c,
      'pretrain',
      'pretrain and anneal an OLMo 2 model (olmo train)',
      () => writeQuickstartConfigs(runDir, size, seed),
      (r) =>
        `${r.steps} steps; validation loss ${fmt(r.stageValLoss.pretrain)} after stage 1, ${fmt(r.stageValLoss.anneal)} after the anneal`,
    ),
    evalStage('base'),
    evalStage('anneal'),
    ...Array.from({ length: size.annealIngredients - 1 }, (_, i): Stage => {
      const k = i + 2;
      return trainStage(
        c,
        `anneal-${k}`,
        `anneal ingredient ${k}: the anneal again from the end of stage 1, data seed ${ANNEAL_SEEDS[k - 1]} (olmo train)`,
        () => writeAnnealIngredientConfig(runDir, k, seed, size, stage1FinalLr(runDir)),
        (r) => `${r.steps} steps; validation loss ${fmt(r.finalValLoss)}`,
      );
    }),
    {
      name: 'soup',
      title: 'average the anneal ingredients (olmo soup)',
      run: async () => {
        const models = soupIngredients(runDir, size);
        soup(models, join(runDir, 'soup'));
        return `averaged ${models.length} anneal runs (data seeds ${ANNEAL_SEEDS.slice(0, models.length).join(', ')})`;
      },
    },
    evalStage('soup'),
    {
      name: 'sft',
      title: 'supervised fine-tuning (olmo sft)',
      run: async () => {
        const cfg = loadSftConfig(join(runDir, 'configs', 'sft.yaml'));
        const r = new SftTrainer(cfg, { resume: true, ...trainerOpts }).run();
        if (r.stopped) return null;
        const loss =
          r.before && r.after ? `; held-out assistant loss ${fmt(r.before.eval_loss)} → ${fmt(r.after.eval_loss)}` : '';
        return `${r.steps} steps on ${r.data.train.kept} conversations${loss}`;
      },
    },
    evalStage('sft'),
    {
      name: 'dpo',
      title: 'preference tuning (olmo dpo)',
      run: async () => {
        const cfg = loadDpoConfig(join(runDir, 'configs', 'dpo.yaml'));
        const r = new DpoTrainer(cfg, { resume: true, ...trainerOpts }).run();
        return r.stopped ? null : `${r.steps} steps on ${r.data.train.kept} pairs`;
      },
    },
    evalStage('dpo'),
    {
      name: 'rlvr',
      title: 'reinforcement learning with verifiable rewards (olmo rlvr)',
      run: async () => {
        const cfg = loadRlvrConfig(join(runDir, 'configs', 'rlvr.yaml'));
        const r = runRlvr(cfg, { resume: true, ...trainerOpts });
        if (r.steps < cfg.steps) return null; // stopped early (as olmo rlvr decides it)
        const last = r.history[r.history.length - 1];
        return `${r.steps} GRPO steps${last ? `, last step's mean reward ${fmt(last.mean_reward, 2)}` : ''}`;
      },
    },
    evalStage('rlvr'),
  ];
}

export async function runQuickstart(opts: QuickstartOptions): Promise<QuickstartResult> {
  const runDir = resolve(opts.out);
  const seed = opts.seed ?? 1234;
  const size = scaledSize(sizeByName(opts.size ?? 'default'), opts.minutes);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const state: QuickstartState = openState(runDir, seed, size.name, size.synthScale);
  saveState(runDir, state);
  const stopped = () => opts.signal?.aborted === true;
  const commands = stageCommands(size, seed);
  const trainerOpts = { signal: opts.signal, progress: opts.progress, log };
  const stages = quickstartStages({ runDir, seed, size, log, trainerOpts });

  const total = stages.length;
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i];
    const rec = (state.stages[s.name] ??= { done: false, seconds: 0 });
    if (rec.done) {
      log(`[${i + 1}/${total}] ${s.name}: done earlier — ${rec.summary ?? ''}`);
      continue;
    }
    if (stopped()) return { runDir, stopped: true };
    log(`[${i + 1}/${total}] ${s.name}: ${s.title}`);
    const t0 = performance.now();
    const summary = await s.run();
    // Each stage has its own tensor shapes: buffers pooled by the last one would only crowd out the next one's.
    clearPool();
    rec.seconds += (performance.now() - t0) / 1000;
    if (summary === null) {
      saveState(runDir, state);
      log(`stopped during ${s.name}; run the same command again to resume`);
      return { runDir, stopped: true };
    }
    rec.done = true;
    rec.summary = summary;
    saveState(runDir, state);
    log(`[${i + 1}/${total}] ${s.name}: ${summary} (${rec.seconds.toFixed(1)} s)`);
    if (opts.stopAfter === s.name) return { runDir, stopped: true };
  }
  const data = collectReport(runDir, state, size, commands);
  writeReport(runDir, data);
  log(`report: ${join(runDir, 'report.md')} and ${join(runDir, 'report.html')}`);
  return { runDir, stopped: false, report: join(runDir, 'report.md') };
}

/** Sets the anneal's token budget to `fraction` of stage 1's tokens (a multiple of the sequence length). */
function setAnnealBudget(file: string, stage1: number, fraction: number): void {
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as {
    sequenceLength: number;
    stages: { name: string; tokens?: number; mix: { paths: string[] }[] }[];
  };
  const L = cfg.sequenceLength;
  cfg.stages[1].tokens = Math.max(L * 8, Math.round((stage1 * fraction) / L) * L);
  writeTextAtomically(file, `${JSON.stringify(cfg, null, 2)}\n`);
}

/** The final models of the anneal ingredients: the pretraining run's anneal, then anneal-2, anneal-3, … */
export function soupIngredients(runDir: string, size: QuickstartSize): string[] {
  return [
    join(runDir, 'pretrain', 'stages', 'anneal'),
    ...Array.from({ length: size.annealIngredients - 1 }, (_, i) => join(runDir, `anneal-${i + 2}`, 'final')),
  ];
}

/** The LR stage 1 ended at: the first anneal step's LR in the pretraining run's metrics. */
function stage1FinalLr(runDir: string): number {
  const file = join(runDir, 'pretrain', 'metrics.jsonl');
  const first = readJsonLines<{ stage?: string; lr?: number }>(file).find(
    (m) => m.stage === 'anneal' && typeof m.lr === 'number',
  );
  if (first) return first.lr!;
  throw new Error(`${file}: no anneal step recorded`);
}

async function evaluateOne(runDir: string, stage: string, size: QuickstartSize): Promise<StageEval> {
  const dataCfg = JSON.parse(readFileSync(join(runDir, 'data', 'data-config.json'), 'utf8')) as {
    sequenceLength: number;
  };
  const r = await evaluateStage(join(runDir, STAGE_MODELS[stage]), {
    dataDir: join(runDir, 'data'),
    outputDir: join(runDir, 'evals', stage),
    measures: STAGE_MEASURES[stage],
    referenceModel: join(runDir, STAGE_MODELS.sft),
    sequenceLength: dataCfg.sequenceLength,
    validationBatches: size.validationBatches,
    generativeLimit: size.eval.generativeLimit,
    preferenceLimit: size.eval.preferenceLimit,
    maxNewTokens: size.eval.maxNewTokens,
  });
  const rel = { ...r, model: STAGE_MODELS[stage] };
  mkdirSync(join(runDir, 'evals'), { recursive: true });
  writeTextAtomically(join(runDir, 'evals', `${stage}.json`), `${JSON.stringify(rel, null, 2)}\n`);
  return r;
}

/** The stage's measures as the report shows them (same labels and number formats). */
function describeEval(r: StageEval): string {
  return COLUMNS.filter((c) => r.values[c.key] !== undefined)
    .map((c) => `${c.label} ${formatValue(c, r.values[c.key]!)}`)
    .join(', ');
}
