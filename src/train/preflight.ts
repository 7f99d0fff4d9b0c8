// Checks a training config makes against the files it names, before any step is taken: a missing validation
// path would otherwise fail only at the first validation step, a tokenizer that does not exist and a sequence
// length beyond the model's positions would be accepted. Each problem names the file, the field, what was
// expected and what was found.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConfig } from '../data/index.ts';
import { estimateMemory, machineMemory, formatBytes, parseConfig, type ModelConfig } from '../models/index.ts';

export interface PreflightInput {
  dataConfig: DataConfig;
  /** Where the data config's fields live: "<config>: data" (inline) or the data-config file. */
  dataSource: string;
  model?: Record<string, unknown>;
  initFrom?: string;
  source: string;
  /** Sequences per micro-batch: with the model's config, what one training step holds in memory. */
  microBatchInstances?: number;
}

/** The problems found (empty: ready to train). */
export function preflightProblems(c: PreflightInput): string[] {
  const problems: string[] = [];
  const d = c.dataConfig;
  (d.validation?.paths ?? []).forEach((p, i) => {
    if (!existsSync(p))
      problems.push(
        `${c.dataSource}: validation.paths.${i}: ${p} does not exist (expected a token file or a folder of them)`,
      );
  });
  if (d.tokenizer !== 'dolma2' && !existsSync(join(d.tokenizer, 'tokenizer.json'))) {
    problems.push(
      `${c.dataSource}: tokenizer: expected "dolma2" or a folder with tokenizer.json, got ${d.tokenizer} (${existsSync(d.tokenizer) ? 'it has no tokenizer.json' : 'it does not exist'})`,
    );
  }
  const model = modelConfig(c, problems);
  if (model && d.sequenceLength > model.config.maxPositionEmbeddings) {
    problems.push(
      `${c.dataSource}: sequenceLength: must be at most the model's max_position_embeddings ${model.config.maxPositionEmbeddings} (${model.where}), got ${d.sequenceLength}`,
    );
  }
  if (model && c.microBatchInstances) {
    const need = estimateMemory(model.config, {
      batch: c.microBatchInstances,
      tokens: d.sequenceLength,
      training: true,
    });
    const machine = machineMemory();
    if (need.totalBytes > machine.availableBytes) {
      problems.push(
        `${c.source}: microBatchInstances: a training step of ${c.microBatchInstances} × ${d.sequenceLength} tokens on ` +
          `${model.where} needs ${formatBytes(need.totalBytes)} (weights, gradients, AdamW state and activations), ` +
          `more than the ${formatBytes(machine.availableBytes)} available (${machine.source}); lower microBatchInstances ` +
          'or sequenceLength, or set OLMO_MEMORY_LIMIT to override this check',
      );
    }
  }
  return problems;
}

/** The model's config (inline, or initFrom's config.json); null when it cannot be read (reported elsewhere). */
function modelConfig(c: PreflightInput, problems: string[]): { config: ModelConfig; where: string } | null {
  try {
    if (c.model) return { config: parseConfig(c.model, `${c.source}: model`), where: `${c.source}: model` };
    if (!c.initFrom) return null;
    const file = join(c.initFrom, 'config.json');
    if (!existsSync(file)) {
      problems.push(
        `${c.source}: initFrom: expected an HF checkpoint folder with config.json, got ${c.initFrom} (${existsSync(c.initFrom) ? 'no config.json' : 'it does not exist'})`,
      );
      return null;
    }
    return { config: parseConfig(JSON.parse(readFileSync(file, 'utf8')), file), where: file };
  } catch {
    return null; // the model config's own errors are reported when it is parsed or loaded
  }
}
