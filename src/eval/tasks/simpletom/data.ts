// SimpleToM (Gu et al., arXiv 2410.13648): the Hugging Face release `allenai/SimpleToM`, four configs with one `test`
// split each. The three QA configs share one record shape (id, story, question, scenario_name, choices{text,label},
// answerKey); `story-data` holds one record per story (entities, severity, harmfulness/unethicality predictions, the
// aware/action questions). Ids are `<story_id>_<qtype>`, qtype ∈ aware | action | judge, and carry `_sevN`.
import { fieldStr, fieldStrList, RowError, type RowWhere } from '../../data/fields.ts';
import { describeRef, type DatasetSource } from '../../data/source.ts';
import type { Row } from '../../types.ts';

export const SIMPLETOM_PATH = 'allenai/SimpleToM';
export const SIMPLETOM_SPLIT = 'test';
export const SIMPLETOM_QA_CONFIGS = ['mental-state-qa', 'behavior-qa', 'judgment-qa'] as const;
export type SimpleToMQaConfig = (typeof SIMPLETOM_QA_CONFIGS)[number];
export const SIMPLETOM_STORY_CONFIG = 'story-data';

/** The id suffix of each question type (inference/utils.py basic_stats categories). */
export type QuestionType = 'aware' | 'action' | 'judge';
export const CONFIG_QTYPE: Record<SimpleToMQaConfig, QuestionType> = {
  'mental-state-qa': 'aware',
  'behavior-qa': 'action',
  'judgment-qa': 'judge',
};

/** The 10 scenarios of story_generation/seed_data.py SCENARIO_NAMES_TO_STORY. */
export const SIMPLETOM_SCENARIOS = [
  'food_item_in_grocery_store',
  'hidden_body_part_feature',
  'seller_info_in_second_hand_market',
  'inside_containers_for_personal_belongings',
  'inside_reuse_labeled_containers',
  'true_property_pretentious_labels',
  'provider_info_healthcare',
  'behind_the_scene_service_industry',
  'locked_devices_accounts',
  'unobserved_unethical_actions',
];

export interface SimpleToMItem {
  id: string;
  /** the id without its `_<qtype>` suffix: shared by a story's three questions */
  storyId: string;
  qtype: QuestionType;
  /** `sev1` | `sev2` | `sev3` from the id, or "unknown" when the id carries none */
  severity: string;
  scenario: string;
  story: string;
  question: string;
  choices: string[];
  labels: string[];
  answerKey: string;
  gold: number;
}

export function splitId(id: string, where: RowWhere): { storyId: string; qtype: QuestionType; severity: string } {
  const m = /^(.*)_(aware|action|judge)$/.exec(id);
  if (!m) throw new RowError(`${where}: field "id" must end in _aware, _action or _judge, got ${JSON.stringify(id)}`);
  const sev = /_(sev\d+)(?:_|$)/.exec(m[1]);
  return { storyId: m[1], qtype: m[2] as QuestionType, severity: sev ? sev[1] : 'unknown' };
}

/** One QA record; `expected` (when given) is the question type its config must hold. */
export function parseQuestionRow(row: Row, where: RowWhere, expected?: QuestionType): SimpleToMItem {
  const id = fieldStr(row, 'id', where);
  const { storyId, qtype, severity } = splitId(id, where);
  if (expected && qtype !== expected)
    throw new RowError(`${where}: id ${JSON.stringify(id)} is a ${qtype} question, expected ${expected}`);
  const choices = fieldStrList(row, 'choices.text', where, 2);
  const labels = fieldStrList(row, 'choices.label', where, 2);
  if (labels.length !== choices.length)
    throw new RowError(`${where}: ${choices.length} choice texts but ${labels.length} labels`);
  labels.forEach((l, i) => {
    if (l !== 'ABCD'[i])
      throw new RowError(`${where}: choice labels must be A, B, … in order, got ${JSON.stringify(labels)}`);
  });
  const answerKey = fieldStr(row, 'answerKey', where);
  const gold = labels.indexOf(answerKey);
  if (gold < 0)
    throw new RowError(
      `${where}: field "answerKey" must be one of ${labels.join(', ')}, got ${JSON.stringify(answerKey)}`,
    );
  const scen = row.scenario_name;
  if (scen !== undefined && scen !== null && typeof scen !== 'string')
    throw new RowError(`${where}: field "scenario_name" must be a string`);
  return {
    id,
    storyId,
    qtype,
    severity,
    scenario: typeof scen === 'string' && scen !== '' ? scen : 'unknown',
    story: fieldStr(row, 'story', where),
    question: fieldStr(row, 'question', where),
    choices,
    labels,
    answerKey,
    gold,
  };
}

