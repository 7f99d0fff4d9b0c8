// oe-eval output folders (src/eval/runner/outputs.ts): metrics.json lists every task (suites first) with its metrics
// and task_config; each leaf task has task-NNN-NAME-metrics.json, -predictions.jsonl and -requests.jsonl. Task files
// are named by task_name, which several aliases share (synth_world:rc and synth_world:mc), so the alias of each
// file is read from its own metrics file's task_config.metadata.alias.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalDetail, EvalSummary, EvalTaskDetail, JsonValue, Problem } from './api-types.ts';
import type { DashboardData } from './context.ts';
import { isObject, modifiedIso, numberOrNull, readJsonObject, stringOrNull } from './files.ts';
import { joinRel, type FolderRef } from './paths.ts';
import { enclosing } from './scan.ts';

export const RUN_METRICS_FILE = 'metrics.json';

/** alias → the `task-NNN-NAME` prefix of its files. */
export function taskFilePrefixes(abs: string, rel: string, problems: Problem[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(abs).sort()) {
    const m = /^(task-\d{3}-.+)-metrics\.json$/.exec(name);
    if (!m) continue;
    const r = readJsonObject(join(abs, name), joinRel(rel, name));
    if (r.problem) {
      problems.push(r.problem);
      continue;
    }
    const tc = isObject(r.value.task_config) ? r.value.task_config : {};
    const alias = (isObject(tc.metadata) ? stringOrNull(tc.metadata.alias) : null) ?? stringOrNull(r.value.task_name);
    if (alias !== null) out.set(alias, m[1]);
  }
  return out;
}

function modelName(modelConfig: { [k: string]: JsonValue }): string | null {
  for (const k of ['model', 'model_path', 'model_name', 'name']) {
    const v = stringOrNull(modelConfig[k]);
    if (v) return v;
  }
  return null;
}

function readTasks(abs: string, rel: string, problems: Problem[]) {
  const shown = joinRel(rel, RUN_METRICS_FILE);
  const r = readJsonObject(join(abs, RUN_METRICS_FILE), shown);
  if (r.problem) {
    problems.push(r.problem);
    return { tasks: [] as EvalTaskDetail[], modelConfig: {} };
  }
  const prefixes = taskFilePrefixes(abs, rel, problems);
  if (!Array.isArray(r.value.tasks)) problems.push({ file: shown, message: 'has no "tasks" array' });
  const tasks: EvalTaskDetail[] = [];
  (Array.isArray(r.value.tasks) ? r.value.tasks : []).forEach((t, i) => {
    const alias = isObject(t) ? stringOrNull(t.alias) : null;
    if (!isObject(t) || alias === null) {
      problems.push({ file: shown, message: `tasks[${i}] is not an object with an "alias"` });
      return;
    }
    const metrics = isObject(t.metrics) ? t.metrics : {};
    const taskConfig = isObject(t.task_config) ? t.task_config : {};
    const prefix = prefixes.get(alias);
    tasks.push({
      alias,
      primaryMetric: stringOrNull(taskConfig.primary_metric) ?? stringOrNull(taskConfig.aggregation),
      score: numberOrNull(metrics.primary_score),
      numInstances: numberOrNull(t.num_instances),
      isSuite: Array.isArray(taskConfig.members),
      hasPredictions: prefix !== undefined && existsSync(join(abs, `${prefix}-predictions.jsonl`)),
      metrics,
      taskConfig,
    });
  });
  return { tasks, modelConfig: isObject(r.value.model_config) ? r.value.model_config : {} };
}

function readEval(data: DashboardData, ref: FolderRef, abs: string): EvalDetail {
  const problems: Problem[] = [];
  const { tasks, modelConfig } = readTasks(abs, ref.rel, problems);
  const quickstart = enclosing(data.found().quickstarts, ref);
  const summary: EvalSummary = {
    id: data.id(ref),
    root: ref.root,
    path: ref.rel,
    name: data.name(ref),
    model: modelName(modelConfig),
    tasks: tasks.map(({ metrics: _m, taskConfig: _c, ...s }) => s),
    modified: modifiedIso(join(abs, RUN_METRICS_FILE)),
    quickstart: quickstart ? data.id(quickstart) : null,
    problems,
  };
  return { summary, modelConfig, tasks };
}

export function listEvals(data: DashboardData): EvalSummary[] {
  return data.each('evals', (ref, abs) => readEval(data, ref, abs).summary);
}

export function evalDetail(data: DashboardData, id: string): EvalDetail {
  const { ref, abs } = data.folder(id, 'evals');
  return readEval(data, ref, abs);
}
