// Model folders (HF layout: config.json + safetensors + tokenizer files) and quickstart folders. A model's
// parameters, stored dtype and memory come from the same functions olmo uses before loading one
// (src/models/memory.ts); a config those cannot parse (another family) still lists with its raw fields.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  kvCacheBytes,
  parameterCount,
  parseConfig,
  storedDType,
  weightBytes,
  type ModelConfig,
} from '../models/index.ts';
import type { JsonValue, ModelSummary, Problem, QuickstartSummary } from './api-types.ts';
import type { DashboardData } from './context.ts';
import { modifiedIso, numberOrNull, readJson, readJsonObject, stringOrNull } from './files.ts';
import { joinRel, type FolderRef } from './paths.ts';
import { enclosing } from './scan.ts';

function filesBytes(abs: string): number {
  let total = 0;
  for (const e of readdirSync(abs, { withFileTypes: true })) if (e.isFile()) total += statSync(join(abs, e.name)).size;
  return total;
}

function rawSummary(raw: { [k: string]: JsonValue }): ModelSummary['config'] {
  const n = (...keys: string[]) => keys.map((k) => numberOrNull(raw[k])).find((v) => v !== null) ?? null;
  return {
    hiddenSize: n('hidden_size', 'd_model'),
    layers: n('num_hidden_layers', 'n_layers'),
    heads: n('num_attention_heads', 'n_heads'),
    kvHeads: n('num_key_value_heads'),
    intermediateSize: n('intermediate_size'),
    vocabSize: n('vocab_size'),
    maxPositionEmbeddings: n('max_position_embeddings'),
    experts: n('num_experts'),
  };
}

function memoryOf(cfg: ModelConfig): ModelSummary['memory'] {
  const weights = weightBytes(cfg, storedDType(cfg));
  const perToken = kvCacheBytes(cfg, 1, 1);
  return {
    weightBytes: weights,
    kvBytesPerToken: perToken,
    inferenceBytes: weights + perToken * cfg.maxPositionEmbeddings,
  };
}

/** The run a checkpoint folder belongs to: the run folder above `…/checkpoints/step-N/model` or `…/final`. */
function owningRun(runs: readonly FolderRef[], ref: FolderRef): FolderRef | null {
  return enclosing(runs, ref);
}

function modelSummary(data: DashboardData, ref: FolderRef, abs: string): ModelSummary {
  const problems: Problem[] = [];
  const shown = joinRel(ref.rel, 'config.json');
  const r = readJsonObject(join(abs, 'config.json'), shown);
  const raw = r.value ?? {};
  if (r.problem) problems.push(r.problem);
  let cfg: ModelConfig | null = null;
  if (r.value) {
    try {
      cfg = parseConfig(r.value, shown);
    } catch (err) {
      problems.push({ file: shown, message: `not a model olmo-ts can load: ${(err as Error).message}` });
    }
  }
  const run = owningRun(data.found().runs, ref);
  const archs = raw.architectures;
  return {
    id: data.id(ref),
    root: ref.root,
    path: ref.rel,
    name: data.name(ref),
    modelType: stringOrNull(raw.model_type),
    architecture: Array.isArray(archs) ? stringOrNull(archs[0]) : null,
    config: rawSummary(raw),
    parameters: cfg ? parameterCount(cfg).total : null,
    dtype: cfg ? cfg.dtype : (stringOrNull(raw.torch_dtype) ?? stringOrNull(raw.dtype)),
    bytes: filesBytes(abs),
    memory: cfg ? memoryOf(cfg) : null,
    hasTokenizer: existsSync(join(abs, 'tokenizer.json')),
    runId: run ? data.id(run) : null,
    modified: modifiedIso(join(abs, 'config.json')),
    problems,
  };
}

export function listModels(data: DashboardData): ModelSummary[] {
  return data.each('models', (ref, abs) => modelSummary(data, ref, abs));
}

function quickstartSummary(data: DashboardData, ref: FolderRef, abs: string): QuickstartSummary {
  const problems: Problem[] = [];
  let report: JsonValue = null;
  if (existsSync(join(abs, 'report.json'))) {
    const r = readJson(join(abs, 'report.json'), joinRel(ref.rel, 'report.json'));
    if (r.problem) problems.push(r.problem);
    else report = r.value;
  }
  const id = data.id(ref);
  const inside = (list: readonly FolderRef[]) =>
    list
      .filter((x) => enclosing([ref], x) !== null && enclosing(data.found().quickstarts, x) === ref)
      .map((x) => data.id(x));
  return {
    id,
    root: ref.root,
    path: ref.rel,
    name: data.name(ref),
    reportUrl: `/files/${id}/report.html`,
    report,
    runs: inside(data.found().runs),
    evals: inside(data.found().evals),
    modified: modifiedIso(join(abs, 'report.html')),
    problems,
  };
}

export function listQuickstarts(data: DashboardData): QuickstartSummary[] {
  return data.each('quickstarts', (ref, abs) => quickstartSummary(data, ref, abs));
}
