// The data part of a training config: sequence length, stages (each with its own mix, seed and token budget), and
// validation token files. The trainer extends `stageDataSchema` with its own fields (LR schedule, …): unknown keys
// of a stage are kept (passthrough) so one stage object can carry both.
import path from 'node:path';
import { z } from 'zod';

/** Adds an issue at `field`[i].name for every name that an earlier item already has. */
function checkUniqueNames(items: readonly { name: string }[], field: string, what: string, ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  items.forEach((s, i) => {
    if (seen.has(s.name)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [field, i, 'name'],
        message: `duplicate ${what} name "${s.name}"`,
      });
    }
    seen.add(s.name);
  });
}

export const mixSourceSchema = z
  .object({
    /** Source name (reported in metrics and in the instance list). */
    name: z.string().min(1),
    /** Token files and/or folders of *.npy token files; relative paths are resolved against the config's folder. */
    paths: z.array(z.string().min(1)).min(1),
    /**
     * Share of the stage's instances (= tokens) drawn from this source. Weights are normalised over the mix, so
     * they need not sum to 1. A source smaller than its share is repeated (whole copies, then a seeded random
     * subset), a larger one is subsampled (seeded random subset), as the Dolmino ingredient configs do.
     */
    proportion: z.number().positive().finite(),
  })
  .strict();

export const stageDataSchema = z
  .object({
    name: z.string().min(1),
    /** Seed of the stage's instance selection and order (OLMo 2: 6198 for stage 1, the ingredient seed after). */
    seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /**
     * Token budget of the stage. Omitted: the largest budget that repeats no source (every source used at most
     * once at its proportion).
     */
    tokens: z.number().int().positive().optional(),
    mix: z.array(mixSourceSchema).min(1),
  })
  .passthrough()
  .superRefine((stage, ctx) => checkUniqueNames(stage.mix, 'mix', 'source', ctx));

export const dataConfigSchema = z
  .object({
    /** Tokens per instance (OLMo 2: 4096). */
    sequenceLength: z.number().int().min(2),
    /** 'dolma2' or a tokenizer folder; recorded for checks, tokenization happens before training. */
    tokenizer: z.string().min(1).default('dolma2'),
    stages: z.array(stageDataSchema).min(1),
    /** Held-out token files for validation loss, read in order (no shuffling). */
    validation: z
      .object({ paths: z.array(z.string().min(1)).min(1) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => checkUniqueNames(cfg.stages, 'stages', 'stage', ctx));

export type MixSource = z.infer<typeof mixSourceSchema>;
export type StageData = z.infer<typeof stageDataSchema>;
export type DataConfig = z.infer<typeof dataConfigSchema>;
export type DataConfigInput = z.input<typeof dataConfigSchema>;

/** Formats zod issues as "field.path: reason" lines. */
export function formatIssues(error: z.ZodError, root = ''): string {
  return error.issues
    .map((i) => {
      const p = [root, ...i.path.map(String)].filter((s) => s.length > 0).join('.');
      return `${p || '(root)'}: ${i.message}`;
    })
    .join('\n');
}

/**
 * Validates a data config (throws one message listing every bad field path) and resolves relative paths against
 * `baseDir` (the config file's folder).
 */
export function parseDataConfig(value: unknown, baseDir = '.', root = 'data'): DataConfig {
  const r = dataConfigSchema.safeParse(value);
  if (!r.success) throw new Error(`invalid data config:\n${formatIssues(r.error, root)}`);
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const cfg = r.data;
  return {
    ...cfg,
    // 'dolma2' names the built-in tokenizer; anything else is a tokenizer folder, relative to the config.
    tokenizer: cfg.tokenizer === 'dolma2' ? cfg.tokenizer : abs(cfg.tokenizer),
    stages: cfg.stages.map((s) => ({ ...s, mix: s.mix.map((m) => ({ ...m, paths: m.paths.map(abs) })) })),
    validation: cfg.validation ? { paths: cfg.validation.paths.map(abs) } : undefined,
  };
}
