// rescore(dir): recompute every metric of a finished run from its saved per-request records, without a model:
// continuations and gold labels from task-*-requests.jsonl, per-request log-probs and token counts from the
// model_output of task-*-predictions.jsonl. Rewrites the per-task metrics and predictions, metrics-all.jsonl and
// metrics.json (keeping processing_time and dates), and returns the run metrics.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scoreMcDoc, UNCOND_DOC_ID_OFFSET, type ModelOutput } from '../task.ts';
import type { LoglikelihoodResult, RequestInstance } from '../types.ts';
import type { SuiteSpec } from '../registry.ts';
import { computeSuites, taskMetrics, writeRunFiles } from './run.ts';
import { jsonl, writeAtomic, type PredictionRecord, type RequestRecord, type RunMetricsFile, type TaskMetricsFile } from './outputs.ts';

function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) throw new Error(`rescore: missing ${path}`);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as T;
      } catch (e) {
        throw new Error(`rescore: ${path}:${i + 1}: malformed JSON (${(e as Error).message})`);
      }
    });
}

export async function rescore(dir: string): Promise<RunMetricsFile> {
  const metricFiles = readdirSync(dir).filter((f) => /^task-\d{3}-.*-metrics\.json$/.test(f)).sort();
  if (metricFiles.length === 0) throw new Error(`rescore: no task-NNN-*-metrics.json files in ${dir}`);
  const tasks: TaskMetricsFile[] = [];
  for (const mf of metricFiles) {
    const base = mf.slice(0, -'metrics.json'.length);
    const file = JSON.parse(readFileSync(join(dir, mf), 'utf8')) as TaskMetricsFile;
    const requests = readJsonl<RequestRecord>(join(dir, base + 'requests.jsonl'));
    const preds = readJsonl<PredictionRecord>(join(dir, base + 'predictions.jsonl'));
    const byDoc = new Map<number, RequestRecord[]>();
    for (const r of requests) {
      const id = r.doc_id >= UNCOND_DOC_ID_OFFSET ? r.doc_id - UNCOND_DOC_ID_OFFSET : r.doc_id;
      const l = byDoc.get(id) ?? [];
      l.push(r);
      byDoc.set(id, l);
    }
    const newPreds: PredictionRecord[] = preds.map((p) => {
      const recs = byDoc.get(p.doc_id);
      const where = `${join(dir, base)}… doc ${p.doc_id}`;
      if (!recs) throw new Error(`rescore: ${where}: no requests saved for this doc`);
      const instances: RequestInstance[] = [];
      const results: LoglikelihoodResult[] = [];
      for (const r of recs) {
        const uncond = r.doc_id >= UNCOND_DOC_ID_OFFSET;
        const out: ModelOutput | undefined = p.model_output[r.idx];
        if (!out) throw new Error(`rescore: ${where}: no model_output for choice ${r.idx}`);
        const logprob = uncond ? out.sum_logits_uncond : out.sum_logits;
        if (typeof logprob !== 'number') throw new Error(`rescore: ${where}: choice ${r.idx} has no ${uncond ? 'sum_logits_uncond' : 'sum_logits'}`);
        instances.push({
          request_type: 'loglikelihood',
          request: { type: 'loglikelihood', context: String(r.request.context), continuation: String(r.request.continuation) },
          task_name: r.task_name,
          doc_id: p.doc_id,
          native_id: r.native_id,
          idx: r.idx,
          label: r.label,
          uncond,
        });
        results.push({ logprob, numTokens: out.num_tokens, isGreedy: out.is_greedy, ...(out.num_tokens_all !== undefined ? { numTokensAll: out.num_tokens_all } : {}) });
      }
      const gold = recs[0].doc.gold;
      return { ...scoreMcDoc(where, p.doc_id, p.native_id, gold, instances, results), task_hash: p.task_hash, model_hash: p.model_hash };
    });
    const metrics = taskMetrics(newPreds.map((p) => p.metrics), file.task_config.primary_metric, file.task_config.alias);
    const updated: TaskMetricsFile = { ...file, metrics };
    writeAtomic(join(dir, base + 'predictions.jsonl'), jsonl(newPreds));
    writeAtomic(join(dir, mf), JSON.stringify(updated, null, 2) + '\n');
    tasks.push(updated);
  }
  const runPath = join(dir, 'metrics.json');
  if (!existsSync(runPath)) throw new Error(`rescore: missing ${runPath}`);
  const oldRun = JSON.parse(readFileSync(runPath, 'utf8')) as RunMetricsFile;
  const specs: SuiteSpec[] = oldRun.tasks
    .filter((t) => (t.task_config as { aggregation?: string }).aggregation !== undefined)
    .map((t) => {
      const c = t.task_config as { aggregation: SuiteSpec['how']; members: string[] };
      return { alias: t.alias, how: c.aggregation, members: c.members };
    });
  const leaves = new Map(tasks.map((f) => [f.task_config.alias, { primary_score: f.metrics.primary_score as number, num_instances: f.num_instances }]));
  return writeRunFiles(dir, tasks, computeSuites(specs, leaves), oldRun.model_config);
}
