// Config pieces shared by the post-training stages: reading a YAML/JSON file, validating it with a zod schema
// (errors name the field path), resolving relative paths against the config's folder, and the optimizer /
// schedule / checkpoint blocks every stage has.
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../../data/index.ts';
import { readConfigValue } from '../../train/index.ts';
import { modelPathOrHubId } from '../../io/model-ref.ts';

export class PosttrainConfigError extends Error {
  override name = 'PosttrainConfigError';
}

/** Reads a YAML (or .json) config file; throws a PosttrainConfigError naming the file. */
export function readConfigFile(path: string): unknown {
  return readConfigValue(path, (message) => new PosttrainConfigError(message));
}

/** Validates with a zod schema; every bad field is listed with its path. */
export function validateConfig<S extends z.ZodTypeAny>(
  schema: S,
  value: unknown,
  source: string,
  what: string,
): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new PosttrainConfigError(`${source}: invalid ${what} config:\n${formatIssues(r.error)}`);
  return r.data;
}

export function resolvePath(baseDir: string, p: string): string;
export function resolvePath(baseDir: string, p: string | undefined): string | undefined;
export function resolvePath(baseDir: string, p: string | undefined): string | undefined {
  return p === undefined ? undefined : isAbsolute(p) ? p : join(baseDir, p);
}

export function configDir(path: string): string {
  return dirname(path);
}

export const optimizerSchema = z
  .object({
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
    /** Tülu 3 SFT and DPO: 0. */
    weightDecay: z.number().min(0).default(0),
    /** Global-norm clipping (open-instruct's default clip_grad_norm is -1, i.e. off; 0 or absent disables). */
    maxGradNorm: z.number().min(0).default(0),
  })
  .strict();

export type OptimizerConfig = z.infer<typeof optimizerSchema>;

export const checkpointSchema = z
  .object({ every: z.number().int().positive().default(100), keepLast: z.number().int().positive().default(1) })
  .strict();

/** Linear warmup over ceil(warmupRatio × total steps), then linear decay to 0 (open-instruct's default schedule). */
export const scheduleFields = {
  lr: z.number().positive().finite(),
  schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
  warmupRatio: z.number().min(0).max(1),
};

/** Where a run writes and what it starts from (first in every stage's config). */
export const runTargetFields = {
  /** Where checkpoints, metrics.jsonl, eval.json and final/ go. */
  output: z.string().min(1),
  /** The HF checkpoint folder to train (DPO in Tülu 3: the SFT checkpoint). */
  initFrom: z.string().min(1),
};

export const tokenizerFields = {
  /** Folder with tokenizer.json (default: initFrom). */
  tokenizer: z.string().min(1).optional(),
  /** A Jinja chat template overriding the tokenizer's (default: the tokenizer's, else the built-in Tülu template). */
  chatTemplate: z.string().min(1).optional(),
};

/** How the data block treats rows that are too long or malformed. */
export const dataPolicyFields = {
  /**
   * Conversations (pairs: either side) longer than maxLength: 'drop' (default) or 'truncate' (open-instruct's
   * rule: cut at maxLength, drop if no assistant token is left). Both are reported.
   */
  overlong: z.enum(['drop', 'truncate']).default('drop'),
  /** Bad rows (file:line reported): 'error' stops before training, 'skip' leaves them out. */
  badRows: z.enum(['error', 'skip']).default('error'),
};

/** Seed, epochs and the global / micro batch sizes (Tülu 3: 128 per optimizer step). */
export function batchFields(epochs: number) {
  return {
    seed: z.number().int().nonnegative().default(123),
    epochs: z.number().int().positive().default(epochs),
    /** Examples (sequences or pairs) per optimizer step. */
    batchSize: z.number().int().positive().default(128),
    /** Examples per forward pass (gradient accumulation over batchSize / microBatchSize passes). */
    microBatchSize: z.number().int().positive().default(1),
  };
}

/** LR, schedule with its warmup ratio, the optimizer and checkpoint blocks, with the stage's defaults. */
export function trainingFields(defaults: { lr: number; warmupRatio: number }) {
  return {
    lr: scheduleFields.lr.default(defaults.lr),
    schedule: scheduleFields.schedule,
    warmupRatio: scheduleFields.warmupRatio.default(defaults.warmupRatio),
    optimizer: optimizerSchema.default({}),
    checkpoint: checkpointSchema.default({}),
  };
}

/** When held-out evaluation runs (the eval block's common part). */
export const evalTimingFields = {
  /** Evaluate every N steps (0: only before training and at the end). */
  every: z.number().int().nonnegative().default(0),
  /** Evaluate the starting model before the first step (the "before" numbers). */
  atStart: z.boolean().default(true),
};

export const logEveryField = z.number().int().positive().default(10);

/** The eval block (its timing plus the stage's own fields) and logEvery: the last fields of every SFT/DPO config. */
export function evalAndLogFields<E extends z.ZodRawShape>(evalFields: E) {
  const block = z.object({ ...evalTimingFields, ...evalFields }).strict();
  // The stages give every eval field a default, so an absent block parses as {} (zod cannot see that through E).
  return { eval: block.default({} as z.input<typeof block>), logEvery: logEveryField };
}

/** microBatchSize must divide batchSize (unless packing regroups the batch). */
export function checkMicroBatch(
  c: { batchSize: number; microBatchSize: number; packing?: boolean },
  ctx: z.RefinementCtx,
): void {
  if (c.batchSize % c.microBatchSize !== 0 && !c.packing) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['microBatchSize'],
      message: `must divide batchSize (${c.batchSize})`,
    });
  }
}

/**
 * A stage schema's refinement: checkMicroBatch, then the stage's own cross-field checks, which report a problem
 * through `issue(path, message)`.
 */
export function stageChecks<C extends { batchSize: number; microBatchSize: number; packing?: boolean }>(
  more: (c: C, issue: (path: (string | number)[], message: string) => void) => void,
): (c: C, ctx: z.RefinementCtx) => void {
  return (c, ctx) => {
    checkMicroBatch(c, ctx);
    more(c, (path, message) => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message }));
  };
}

/** Resolves the paths every stage has (output, initFrom, tokenizer, data.train, data.test) against baseDir. */
export function resolveRunPaths<
  C extends { output: string; initFrom: string; tokenizer?: string; data: { train: string; test?: string } },
>(c: C, baseDir: string): C {
  return {
    ...c,
    output: resolvePath(baseDir, c.output),
    initFrom: modelPathOrHubId(baseDir, c.initFrom), // a folder, or a hub id the command resolves
    tokenizer: resolvePath(baseDir, c.tokenizer),
    data: { ...c.data, train: resolvePath(baseDir, c.data.train), test: resolvePath(baseDir, c.data.test) },
  };
}
