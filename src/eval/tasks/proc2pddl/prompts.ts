// Proc2PDDL prompts (zharry29/proc2pddl, https://github.com/zharry29/proc2pddl: predict_scripts/prompts.json,
// build_prompts.py, pddl_parser.py behaviour).
//
// Messages: system "you are a helpful assistant."; user instruction_task + "\n" + instruction_ZPD|instruction_CoT
// (nothing after the newline-joined task instruction for the plain setting); user, with no few-shot examples,
// "please follow the instruction and generate pddl actions."; user the PDDL prompt (instruction_text: the whole
// text; instruction_pair: action–step pairs; instruction_no_text: names and descriptions only, the "desc" runs).
// Slots `<insert_X>` are filled by plain string replacement.
import type { ChatMessage } from '../../../tokenizers/index.ts';
import type { Proc2PddlDomain } from './data.ts';

export type PromptTemplates = Record<string, string>;
export type PddlPromptKind = 'desc' | 'whole' | 'pair';
export type InstructionKind = 'plain' | 'zpd' | 'cot';

export const SYSTEM_PROMPT = 'you are a helpful assistant.';
export const ZERO_SHOT_MESSAGE = 'please follow the instruction and generate pddl actions.';
export const PDDL_PROMPT_KEYS: Record<PddlPromptKind, string> = {
  desc: 'instruction_no_text',
  whole: 'instruction_text',
  pair: 'instruction_pair',
};
export const INSTRUCTION_KEYS: Record<InstructionKind, string | null> = {
  plain: null,
  zpd: 'instruction_ZPD',
  cot: 'instruction_CoT',
};

export function checkTemplates(t: unknown, where: string): PromptTemplates {
  if (!t || typeof t !== 'object' || Array.isArray(t))
    throw new Error(`${where}: prompt templates must be a JSON object of strings`);
  for (const k of [
    'instruction_task',
    'instruction_ZPD',
    'instruction_CoT',
    'instruction_text',
    'instruction_pair',
    'instruction_no_text',
  ]) {
    if (typeof (t as Record<string, unknown>)[k] !== 'string')
      throw new Error(`${where}: template "${k}" is missing or not a string`);
  }
  return t as PromptTemplates;
}

/**
 * The header components as the official component parser groups them: lines (newlines kept), blank and
 * comment-only lines skipped; a line containing `(define (domain `, `(:requirements`, `(:types`, `(:predicates`,
 * `(:action` or `END` starts a new component, named by its first line; each component is its lines joined, with
 * newlines stripped from both ends.
 */
export function headerComponents(text: string): {
  domain: string;
  requirements: string;
  types: string;
  predicates: string;
} {
  const lines = text.split(/(?<=\n)/);
  lines.push('END');
  const out = { domain: '', requirements: '', types: '', predicates: '' };
  const markers = ['(define (domain ', '(:requirements', '(:types', '(:predicates', '(:action', 'END'];
  const flush = (group: string[]) => {
    const first = group[0];
    const joined = group.join('').replace(/^\n+|\n+$/g, '');
    if (first.includes('(define (domain ')) out.domain = joined;
    else if (first.includes('(:requirements')) out.requirements = joined;
    else if (first.includes('(:types')) out.types = joined;
    else if (first.includes('(:predicates')) out.predicates = joined;
  };
  let group: string[] = [];
  for (const line of lines) {
    const s = line.trim();
    if (s === '' || s[0] === ';') continue;
    if (markers.some((m) => line.includes(m))) {
      if (group.length) flush(group);
      group = [line];
    } else group.push(line);
  }
  return out;
}

/** The goal phrase: the domain component with `(define`, `(domain`, `how_to_`, `)` and `_` replaced by spaces. */
export function goalOf(domainComponent: string): string {
  return domainComponent.replace(/(\(define|\(domain|how_to_|\)|_)/g, ' ').trim();
}

/** Paragraphs (split on blank lines) keyed by their leading step number. */
function wikiSteps(text: string, file: string): Map<string, string> {
  const m = new Map<string, string>();
  text.split('\n\n').forEach((step, i) => {
    const n = /^\d+/.exec(step);
    if (!n)
      throw new Error(
        `${file}: paragraph ${i + 1} does not start with a step number: ${JSON.stringify(step.slice(0, 60))}`,
      );
    m.set(n[0], step);
  });
  return m;
}

/** build_prompts.process_action_text_pair: each action line, its mapped steps, then `------`. */
export function actionTextPairs(wikihow: string, actionStepMap: string, file = 'wikihow text'): string {
  const steps = wikiSteps(wikihow, file);
  return actionStepMap
    .split('\n')
    .map((line) => {
      const parts = line.split(';');
      const act = parts[0].trim();
      let step = '';
      if (line.trim().split(';').length > 1) {
        const ids = parts[1].replace(/ /g, '').split(',');
        step =
          '\n' +
          ids
            .filter((id) => /^\d+$/.test(id))
            .map((id) => {
              const s = steps.get(id);
              if (s === undefined)
                throw new Error(
                  `${file}: action_step_map line ${JSON.stringify(line)} refers to step ${id}, which the text does not have`,
                );
              return s;
            })
            .join('\n');
      }
      return `${act}\n${step}\n------`;
    })
    .join('\n\n');
}

/** The slot values of one domain, in the official component order. */
export function promptComponents(d: Proc2PddlDomain, kind: PddlPromptKind): Record<string, string> {
  const h = headerComponents(d.domainHeader);
  const c: Record<string, string> = { ...h, action_names: d.actionsTxt.trim(), goal: goalOf(h.domain) };
  if (kind !== 'desc') {
    if (d.wikihow === null)
      throw new Error(`Proc2PDDL domain ${d.id}: no wikihow-*.txt in ${d.dir} (needed by the ${kind} prompt)`);
    c.text = d.wikihow.trim();
  }
  if (kind === 'pair') {
    if (d.actionStepMap === null)
      throw new Error(`Proc2PDDL domain ${d.id}: no action_step_map.txt in ${d.dir} (needed by the pair prompt)`);
    c.action_text_pairs = actionTextPairs(c.text, d.actionStepMap.trim(), d.wikihowFile ?? d.dir);
  }
  return c;
}

export function composePrompt(template: string, components: Record<string, string>): string {
  let s = template;
  for (const [k, v] of Object.entries(components)) s = s.split(`<insert_${k}>`).join(v);
  return s;
}

export function proc2pddlMessages(
  d: Proc2PddlDomain,
  t: PromptTemplates,
  kind: PddlPromptKind,
  instruction: InstructionKind,
): ChatMessage[] {
  const ik = INSTRUCTION_KEYS[instruction];
  const task = ik ? `${t.instruction_task}\n${t[ik]}` : t.instruction_task;
  const pddl = composePrompt(t[PDDL_PROMPT_KEYS[kind]], promptComponents(d, kind));
  const left = /<insert_\w+>/.exec(pddl);
  if (left) throw new Error(`Proc2PDDL domain ${d.id}: slot ${left[0]} left unfilled in the ${kind} prompt`);
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: task },
    { role: 'user', content: ZERO_SHOT_MESSAGE },
    { role: 'user', content: pddl },
  ];
}

/** The completion-backend rendering of the messages: their contents separated by blank lines. */
export function flattenMessages(messages: readonly ChatMessage[]): string {
  return messages.map((m) => m.content).join('\n\n') + '\n\n';
}
