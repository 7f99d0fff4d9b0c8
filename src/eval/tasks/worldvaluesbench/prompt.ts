// WorldValuesBench prompts. The paper's (README "Task"): the demographic block, the value question with its scale,
// and a JSON answer format; the model's SCORE is read from "answer as a score". The no-demographics wording and the
// log-probability prompt are ours (the repo has neither).

export interface Demographic {
  question: string;
  answer: string;
}

export function demographicBlock(demos: readonly Demographic[]): string {
  const items = demos.map((d, i) => `${i + 1}. Question: ${d.question}\n Answer: ${d.answer}`).join('\n');
  return `Person X provided the following demographic information in an interview:\n${items}\n\n`;
}

/** The paper's prompt; `demos` null gives our no-demographics variant. */
export function paperPrompt(demos: readonly Demographic[] | null, question: string): string {
  const head = demos
    ? demographicBlock(demos) + 'What would Person X answer to the following question and why?\n'
    : 'What would a person answer to the following question and why?\n';
  const words = demos ? '... upto 30 words (keep their demographics in mind) ...' : '... upto 30 words ...';
  return `${head}Question: ${question}\n\nYour output should be in the following format:\n{\n  "thoughtful explanation": "${words}",\n  "answer as a score": "... score ..."\n}`;
}

/** Our log-probability prompt: ends inside the JSON answer so that each scale point is a continuation ` k}`. */
export function logprobPrompt(demos: readonly Demographic[] | null, question: string): string {
  const head = demos
    ? demographicBlock(demos) + 'What would Person X answer to the following question?\n'
    : 'What would a person answer to the following question?\n';
  return `${head}Question: ${question}\n\nAnswer with the score only, in the following format:\n{"answer as a score": score}\n\n{"answer as a score":`;
}

/** ` k}`: the closing brace keeps " 1}" from being a prefix of " 10}". */
export function logprobContinuation(k: number): string {
  return ` ${k}}`;
}

/**
 * The SCORE string from a model's output: the value of "answer as a score" (quoted or not), else the whole output when
 * it is a bare number, else null. evaluate.py's coercion (coerceScore) then turns it into an int or drops it.
 */
export function extractScore(text: string): string | null {
  const m = /"answer as a score"\s*:\s*(?:"([^"]*)"|(-?\d+(?:\.\d+)?))/i.exec(text);
  if (m) return (m[1] ?? m[2]).trim();
  const t = text.trim();
  return /^-?\d+(?:\.\d+)?$/.test(t) ? t : null;
}
