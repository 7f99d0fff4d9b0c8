// The training config: model, data (stages with their mixes and LR schedules), optimizer and run settings.
// YAML or JSON, validated before any work; errors name the field path.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { dataConfigSchema, formatIssues, parseDataConfig, type DataConfig } from '../data/index.ts';
import { parseConfig, type ModelConfig } from '../models/index.ts';
import { preflightProblems } from './preflight.ts';

const scheduleSchema = z
  .object({
    /** Peak LR of the stage, or 'previous': start from the LR the previous stage ended at (OLMo 2's anneal). */
    lr: z.union([z.number().positive().finite(), z.literal('previous')]),
    schedule: z.enum(['cosine', 'linear', 'wsd', 'constant']).default('cosine'),
    warmupSteps: z.number().int().nonnegative().default(0),
    /** Final LR as a fraction of the peak (default: 0.1 for cosine, 0 otherwise). */
    alphaF: z.number().min(0).max(1).optional(),
    /** Step (within the stage) where the decay ends; default: the stage's length. */
    horizonSteps: z.number().int().positive().optional(),
    /**
     * The decay's horizon as a multiple of the stage's length (when horizonSteps is not given). OLMo 2's stage 1
     * stopped at ~0.8 of its cosine horizon (4T of 5T tokens), so its final LR stays well above alphaF·peak and the
     * anneal decays from there: 1.25.
     */
    horizonScale: z.number().min(1).finite().optional(),
    decaySteps: z.number().int().nonnegative().optional(),
    warmupMinLr: z.number().min(0).default(0),
  })
  .strict();

export type StageSchedule = z.infer<typeof scheduleSchema>;

export const trainConfigSchema = z
  .object({
    /** Where checkpoints, metrics and the resolved config go. */
    output: z.string().min(1),
    /** A Hugging Face config.json object (model_type olmo2 / olmoe / olmo …) for a new model, … */
    model: z.record(z.unknown()).optional(),
    /** … or an HF checkpoint folder to continue from. */
    initFrom: z.string().min(1).optional(),
    /**
     * The data: stages with their mixes (a data config object), or the path of a data-config JSON file (as
     * `olmo data synth` writes), whose relative paths are resolved against its own folder.
     */
    data: z.union([z.string().min(1), z.record(z.unknown())]),
    /** LR schedules by stage name, for stages that do not carry their own `optim`. */
    schedules: z.record(scheduleSchema).default({}),
    seed: z.number().int().nonnegative().default(0),
    /** Tokens per optimizer step (a multiple of sequenceLength × microBatchInstances). */
    globalBatchTokens: z.number().int().positive(),
    microBatchInstances: z.number().int().positive().default(1),
    optimizer: z
      .object({
        betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.95]),
        eps: z.number().positive().default(1e-8),
        weightDecay: z.number().min(0).default(0.1),
        /** OLMo 2 does not decay the embedding. */
        decayEmbeddings: z.boolean().default(false),
        maxGradNorm: z.number().positive().default(1.0),
      })
      .strict()
      .default({}),
    /** z-loss multiplier on the LM head's log-sum-exp (OLMo 2 configs: 1e-5; 0 disables). */
    zLoss: z.number().min(0).default(1e-5),
    init: z
      .object({ std: z.number().positive().default(0.02) })
      .strict()
      .default({}),
    moe: z
      .object({
        /** Load-balancing loss weight (OLMoE: 0.01) and router z-loss weight (0.001), megablocks' definitions. */
        loadBalancing: z.number().min(0).default(0.01),
        routerZLoss: z.number().min(0).default(0.001),
      })
      .strict()
      .default({}),
    checkpoint: z
      .object({ every: z.number().int().positive().default(100), keepLast: z.number().int().positive().default(2) })
      .strict()
      .default({}),
    validation: z
      .object({ every: z.number().int().positive().default(50), batches: z.number().int().positive().default(8) })
      .strict()
      .default({}),
    /** Skip a step whose loss or grad norm is not finite or exceeds mean + sigmas·σ of the recent window. */
    spikes: z
      .object({
        window: z.number().int().min(8).default(128),
        sigmas: z.number().positive().default(6),
        minHistory: z.number().int().min(2).default(20),
        /** Abort after this many skipped steps in a row. */
        maxConsecutiveSkips: z.number().int().positive().default(8),
      })
      .strict()
      .default({}),
    logEvery: z.number().int().positive().default(10),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.model && !c.initFrom)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['model'],
        message: 'give either model (a config) or initFrom (a checkpoint folder)',
      });
    if (c.model && c.initFrom)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['initFrom'], message: 'give model or initFrom, not both' });
  });

/** An inline data config: the data layer's schema, each stage optionally carrying its LR schedule. */
const inlineDataSchema = dataConfigSchema.innerType().extend({
  stages: z
    .array(dataConfigSchema.innerType().shape.stages.element.and(z.object({ optim: scheduleSchema.optional() })))
    .min(1),
});

