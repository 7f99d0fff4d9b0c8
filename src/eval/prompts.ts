// OLMES prompt builders (oe_eval/tasks/utils.py make_mcq_prompt / make_cloze_prompt) and few-shot assembly
// (oe_eval/tasks/base_task.py fewshot_context, plain-text form).

export const CHOICE_LABELS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');

export interface McqPromptOptions {
  questionPrefix?: string;
  choicesPrefix?: string;
  answerPrefix?: string;
  labelPrefix?: string;
}

/**
 * `{question_prefix}{question}\n{choices_prefix}{lines}\nAnswer:` where each line is `␠{L}.␠{text}`
 * (label_prefix " " then "A." then a space) and lines are joined by "\n".
 */
export function makeMcqPrompt(question: string, choices: readonly string[], opts: McqPromptOptions = {}): string {
  const { questionPrefix = 'Question: ', choicesPrefix = '', answerPrefix = 'Answer:', labelPrefix = ' ' } = opts;
  if (choices.length > CHOICE_LABELS.length)
    throw new Error(`makeMcqPrompt: ${choices.length} choices, at most 26 supported`);
  const lines = choices.map((text, i) => `${labelPrefix}${CHOICE_LABELS[i]}. ${text}`).join('\n');
  return `${questionPrefix}${question}\n${choicesPrefix}${lines}\n${answerPrefix}`;
}

/** `{question_prefix}{question}\n{answer_prefix}` with default prefix "Question: " and "Answer:". */
export function makeClozePrompt(question: string, questionPrefix = 'Question: ', answerPrefix = 'Answer:'): string {
  return `${questionPrefix}${question}\n${answerPrefix}`;
}

/** The MC letters for n choices: ["A", "B", …]. */
export function choiceLabels(n: number): string[] {
  return CHOICE_LABELS.slice(0, n);
}

export interface FewshotExample {
  text: string;
  target: string;
}

/**
 * OLMES's plain-text few-shot context: description + Σ(text+target joined by "\n\n") + "\n\n" + query.
 * With no shots the result is description + query. The query ends with "Answer:" (no trailing space).
 */
export function fewshotContext(query: string, shots: readonly FewshotExample[], description = ''): string {
  const labeled = shots.length === 0 ? '' : shots.map((s) => s.text + s.target).join('\n\n') + '\n\n';
  return description + labeled + query;
}

/** The unconditioned (PMI) context: the literal "Answer:", with no shots and no question. */
export const UNCONDITIONED_CONTEXT = 'Answer:';
