// Text generators of the embedded corpus: one function per source, each producing one document's text from a
// generator (so the output depends only on the seed and the document's position).
import { Rng } from '../random.ts';
import { article, CONTAINERS, ITEMS, QUESTIONS, STATEMENTS, type Fact, type World } from './world.ts';

// ---------------------------------------------------------------------------------------------------------------
// World facts (pretraining): paragraphs of fact statements in varied templates, grouped around one entity.

export function worldFactsDoc(world: World, rng: Rng): string {
  const n = rng.range(6, 14);
  const anchor = rng.pick(world.facts);
  const related = world.facts.filter((f) => f.subject === anchor.subject || f.object === anchor.subject);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = i < related.length && rng.chance(0.5) ? rng.pick(related) : rng.pick(world.facts);
    out.push(rng.pick(STATEMENTS[f.relation])(f.subject, f.object));
  }
  return out.join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Stories (pretraining): short narratives consistent with the world's facts plus random events.

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const WEATHER = ['sunny', 'rainy', 'windy', 'cold', 'warm', 'foggy'];
const FEELINGS = ['happy', 'tired', 'surprised', 'calm', 'proud', 'hungry'];
const ACTIVITIES = ['walked by the river', 'ate soup', 'played cards', 'sang songs', 'cooked dinner', 'read a book'];
const FOUND = ['a small key', 'an old map', 'a blue stone', 'a lost glove', 'a silver coin', 'a wooden toy'];

export function storyDoc(world: World, rng: Rng): string {
  const p = rng.pick(world.people);
  const home = world.cities.find((c) => c.name === p.city)!;
  const trip = rng.pick(world.cities);
  const s: string[] = [];
  s.push(
    rng.pick([
      `Once upon a time, ${p.name} the ${p.job} lived in ${p.city}, a city in ${home.country}.`,
      `${p.name} was ${article(p.job)} who lived in ${p.city}.`,
      `This is a story about ${p.name}, ${article(p.job)} from ${p.city}.`,
    ]),
  );
  s.push(
    rng.pick([
      `${p.name} had a pet ${p.pet}.`,
      `Every morning, ${p.name} fed the ${p.pet}.`,
      `The ${p.pet} of ${p.name} was always close by.`,
    ]),
  );
  s.push(`One ${rng.pick(WEATHER)} ${rng.pick(DAYS)}, ${p.name} went to ${trip.name}.`);
  if (trip.name !== p.city)
    s.push(
      `${trip.name} is famous for its ${trip.famousFor}, and ${p.name} looked at the ${trip.famousFor} for a long time.`,
    );
  else s.push(`${p.name} walked past the ${trip.famousFor} of ${trip.name}.`);
  if (rng.chance(0.5)) s.push(`On the way, ${p.name} found ${rng.pick(FOUND)}.`);
  s.push(
    rng.pick([
      `Later, ${p.name} met ${p.friend}, the best friend of ${p.name}, and they ${rng.pick(ACTIVITIES)} together.`,
      `Then ${p.name} visited ${p.friend}, and the two friends ${rng.pick(ACTIVITIES)}.`,
    ]),
  );
  if (rng.chance(0.5))
    s.push(`${p.name} wore something ${p.color}, because ${p.color} was the favorite color of ${p.name}.`);
  s.push(`In the evening, ${p.name} went back home to ${p.city} and felt ${rng.pick(FEELINGS)}.`);
  s.push(rng.pick(['The end.', `${p.name} slept well that night.`, `It had been a good day.`]));
  return s.join(' ');
}

// ---------------------------------------------------------------------------------------------------------------
// Arithmetic: equations with small numbers and word problems.

export interface WordProblem {
  question: string;
  /** Worked solution ending in "The answer is N." */
  solution: string;
  /** GSM8K-style answer: reasoning, then "#### N". */
  gsm8k: string;
  answer: number;
}

