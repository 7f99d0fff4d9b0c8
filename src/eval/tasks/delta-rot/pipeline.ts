// δ-RoT judged evaluation (OUR protocol): stage 1 `delta_rot` with the generator backend in `<out>/generation/`,
// stage 2 `delta_rot_judge` with the critic backend in `<out>/judge/`. Both stages write the oe-eval files and
// resume from their own request caches.
import { join } from 'node:path';
import type { Backend } from '../../runner/backend.ts';
import type { EvalRunResult } from '../../runner/run.ts';
import { runStage, type StageCommon } from '../digital-socrates/pipeline.ts';
import { DeltaRotGenerationTask, DeltaRotJudgeTask, type Direction, type JudgeItem } from './tasks.ts';
import type { PredictionRecord } from '../../runner/outputs.ts';

export interface JudgedOptions extends StageCommon {
  generator: Backend;
  judge: Backend;
  limit?: number | null;
  numSamples?: number;
  numShots?: number;
}

/** One judge item per generated sample (unparseable generations kept, with null context / rationale). */
export function judgeItemsFromPredictions(preds: readonly PredictionRecord[], where: string): JudgeItem[] {
  return preds.flatMap((p) => {
    const outs = p.model_output as unknown as Record<string, unknown>[];
    const nid = String(p.native_id);
    const tab = nid.indexOf('\t');
    if (tab < 0)
      throw new Error(
        `${where}: prediction for doc ${p.doc_id} has native_id ${JSON.stringify(nid)}, expected "<direction>\\t<action>"`,
      );
    const direction = Number(nid.slice(0, tab)) as Direction;
    const action = nid.slice(tab + 1);
    return outs.map((o, j) => ({
      id: `${nid}\t${j}`,
      action,
      direction,
      context: typeof o.context === 'string' ? o.context : null,
      rationale: typeof o.rationale === 'string' ? o.rationale : null,
    }));
  });
}

export async function runDeltaRotJudged(
  o: JudgedOptions,
): Promise<{ generation: EvalRunResult; judge: EvalRunResult; items: JudgeItem[] }> {
  const gen = DeltaRotGenerationTask.create({ limit: o.limit, numSamples: o.numSamples, numShots: o.numShots });
  const genDir = join(o.outputDir, 'generation');
  const g = await runStage(gen, o.generator, genDir, o, 'generation');
  const items = judgeItemsFromPredictions(g.predictions, genDir);
  const j = await runStage(
    DeltaRotJudgeTask.create(items, { generator: o.generator.name }),
    o.judge,
    join(o.outputDir, 'judge'),
    o,
    'judge',
  );
  return { generation: g.result, judge: j.result, items };
}
