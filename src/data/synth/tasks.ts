// Evaluation and post-training data of the embedded corpus, in the field's formats:
//   multiple choice (OLMES / ARC schema): {id, question, choices: {text, label}, answerKey}
//   generative math (GSM8K schema): {id, question, answer: "reasoning\n#### N"}
//   SFT (open-instruct): {id, messages: [{role, content}], source}
//   DPO (open-instruct preference): {id, prompt, chosen: messages, rejected: messages, source}
//   RLVR (open-instruct): {id, messages: [user], ground_truth, dataset: "gsm8k", source}
import type { ChatMessage } from '../../tokenizers/index.ts';
import { Rng } from '../random.ts';
import { equation, wordProblem, type WordProblem } from './text.ts';
import { answerSentence, objectPool, QUESTIONS, STATEMENTS, type Fact, type World } from './world.ts';

export type { ChatMessage };

export interface McRow {
  id: string;
  question: string;
  choices: { text: string[]; label: string[] };
  answerKey: string;
}

export interface GsmRow {
  id: string;
  question: string;
  answer: string;
}

export interface SftRow {
  id: string;
  messages: ChatMessage[];
  source: string;
}

export interface DpoRow {
  id: string;
  prompt: string;
  chosen: ChatMessage[];
  rejected: ChatMessage[];
  source: string;
}

export interface RlvrRow {
  id: string;
  messages: ChatMessage[];
  ground_truth: string;
  dataset: string;
  source: string;
}

const LABELS = ['A', 'B', 'C', 'D'];

function mcRow(id: string, question: string, answer: string, distractors: string[], rng: Rng): McRow {
  const options = rng.shuffle([answer, ...distractors]);
  return {
    id,
    question,
    choices: { text: options, label: LABELS.slice(0, options.length) },
    answerKey: LABELS[options.indexOf(answer)],
  };
}

/** One MC row per fact: the question template, the right object and 3 objects of the same type. */
export function worldMc(world: World, facts: readonly Fact[], rng: Rng): McRow[] {
  return facts.map((f) => {
    const pool = objectPool(world, f.relation).filter((o) => o !== f.object && o !== f.subject);
    return mcRow(
      `synth_world:${f.id}`,
      QUESTIONS[f.relation](f.subject),
      f.object,
      rng.sample([...new Set(pool)], 3),
      rng,
    );
  });
}

/** Arithmetic MC: "What is a + b?" with near-miss distractors. */
export function arithmeticMc(n: number, rng: Rng, prefix: string): McRow[] {
  const rows: McRow[] = [];
  const seen = new Set<string>();
  for (let guard = 0; rows.length < n && guard < n * 50; guard++) {
    const e = equation(rng);
    const question = `What is ${e.a} ${e.op} ${e.b}?`;
    if (seen.has(question)) continue;
    seen.add(question);
    const wrong = new Set<number>();
    for (const d of rng.shuffle([-3, -2, -1, 1, 2, 3, 10, -10])) {
      const v = e.result + d;
      if (v >= 0 && wrong.size < 3) wrong.add(v);
    }
    rows.push(mcRow(`${prefix}:${rows.length}`, question, String(e.result), [...wrong].map(String), rng));
  }
  return rows;
}

/** Word problems whose question text is not in `avoid` (strings used in any training text) nor repeated. */
export function freshWordProblems(world: World, n: number, rng: Rng, avoid: Set<string>): WordProblem[] {
  const out: WordProblem[] = [];
  for (let guard = 0; out.length < n && guard < n * 100; guard++) {
    const wp = wordProblem(world, rng);
    if (avoid.has(wp.question)) continue;
    avoid.add(wp.question);
    out.push(wp);
  }
  return out;
}

export function gsmRows(problems: readonly WordProblem[], prefix: string): GsmRow[] {
  return problems.map((p, i) => ({ id: `${prefix}:${i}`, question: p.question, answer: p.gsm8k }));
}

const GREETINGS: [string, string][] = [
  ['Hello!', 'Hello! How can I help you today?'],
  [
    'Hi, who are you?',
    'I am a small assistant. I can answer questions about the world I know and solve simple math problems.',
  ],
  ['Thank you!', 'You are welcome!'],
  ['Can you help me with a math problem?', 'Yes, of course. Tell me the problem and I will solve it step by step.'],
];

