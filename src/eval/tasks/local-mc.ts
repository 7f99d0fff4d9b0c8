// Local multiple-choice datasets in ARC's schema — one JSON object per row:
//   {"id": "...", "question": "...", "choices": {"text": [...], "label": ["A", "B", ...]}, "answerKey": "B"}
// in `<data dir>/<name>/{train,test}.jsonl` (any layout LocalHfFolderSource reads). The synthetic corpus
// (src/data synthesize()) writes `eval/synth_world` and `eval/synth_arith` this way; they are registered as
// `synth_world` and `synth_arith`, and any other folder can be registered under its own name (localMcFamily).
//
// Formats as OLMES's ARC-Easy: RC scores " {choice text}" after "Question: {q}\nAnswer:" with acc_per_char as the
// primary metric (PMI's acc_uncond as a side metric); MC lists " A. text" lines and scores " A"…, acc_raw.
// Differences from the OLMES tasks, by necessity: there are no curated few-shot examples, so the shots are the
// first k rows of the train split in file order (k = 5 unless --num-shots); no 1,000-instance sample is taken
// (limit null: every test row, unless --limit).
import { checkIndex, fieldStr, fieldStrList, RowError } from '../data/fields.ts';
import { TaskIdError } from '../task-id.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

const NUM_TO_LETTER: Record<string, string> = { '1': 'A', '2': 'B', '3': 'C', '4': 'D', '5': 'E' };

/** question, choices.text, and the gold index: answerKey's position in choices.label (a digit 1–5 also matches A–E). */
export function extractLocalMc(row: Row, where: string): Extracted {
  const question = fieldStr(row, 'question', where);
  const choices = fieldStrList(row, 'choices.text', where, 2);
  const key = fieldStr(row, 'answerKey', where).trim();
  const labels = (row.choices as { label?: unknown }).label;
  let gold: number;
  if (Array.isArray(labels)) {
    if (labels.length !== choices.length)
      throw new RowError(
        `${where}: "choices.label" has ${labels.length} entries but "choices.text" has ${choices.length}`,
      );
    gold = labels.indexOf(key);
    if (gold < 0 && NUM_TO_LETTER[key]) gold = labels.indexOf(NUM_TO_LETTER[key]);
    if (gold < 0)
      throw new RowError(
        `${where}: field "answerKey" ${JSON.stringify(key)} is not one of choices.label ${JSON.stringify(labels)}`,
      );
  } else {
    gold = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.indexOf(NUM_TO_LETTER[key] ?? key);
    if (gold < 0 || key.length !== 1)
      throw new RowError(`${where}: field "answerKey" must be a letter or 1–5, got ${JSON.stringify(key)}`);
  }
  return { question, choices, gold: checkIndex(gold, choices.length, where, 'answerKey index') };
}

/** A local ARC-schema MC task named `name`, read from `<data dir>/<datasetPath ?? name>/{test,train}`. */
export function localMcFamily(name: string, datasetPath = name): McTaskFamily {
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new TaskIdError(`local MC task name ${JSON.stringify(name)}: use letters, digits, "_", "-" and "."`);
  return {
    name,
    datasetPath,
    evalSplit: 'test',
    fewshotSplit: 'train',
    fewshotSource: null,
    numShots: 5,
    limit: null,
    nativeIdField: 'id',
    formats: mcFormats({ extract: extractLocalMc, nativeIdField: 'id', rcPrimary: 'acc_per_char', rcUncond: true }),
  };
}

export const synthWorld = localMcFamily('synth_world');
export const synthArith = localMcFamily('synth_arith');
/** The synthetic corpus's MC tasks (registered in ../registry.ts). */
export const LOCAL_MC_FAMILIES: McTaskFamily[] = [synthWorld, synthArith];

/**
 * The local_mc:NAME[:mc|:rc][::regime] ids of a task list as plain ids (`NAME[:fmt]::regime`), and the families of
 * the NAMEs that `known` (the registry's MC families) does not hold yet, to pass to the registry. A NAME that is
 * already a task for another dataset is refused.
 */
export function localMcIds(
  ids: readonly string[],
  known: (name: string) => McTaskFamily | undefined,
): { ids: string[]; families: McTaskFamily[] } {
  const families = new Map<string, McTaskFamily>();
  const out = ids.map((id) => {
    if (!id.startsWith('local_mc:')) return id;
    const m = /^local_mc:([^:]+)((?::(?:mc|rc))?)((?:::.+)?)$/.exec(id.trim());
    if (!m) throw new TaskIdError(`task id ${JSON.stringify(id)}: expected local_mc:NAME[:mc|:rc][::regime]`);
    const [, name, fmt, regime] = m;
    const existing = known(name);
    if (existing && existing.datasetPath !== name) {
      throw new TaskIdError(
        `task id ${JSON.stringify(id)}: ${name} is already a task (dataset ${existing.datasetPath}); rename the folder`,
      );
    }
    if (!existing && !families.has(name)) families.set(name, localMcFamily(name));
    return `${name}${fmt}${regime || '::olmes'}`;
  });
  return { ids: out, families: [...families.values()] };
}