export function equation(rng: Rng): { text: string; a: number; b: number; op: string; result: number } {
  const kind = rng.int(3);
  if (kind === 0) {
    const a = rng.range(0, 20);
    const b = rng.range(0, 20);
    return { text: `${a} + ${b} = ${a + b}`, a, b, op: '+', result: a + b };
  }
  if (kind === 1) {
    const a = rng.range(0, 20);
    const b = rng.range(0, a);
    return { text: `${a} - ${b} = ${a - b}`, a, b, op: '-', result: a - b };
  }
  const a = rng.range(1, 10);
  const b = rng.range(1, 10);
  return { text: `${a} * ${b} = ${a * b}`, a, b, op: '*', result: a * b };
}

export function wordProblem(world: World, rng: Rng): WordProblem {
  const p = rng.pick(world.people).name;
  const q = rng.pick(world.people.filter((x) => x.name !== p)).name;
  const item = rng.pick(ITEMS);
  const kind = rng.int(4);
  if (kind === 0) {
    const a = rng.range(1, 20);
    const b = rng.range(1, 20);
    const c = a + b;
    const question = `${p} has ${a} ${item}. ${q} gives ${p} ${b} more ${item}. How many ${item} does ${p} have now?`;
    const work = `${p} has ${a} + ${b} = ${c} ${item}.`;
    return { question, solution: `${work} The answer is ${c}.`, gsm8k: `${work}\n#### ${c}`, answer: c };
  }
  if (kind === 1) {
    const a = rng.range(2, 20);
    const b = rng.range(1, a);
    const c = a - b;
    const question = `${p} had ${a} ${item} and gave ${b} of them to ${q}. How many ${item} does ${p} have left?`;
    const work = `${p} has ${a} - ${b} = ${c} ${item} left.`;
    return { question, solution: `${work} The answer is ${c}.`, gsm8k: `${work}\n#### ${c}`, answer: c };
  }
  if (kind === 2) {
    const a = rng.range(2, 9);
    const b = rng.range(2, 9);
    const box = rng.pick(CONTAINERS);
    const c = a * b;
    const question = `${p} has ${a} ${box} with ${b} ${item} in each. How many ${item} does ${p} have in total?`;
    const work = `${p} has ${a} * ${b} = ${c} ${item}.`;
    return { question, solution: `${work} The answer is ${c}.`, gsm8k: `${work}\n#### ${c}`, answer: c };
  }
  const a = rng.range(1, 12);
  const b = rng.range(1, 12);
  const d = rng.range(1, a + b);
  const c = a + b - d;
  const question = `${p} has ${a} ${item} and buys ${b} more. Then ${p} gives ${d} ${item} to ${q}. How many ${item} does ${p} have now?`;
  const work = `${p} has ${a} + ${b} = ${a + b} ${item}, then ${a + b} - ${d} = ${c} ${item}.`;
  return { question, solution: `${work} The answer is ${c}.`, gsm8k: `${work}\n#### ${c}`, answer: c };
}

const WORDS: Record<string, string> = { '+': 'plus', '-': 'minus', '*': 'times' };

/** Pretraining arithmetic: equations, spelled-out sums and short word problems stated with their results. */
export function arithmeticDoc(world: World, rng: Rng, avoid: Set<string>): string {
  const n = rng.range(6, 14);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.55) out.push(equation(rng).text + '.');
    else if (r < 0.8) {
      const e = equation(rng);
      out.push(`${e.a} ${WORDS[e.op]} ${e.b} is ${e.result}.`);
    } else {
      const wp = wordProblem(world, rng);
      avoid.add(wp.question);
      out.push(`${wp.question} ${wp.solution}`);
    }
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Web-like noise (pretraining): navigation bars, boilerplate, spam and comment threads.

const NAV = ['Home', 'News', 'About us', 'Contact', 'Login', 'Shop', 'Blog', 'Help', 'Sign up', 'FAQ'];
const NOUNS = [
  'shoes',
  'phones',
  'recipes',
  'travel',
  'music',
  'games',
  'garden',
  'cars',
  'books',
  'deals',
  'news',
  'photos',
];
const COMMENTS = [
  'great post!!',
  'thanks for sharing',
  'lol',
  'first!',
  'this is so true',
  'where can I buy this?',
  'nice',
  'I agree 100%',
];

