// MMLU (oe_eval mmlu.py, cais/mmlu, one config per subject): header
// "The following are multiple choice questions (with answers) about {subject with _ → space}.\n\n" before the
// first shot in both RC and MC; shots are the first 5 rows of `dev` in order; test split, all docs.
import { checkIndex, fieldInt, fieldStr, fieldStrList } from '../data/fields.ts';
import type { McTaskFamily } from '../kinds/multiple-choice.ts';
import type { Row } from '../types.ts';
import { mcFormats, type Extracted } from './common.ts';

export const MMLU_SUBJECTS = [
  'abstract_algebra',
  'anatomy',
  'astronomy',
  'business_ethics',
  'clinical_knowledge',
  'college_biology',
  'college_chemistry',
  'college_computer_science',
  'college_mathematics',
  'college_medicine',
  'college_physics',
  'computer_security',
  'conceptual_physics',
  'econometrics',
  'electrical_engineering',
  'elementary_mathematics',
  'formal_logic',
  'global_facts',
  'high_school_biology',
  'high_school_chemistry',
  'high_school_computer_science',
  'high_school_european_history',
  'high_school_geography',
  'high_school_government_and_politics',
  'high_school_macroeconomics',
  'high_school_mathematics',
  'high_school_microeconomics',
  'high_school_physics',
  'high_school_psychology',
  'high_school_statistics',
  'high_school_us_history',
  'high_school_world_history',
  'human_aging',
  'human_sexuality',
  'international_law',
  'jurisprudence',
  'logical_fallacies',
  'machine_learning',
  'management',
  'marketing',
  'medical_genetics',
  'miscellaneous',
  'moral_disputes',
  'moral_scenarios',
  'nutrition',
  'philosophy',
  'prehistory',
  'professional_accounting',
  'professional_law',
  'professional_medicine',
  'professional_psychology',
  'public_relations',
  'security_studies',
  'sociology',
  'us_foreign_policy',
  'virology',
  'world_religions',
] as const;

export function mmluHeader(subject: string): string {
  return `The following are multiple choice questions (with answers) about ${subject.replaceAll('_', ' ')}.\n\n`;
}

export function extractMmlu(row: Row, where: string): Extracted {
  const question = fieldStr(row, 'question', where);
  const choices = fieldStrList(row, 'choices', where, 2);
  const gold = checkIndex(fieldInt(row, 'answer', where), choices.length, where, 'answer');
  return { question, choices, gold };
}

export function mmluTask(subject: string): McTaskFamily {
  return {
    name: `mmlu_${subject}`,
    datasetPath: 'cais/mmlu',
    datasetName: subject,
    evalSplit: 'test',
    fewshotSplit: 'dev',
    fewshotSource: null,
    numShots: 5,
    limit: null,
    nativeIdField: null,
    description: mmluHeader(subject),
    formats: mcFormats({ extract: extractMmlu, nativeIdField: null, rcPrimary: 'acc_per_char', rcUncond: true }),
  };
}
