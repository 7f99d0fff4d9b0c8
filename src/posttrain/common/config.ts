// Config pieces shared by the post-training stages: reading a YAML/JSON file, validating it with a zod schema
// (errors name the field path), resolving relative paths against the config's folder, and the optimizer /
// schedule / checkpoint blocks every stage has.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../../data/index.ts';

export class PosttrainConfigError extends Error {
  override name = 'PosttrainConfigError';
}

/** Reads a YAML (or .json) config file; throws a PosttrainConfigError naming the file. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PosttrainConfigError(`cannot read the config ${path}: ${(err as Error).message}`);
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new PosttrainConfigError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

/** Validates with a zod schema; every bad field is listed with its path. */
export function validateConfig<S extends z.ZodTypeAny>(schema: S, value: unknown, source: string, what: string): z.infer<S> {
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