/** SFT conversations: fact questions answered with a full sentence, worked word problems, a few greetings. */
export function sftRows(facts: readonly Fact[], problems: readonly WordProblem[], rng: Rng, prefix: string): SftRow[] {
  const rows: SftRow[] = [];
  for (const f of facts) {
    rows.push({
      id: `${prefix}:fact:${f.id}`,
      messages: [
        { role: 'user', content: QUESTIONS[f.relation](f.subject) },
        { role: 'assistant', content: answerSentence(f) },
      ],
      source: 'synth_world',
    });
  }
  problems.forEach((p, i) =>
    rows.push({
      id: `${prefix}:math:${i}`,
      messages: [
        { role: 'user', content: p.question },
        { role: 'assistant', content: p.solution },
      ],
      source: 'synth_math',
    }),
  );
  // Two-turn conversations mixing both.
  for (let i = 0; i < Math.min(facts.length, 40); i++) {
    const f = rng.pick(facts);
    const g = rng.pick(GREETINGS);
    rows.push({
      id: `${prefix}:chat:${i}`,
      messages: [
        { role: 'user', content: g[0] },
        { role: 'assistant', content: g[1] },
        { role: 'user', content: QUESTIONS[f.relation](f.subject) },
        { role: 'assistant', content: answerSentence(f) },
      ],
      source: 'synth_chat',
    });
  }
  return rng.shuffle(rows);
}

/**
 * The worked solution with a wrong final result (the same format as the right one, so the preference is about the
 * arithmetic, not the style: a bare "The answer is N." as the rejected reply teaches DPO to avoid the format).
 */
function wrongSolution(p: WordProblem, bad: number): string {
  return p.solution
    .replace(new RegExp(`= ${p.answer}\\b`, 'g'), `= ${bad}`)
    .replace(`The answer is ${p.answer}.`, `The answer is ${bad}.`);
}

/** Preference pairs: the right answer sentence against one naming a wrong object, or a worked solution with a wrong result. */
export function dpoRows(world: World, facts: readonly Fact[], problems: readonly WordProblem[], rng: Rng): DpoRow[] {
  const rows: DpoRow[] = [];
  for (const f of facts) {
    const wrong = rng.pick(objectPool(world, f.relation).filter((o) => o !== f.object && o !== f.subject));
    const prompt = QUESTIONS[f.relation](f.subject);
    rows.push({
      id: `synth_dpo:fact:${f.id}`,
      prompt,
      chosen: [
        { role: 'user', content: prompt },
        { role: 'assistant', content: answerSentence(f) },
      ],
      rejected: [
        { role: 'user', content: prompt },
        { role: 'assistant', content: STATEMENTS[f.relation][0](f.subject, wrong) },
      ],
      source: 'synth_world',
    });
  }
  problems.forEach((p, i) => {
    const off = rng.pick([-2, -1, 1, 2]);
    const bad = Math.max(0, p.answer + off) === p.answer ? p.answer + 1 : Math.max(0, p.answer + off);
    rows.push({
      id: `synth_dpo:math:${i}`,
      prompt: p.question,
      chosen: [
        { role: 'user', content: p.question },
        { role: 'assistant', content: p.solution },
      ],
      rejected: [
        { role: 'user', content: p.question },
        { role: 'assistant', content: wrongSolution(p, bad) },
      ],
      source: 'synth_math',
    });
  });
  return rng.shuffle(rows);
}

/**
 * RLVR prompts with a verifiable final number (open-instruct's gsm8k verifier: last number in the reply). The
 * prompt is the bare question, worded exactly as the SFT math rows: the quickstart SFT model never saw an
 * instruction suffix, and one (' Show your work and end with "The answer is N."') dropped its greedy verified
 * rate on rlvr/test from 40.5% to 4% (it stopped copying the question's names and numbers into its worked line).
 */
export function rlvrRows(problems: readonly WordProblem[], prefix: string): RlvrRow[] {
  return problems.map((p, i) => ({
    id: `${prefix}:${i}`,
    messages: [{ role: 'user', content: p.question }],
    ground_truth: String(p.answer),
    dataset: 'gsm8k',
    source: 'synth_math',
  }));
}
