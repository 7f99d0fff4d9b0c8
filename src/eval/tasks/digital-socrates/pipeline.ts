// Two-stage evaluations: a first model generates, a second model (any Backend) judges what it generated. Each
// stage is an ordinary runEval run in its own folder (`<out>/<stage1>/`, `<out>/<stage2>/`), so both write the
// oe-eval files and both resume from their request caches. Not imported by the registry; ../../critic-modes.ts
// wires both modes to `olmo eval --critic-model | --critic-openai`.
//
//   Digital Socrates critic mode: runDigitalSocratesCriticMode({ student, critic, source, outputDir })
//     stage 1 `digital_socrates_student` (student answers and explains), stage 2 `digital_socrates_critic` (the
//     critic critiques each explanation: mean explanation score, dimension shares, flaw rate when right / wrong).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonLines } from '../../../io/jsonl.ts';
import type { DatasetSource } from '../../data/source.ts';
import type { Backend } from '../../runner/backend.ts';
import { taskFileName, type PredictionRecord } from '../../runner/outputs.ts';
import { runEval, type EvalProgress, type EvalRunResult } from '../../runner/run.ts';
import type { Task } from '../../task.ts';
import { DigitalSocratesStudentTask, DigitalSocratesTask, type DsItem, type PromptStyle } from './tasks.ts';
import type { CritiqueTemplate } from './critique.ts';

export interface StageCommon {
  source: DatasetSource;
  outputDir: string;
  batchSize?: number;
  log?: (text: string) => void;
  onProgress?: (stage: string, p: EvalProgress) => void;
  computeConfig?: Record<string, unknown>;
}

/** Run one task with one backend into `dir`; returns the run result and the task's predictions. */
export async function runStage(
  task: Task,
  backend: Backend,
  dir: string,
  o: StageCommon,
  stage: string,
): Promise<{ result: EvalRunResult; predictions: PredictionRecord[] }> {
  const result = await runEval({
    tasks: { tasks: [task], suites: [] },
    source: o.source,
    outputDir: dir,
    backend,
    batchSize: o.batchSize,
    log: o.log,
    onProgress: o.onProgress ? (p) => o.onProgress!(stage, p) : undefined,
    computeConfig: { ...(o.computeConfig ?? {}), stage },
  });
  return {
    result,
    predictions: readPredictions(join(dir, taskFileName(0, task.config.task_name, 'predictions.jsonl'))),
  };
}

export function readPredictions(path: string): PredictionRecord[] {
  if (!existsSync(path)) throw new Error(`missing predictions file ${path}`);
  return readJsonLines<PredictionRecord>(path);
}

export interface CriticModeOptions extends StageCommon {
  student: Backend;
  critic: Backend;
  /** DSCB split whose questions the student answers (default DSCB-dev-crowd-anno; one item per qid) */
  split?: string;
  limit?: number | null;
  promptStyle?: PromptStyle;
  template?: CritiqueTemplate;
}

/** Critique items from the student stage's predictions. */
export function itemsFromStudentPredictions(
  preds: readonly PredictionRecord[],
  studentName: string,
  where: string,
): DsItem[] {
  return preds.map((p, i) => {
    const o = (p.model_output as unknown as Record<string, unknown>[])[0];
    if (!o || typeof o.question !== 'string' || typeof o.gold_answer !== 'string') {
      throw new Error(`${where}: prediction ${i} (doc ${p.doc_id}) lacks question / gold_answer in model_output[0]`);
    }
    return {
      id: `${p.native_id}|${studentName}`,
      qid: String(p.native_id),
      question: o.question,
      gold_answer: o.gold_answer,
      student_model: studentName,
      student_answer: typeof o.answer === 'string' ? o.answer : 'none',
      student_explanation: typeof o.explanation === 'string' ? o.explanation : '',
      student_accuracy: typeof o.correct === 'number' ? o.correct : null,
      human_score: null,
      human_annotations: 0,
      ref_critique: null,
    };
  });
}

export async function runDigitalSocratesCriticMode(
  o: CriticModeOptions,
): Promise<{ student: EvalRunResult; critic: EvalRunResult; items: DsItem[] }> {
  const studentTask = DigitalSocratesStudentTask.create({ split: o.split, limit: o.limit });
  const studentDir = join(o.outputDir, 'student');
  const s = await runStage(studentTask, o.student, studentDir, o, 'student');
  const items = itemsFromStudentPredictions(s.predictions, o.student.name, studentDir);
  const criticTask = DigitalSocratesTask.create({
    name: 'digital_socrates_critic',
    split: o.split ?? 'DSCB-dev-crowd-anno',
    reference: 'none',
    promptStyle: o.promptStyle,
    template: o.template,
    items,
  });
  const c = await runStage(criticTask, o.critic, join(o.outputDir, 'critic'), o, 'critic');
  return { student: s.result, critic: c.result, items };
}
