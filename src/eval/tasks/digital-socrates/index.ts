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