export function webNoiseDoc(world: World, rng: Rng): string {
  const n = rng.range(5, 12);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = rng.int(8);
    if (k === 0) out.push(rng.sample(NAV, rng.range(3, 6)).join(' | '));
    else if (k === 1) out.push('We use cookies to improve your experience. By continuing you agree to our terms.');
    else if (k === 2)
      out.push(
        `Best deals on ${rng.pick(NOUNS)} in ${rng.pick(world.cities).name}! Buy now and save ${rng.range(5, 70)}%!!!`,
      );
    else if (k === 3)
      out.push(
        `Posted on 20${rng.range(10, 24)}-${String(rng.range(1, 12)).padStart(2, '0')}-${String(rng.range(1, 28)).padStart(2, '0')} by user${rng.range(1, 9999)}`,
      );
    else if (k === 4) out.push(`${rng.pick(COMMENTS)} ${rng.chance(0.3) ? rng.pick(COMMENTS) : ''}`.trim());
    else if (k === 5)
      out.push(`www.${rng.pick(NOUNS)}${rng.range(1, 99)}.com/${rng.pick(NOUNS)}?page=${rng.range(1, 50)}`);
    else if (k === 6) out.push(`Page ${rng.range(1, 9)} of ${rng.range(10, 40)} | Next >>`);
    else out.push(`#${rng.pick(NOUNS)} #${rng.pick(NOUNS)} #${rng.pick(NOUNS)}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Anneal (higher quality): clean encyclopedic entries, Q&A over train facts, worked arithmetic.

export function factsHqDoc(world: World, rng: Rng): string {
  if (rng.chance(0.3)) {
    const c = rng.pick(world.countries);
    const cities = world.cities.filter((x) => x.country === c.name);
    return [
      `${c.name} is a country.`,
      `The capital of ${c.name} is ${c.capital}.`,
      `The cities of ${c.name} are ${cities.map((x) => x.name).join(', ')}.`,
      ...cities.map((x) => `${x.name} is famous for its ${x.famousFor}.`),
    ].join(' ');
  }
  const p = rng.pick(world.people);
  return [
    `${p.name} lives in ${p.city}.`,
    `${p.name} is ${article(p.job)}.`,
    `${p.name} has a pet ${p.pet}.`,
    `The favorite color of ${p.name} is ${p.color}.`,
    `The best friend of ${p.name} is ${p.friend}.`,
  ].join(' ');
}

/** Anneal Q&A (FLAN-like) over train facts only: "Question: …\nAnswer: …" blocks. */
export function qaDoc(trainFacts: readonly Fact[], rng: Rng): string {
  const n = rng.range(3, 8);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = rng.pick(trainFacts);
    out.push(`Question: ${QUESTIONS[f.relation](f.subject)}\nAnswer: ${f.object}`);
  }
  return out.join('\n\n');
}

/**
 * Pretraining Q&A pages (FAQ and forum threads): the anneal's question-answer format over train facts only, and
 * worked word problems. Web text carries some of this; without it the anneal's Q&A is so unfamiliar that its first
 * steps undo part of stage 1, and answering a question about a fact read only as a statement does not generalise
 * (knowledge extraction needs some Q&A in pretraining: Allen-Zhu & Li, Physics of Language Models 3.1).
 */
export function forumQaDoc(world: World, trainFacts: readonly Fact[], rng: Rng, avoid: Set<string>): string {
  return rng.chance(0.7) ? qaDoc(trainFacts, rng) : mathWorkedDoc(world, rng, avoid);
}

export function mathWorkedDoc(world: World, rng: Rng, avoid: Set<string>): string {
  const n = rng.range(2, 5);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.6)) {
      const wp = wordProblem(world, rng);
      avoid.add(wp.question);
      out.push(`Question: ${wp.question}\nAnswer: ${wp.solution}`);
    } else {
      const e = equation(rng);
      out.push(`Question: What is ${e.a} ${e.op} ${e.b}?\nAnswer: ${e.text}. The answer is ${e.result}.`);
    }
  }
  return out.join('\n\n');
}
