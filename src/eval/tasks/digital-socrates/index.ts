// Digital Socrates (explanation critiques over DS Critique Bank): parser, prompt, tasks and the critic mode.
export * from './critique.ts';
export {
  DIGITAL_SOCRATES_TASKS,
  DigitalSocratesTask,
  DigitalSocratesStudentTask,
  dsItemFromRow,
  parseStudentOutput,
  studentPrompt,
  CRITIQUE_GENERATION,
  DSCB_PATH,
  DEFAULT_REFERENCE_CRITIC,
  type DsItem,
  type DigitalSocratesOptions,
  type PromptStyle,
  type Reference,
} from './tasks.ts';
export {
  GenerationTask,
  RowsSource,
  datasetFolders,
  findDatasetFile,
  pearson,
  spearman,
  averageRanks,
  distinctN,
  type ChatMessage,
  type ChatGenerateRequest,
  type GenDoc,
  type ScoredDoc,
  type GenerationTaskConfig,
  type GenerationTaskFactory,
} from './generation-task.ts';