export type TrainConfigInput = Omit<z.input<typeof trainConfigSchema>, 'data'> & {
  data: string | z.input<typeof inlineDataSchema>;
};
export type TrainConfig = z.infer<typeof trainConfigSchema>;

export interface ResolvedTrainConfig extends TrainConfig {
  dataConfig: DataConfig;
  /** The LR schedule of each stage, in stage order. */
  stageSchedules: StageSchedule[];
  /** Folder the config's relative paths are resolved against. */
  baseDir: string;
  /** The config file (or "config" for an object), for messages. */
  source: string;
}

export class TrainConfigError extends Error {
  override name = 'TrainConfigError';
}

/** Validates a config object; relative paths are resolved against baseDir. */
export function resolveTrainConfig(value: unknown, baseDir: string, source = 'config'): ResolvedTrainConfig {
  const r = trainConfigSchema.safeParse(value);
  if (!r.success) throw new TrainConfigError(`${source}: invalid training config:\n${formatIssues(r.error)}`);
  const cfg = r.data;
  let dataConfig: DataConfig;
  let stageOptims: (StageSchedule | undefined)[];
  try {
    if (typeof cfg.data === 'string') {
      const file = isAbsolute(cfg.data) ? cfg.data : join(baseDir, cfg.data);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new Error(`data: cannot read the data config ${file}: ${(err as Error).message}`, { cause: err });
      }
      dataConfig = parseDataConfig(raw, dirname(file));
      stageOptims = dataConfig.stages.map(() => undefined);
    } else {
      const inline = inlineDataSchema.safeParse(cfg.data);
      if (!inline.success) throw new Error(`invalid training config:\n${formatIssues(inline.error, 'data')}`);
      dataConfig = parseDataConfig(cfg.data, baseDir);
      stageOptims = inline.data.stages.map((s) => s.optim);
    }
  } catch (err) {
    throw new TrainConfigError(`${source}: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  const stageSchedules = dataConfig.stages.map((stage, i) => {
    const sched = stageOptims[i] ?? cfg.schedules[stage.name];
    if (!sched)
      problems.push(
        `data.stages.${i}: stage "${stage.name}" has no LR schedule (give it an optim block, or schedules.${stage.name})`,
      );
    return sched!;
  });
  for (const name of Object.keys(cfg.schedules)) {
    if (!dataConfig.stages.some((s) => s.name === name))
      problems.push(
        `schedules.${name}: no stage of that name (stages: ${dataConfig.stages.map((s) => s.name).join(', ')})`,
      );
  }
  if (stageSchedules[0]?.lr === 'previous')
    problems.push('the first stage has no previous stage to continue from: its lr must be a number');
  const perMicro = dataConfig.sequenceLength * cfg.microBatchInstances;
  if (cfg.globalBatchTokens % perMicro !== 0) {
    problems.push(
      `globalBatchTokens: must be a multiple of sequenceLength × microBatchInstances = ${perMicro}, got ${cfg.globalBatchTokens}`,
    );
  }
  if (problems.length > 0) throw new TrainConfigError(`${source}: invalid training config:\n${problems.join('\n')}`);
  if (cfg.model) {
    try {
      parseConfig(cfg.model, `${source}: model`);
    } catch (err) {
      throw new TrainConfigError((err as Error).message);
    }
  }
  const initFrom = cfg.initFrom && !isAbsolute(cfg.initFrom) ? join(baseDir, cfg.initFrom) : cfg.initFrom;
  const dataSource =
    typeof cfg.data === 'string'
      ? `data config ${isAbsolute(cfg.data) ? cfg.data : join(baseDir, cfg.data)}`
      : `${source}: data`;
  const preflight = preflightProblems({
    dataConfig,
    dataSource,
    model: cfg.model,
    initFrom,
    source,
    microBatchInstances: cfg.microBatchInstances,
  });
  if (preflight.length > 0) throw new TrainConfigError(`${source}: not ready to train:\n${preflight.join('\n')}`);
  return {
    ...cfg,
    output: isAbsolute(cfg.output) ? cfg.output : join(baseDir, cfg.output),
    initFrom,
    dataConfig,
    stageSchedules,
    baseDir,
    source,
  };
}

/**
 * Reads a YAML (or .json) config file of any training stage; a file that cannot be read or parsed throws the
 * stage's config error (`makeError`) naming the file.
 */
export function readConfigValue(path: string, makeError: (message: string) => Error): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw makeError(`cannot read the config ${path}: ${(err as Error).message}`);
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw makeError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

/** Reads a YAML or JSON training config file. */
export function loadTrainConfig(path: string): ResolvedTrainConfig {
  const value = readConfigValue(path, (message) => new TrainConfigError(message));
  return resolveTrainConfig(value, dirname(path), path);
}

export function modelConfigOf(cfg: ResolvedTrainConfig): ModelConfig {
  return parseConfig(cfg.model, 'model');
}