export interface StoryQuestion {
  question_id: string;
  question: string;
  answer_correct: string;
  answer_incorrect: string;
}

export interface StoryRecord {
  story_id: string;
  core_id: string;
  scenario_name: string;
  entities: Record<string, unknown>;
  severity_original: number | null;
  story: string;
  key_information: string;
  story_sentence: string;
  harmfulness_predicted: { harmfulness: number; predictor_model: string }[];
  unethicality_predicted: { unethicality: number; predictor_model: string }[];
  story_generator_model: string;
  questions: StoryQuestion[];
}

export function parseStoryRow(row: Row, where: RowWhere): StoryRecord {
  const optStr = (k: string) => (typeof row[k] === 'string' ? (row[k] as string) : '');
  const list = <T>(k: string): T[] => (Array.isArray(row[k]) ? (row[k] as T[]) : []);
  const sev = row.severity_original;
  if (
    sev !== undefined &&
    sev !== null &&
    !(typeof sev === 'number' || (typeof sev === 'string' && /^\d+$/.test(sev)))
  ) {
    throw new RowError(`${where}: field "severity_original" must be an integer, got ${JSON.stringify(sev)}`);
  }
  const questions = list<Row>('questions').map((q, i) => ({
    question_id: fieldStr(q, 'question_id', `${where} questions[${i}]`),
    question: fieldStr(q, 'question', `${where} questions[${i}]`),
    answer_correct: fieldStr(q, 'answer_correct', `${where} questions[${i}]`),
    answer_incorrect: fieldStr(q, 'answer_incorrect', `${where} questions[${i}]`),
  }));
  return {
    story_id: fieldStr(row, 'story_id', where),
    core_id: optStr('core_id'),
    scenario_name: optStr('scenario_name'),
    entities: row.entities && typeof row.entities === 'object' ? (row.entities as Record<string, unknown>) : {},
    severity_original: sev === undefined || sev === null ? null : Number(sev),
    story: fieldStr(row, 'story', where),
    key_information: optStr('key_information'),
    story_sentence: optStr('story_sentence'),
    harmfulness_predicted: list('harmfulness_predicted'),
    unethicality_predicted: list('unethicality_predicted'),
    story_generator_model: optStr('story_generator_model'),
    questions,
  };
}

/** All questions of one QA config, in file order. */
export async function loadSimpleToM(source: DatasetSource, config: SimpleToMQaConfig): Promise<SimpleToMItem[]> {
  const ref = { path: SIMPLETOM_PATH, name: config, split: SIMPLETOM_SPLIT };
  const { rows } = await source.load(ref);
  const items = rows.map((r, i) => parseQuestionRow(r, `${describeRef(ref)} row ${i}`, CONFIG_QTYPE[config]));
  const seen = new Set<string>();
  for (const [i, it] of items.entries()) {
    if (seen.has(it.id)) throw new RowError(`${describeRef(ref)} row ${i}: duplicate id ${JSON.stringify(it.id)}`);
    seen.add(it.id);
  }
  return items;
}

/** The story-data config, one record per story. */
export async function loadStoryData(source: DatasetSource): Promise<StoryRecord[]> {
  const ref = { path: SIMPLETOM_PATH, name: SIMPLETOM_STORY_CONFIG, split: SIMPLETOM_SPLIT };
  const { rows } = await source.load(ref);
  return rows.map((r, i) => parseStoryRow(r, `${describeRef(ref)} row ${i}`));
}
