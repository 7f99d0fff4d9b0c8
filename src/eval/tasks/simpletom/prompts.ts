// SimpleToM prompts. The paper's (inference/utils.py question_prompt, make_mcq; prompts.py COT_PROMPT), byte-exact:
//
//   Given the following story, answer the question by giving the correct answer choice, (A) or (B).
//
//   Story:
//   {story}
//   {REMINDER}
//   Question: {question}␠
//   (A) {choice0}␠
//   (B) {choice1}
//
//   What is the correct answer? {FINAL} "(A)" or "(B)"
//
// sent as a chat (system "You are a helpful assistant.", then the user message), and the OLMES port's template.
import type { ChatMessage } from '../../../tokenizers/index.ts';
import type { SimpleToMItem } from './data.ts';

export const SIMPLETOM_SYSTEM_PROMPT = 'You are a helpful assistant.';
export const FINAL_PLAIN = 'Respond with just';
/** prompts.py COT_PROMPT (its trailing space gives the double space before "(A)"). */
export const FINAL_COT =
  'Think step by step to arrive at an answer. Start your response by explaining your reasoning process and end your response with "Therefore, the answer is: " followed by ';
export const EITHER_CHOICE = 'Both (A) and (B) are likely';
export const NEITHER_CHOICE = 'Neither (A) nor (B) is likely';
const LABELS = ['A', 'B', 'C', 'D', 'E'];

/** make_mcq: `{question} \n(A) c0 \n(B) c1`. */
export function makeMcq(question: string, choices: readonly string[]): string {
  return `${question} \n${choices.map((c, i) => `(${LABELS[i]}) ${c}`).join(' \n')}`;
}

export interface QuestionPromptOptions {
  cot?: boolean;
  /** an earlier question and the answer letter to show for it (the mental-state reminder) */
  reminder?: { item: Pick<SimpleToMItem, 'question' | 'choices'>; answer: string };
  addEither?: boolean;
  addNeither?: boolean;
}

/** question_prompt: the user message of the paper's protocol. */
export function questionPrompt(
  item: Pick<SimpleToMItem, 'story' | 'question' | 'choices'>,
  opts: QuestionPromptOptions = {},
): string {
  const extra = [...(opts.addEither ? [EITHER_CHOICE] : []), ...(opts.addNeither ? [NEITHER_CHOICE] : [])];
  const choices = [...item.choices, ...extra];
  let reminder = '';
  if (opts.reminder) {
    const r = opts.reminder;
    reminder = `\nQuestion: ${makeMcq(r.item.question, [...r.item.choices, ...extra])}\nAnswer: (${r.answer})\n`;
  }
  const labels = ['(A)', '(B)', '(C)', '(D)'].slice(0, choices.length);
  const labelText = labels.join(' or ');
  const quoted = labels.map((l) => `"${l}"`).join(' or ');
  const final = opts.cot ? FINAL_COT : FINAL_PLAIN;
  return (
    `Given the following story, answer the question by giving the correct answer choice, ${labelText}.\n\n` +
    `Story:\n${item.story}\n${reminder}\nQuestion: ${makeMcq(item.question, choices)}\n\n` +
    `What is the correct answer? ${final} ${quoted}\n`
  );
}

/** The OLMES port's template (oe_eval simpletom.py): no spaces before newlines, no trailing newline. */
export function olmesPrompt(item: Pick<SimpleToMItem, 'story' | 'question' | 'choices'>): string {
  const options = item.choices.map((c, i) => `\n(${LABELS[i]}) ${c}`).join('');
  return (
    'Given the following story, answer the question by giving the correct answer choice, (A) or (B).\n\n' +
    `Story:\n${item.story}\n\nQuestion: ${item.question}${options}\n\nWhat is the correct answer? Respond with just "(A)" or "(B)"`
  );
}

export function chatMessages(user: string): ChatMessage[] {
  return [
    { role: 'system', content: SIMPLETOM_SYSTEM_PROMPT },
    { role: 'user', content: user },
  ];
}
