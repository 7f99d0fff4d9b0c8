// Chat templates: Jinja rendering of tokenizer_config.json's `chat_template` (@huggingface/jinja), the built-in
// Tülu / OLMo 2 template, and conversation → (ids, assistant mask) for SFT loss masking. Every render in the
// package goes through renderChatTemplate, so the sandbox's limits (template-sandbox.ts) bound them all.
import { Template } from '@huggingface/jinja';
import { DEFAULT_TEMPLATE_LIMITS, TemplateLimitError, renderBounded, type TemplateLimits } from './template-sandbox.ts';
import type { Tokenizer } from './types.ts';

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

/**
 * The Tülu 3 template (open-instruct `CHAT_TEMPLATES["tulu"]`) with the `{{ bos_token }}` prefix of the released
 * OLMo 2-Instruct tokenizers (tokenizer_config.json of https://huggingface.co/allenai/OLMo-2-1124-7B-Instruct).
 * With dolma2, bos = eos = `<|endoftext|>`:
 * `<|endoftext|><|system|>\n{sys}\n<|user|>\n{u1}\n<|assistant|>\n{a1}<|endoftext|>\n<|user|>\n{u2}\n<|assistant|>\n`.
 */
export const TULU_CHAT_TEMPLATE =
  '{{ bos_token }}' +
  '{% for message in messages %}' +
  "{% if message['role'] == 'system' %}" +
  "{{ '<|system|>\\n' + message['content'] + '\\n' }}" +
  "{% elif message['role'] == 'user' %}" +
  "{{ '<|user|>\\n' + message['content'] + '\\n' }}" +
  "{% elif message['role'] == 'assistant' %}" +
  '{% if not loop.last %}' +
  "{{ '<|assistant|>\\n'  + message['content'] + eos_token + '\\n' }}" +
  '{% else %}' +
  "{{ '<|assistant|>\\n'  + message['content'] + eos_token }}" +
  '{% endif %}' +
  '{% endif %}' +
  '{% if loop.last and add_generation_prompt %}' +
  "{{ '<|assistant|>\\n' }}" +
  '{% endif %}' +
  '{% endfor %}';

export interface ChatTemplateOptions {
  /** Append the prompt that starts an assistant turn (`<|assistant|>\n` for Tülu). Default false. */
  addGenerationPrompt?: boolean;
  /** Use this template instead of the tokenizer's own (or the Tülu fallback). */
  template?: string;
  /** Extra variables for the template (e.g. `tools`, `documents`), as HF `apply_chat_template(**kwargs)`. */
  variables?: Record<string, unknown>;
  /** Where the template came from, named in errors (default: the tokenizer's, the given one, or the built-in). */
  source?: string;
  /** Resource limits of one render (default DEFAULT_TEMPLATE_LIMITS). */
  limits?: Partial<TemplateLimits>;
}

/** How renderChatTemplate names the template and bounds the render. */
export interface RenderOptions {
  source?: string;
  limits?: Partial<TemplateLimits>;
}

const compiled = new Map<string, Template>();

function compile(template: string, source: string): Template {
  let t = compiled.get(template);
  if (t === undefined) {
    try {
      t = new Template(template);
    } catch (e) {
      throw new Error(`chat template does not parse: ${(e as Error).message} (in ${source})`, { cause: e });
    }
    if (compiled.size > 64) compiled.clear();
    compiled.set(template, t);
  }
  return t;
}

/**
 * Renders a Jinja chat template with the given variables (messages, add_generation_prompt, bos_token, …), within
 * resource limits (range length, loop iterations, string sizes, time): a template that crosses one fails with
 * "chat template exceeds …" naming the limit and `options.source`.
 */
export function renderChatTemplate(
  template: string,
  variables: Record<string, unknown>,
  options: RenderOptions = {},
): string {
  const source = options.source ?? 'the given chat template';
  const t = compile(template, source);
  try {
    return renderBounded(t, variables, source, {
      ...DEFAULT_TEMPLATE_LIMITS,
      ...options.limits,
    });
  } catch (e) {
    if (e instanceof TemplateLimitError) throw e;
    throw new Error(`chat template failed to render: ${(e as Error).message} (in ${source})`, { cause: e });
  }
}

function templateSource(tokenizer: Tokenizer, options: ChatTemplateOptions): string {
  if (options.source !== undefined) return options.source;
  if (options.template !== undefined) return 'the chat template given in the options';
  if (tokenizer.chatTemplate !== null) return `the chat template of tokenizer ${tokenizer.name}`;
  return 'the built-in Tülu chat template';
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) throw new TypeError('chat messages must be an array of {role, content}');
  messages.forEach((m, i) => {
    if (m === null || typeof m !== 'object' || typeof m.role !== 'string') {
      throw new TypeError(`chat message ${i}: expected an object with a string "role", got ${JSON.stringify(m)}`);
    }
  });
}

/**
 * Renders a conversation with the tokenizer's chat template — or the built-in Tülu template when the checkpoint
 * has none — as HF `apply_chat_template(messages, tokenize=False)` does. bos_token/eos_token/pad_token/unk_token
 * are available to the template where the tokenizer has them.
 */
export function applyChatTemplate(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  options: ChatTemplateOptions = {},
): string {
  checkMessages(messages);
  const template = options.template ?? tokenizer.chatTemplate ?? TULU_CHAT_TEMPLATE;
  const vars: Record<string, unknown> = { ...(options.variables ?? {}) };
  if (tokenizer.bosToken !== null) vars.bos_token = tokenizer.bosToken;
  if (tokenizer.eosToken !== null) vars.eos_token = tokenizer.eosToken;
  if (tokenizer.padToken !== null) vars.pad_token = tokenizer.padToken;
  if (tokenizer.unkToken !== null) vars.unk_token = tokenizer.unkToken;
  vars.messages = messages;
  vars.add_generation_prompt = options.addGenerationPrompt ?? false;
  return renderChatTemplate(template, vars, {
    source: templateSource(tokenizer, options),
    limits: options.limits,
  });
}

export interface EncodedChat {
  /** The rendered conversation. */
  text: string;
  ids: number[];
  /** 1 where the token belongs to an assistant turn (trained on in SFT), 0 elsewhere; same length as ids. */
  assistantMask: number[];
}

/**
 * Renders and tokenises a conversation and marks which tokens are assistant output, exactly as open-instruct's
 * `sft_tulu_tokenize_and_truncate` builds its labels: every non-assistant message i masks the tokens from
 * len(tokens(render(messages[:i]))) to len(tokens(render(messages[:i+1], add_generation_prompt = next is
 * assistant))). So the assistant prompt `<|assistant|>\n` is masked, the assistant content and its EOS are not,
 * and the newline after a non-final assistant EOS is masked (it is rendered only when another message follows).
 * Special-token text is recognised and nothing is added beyond the template (HF `add_special_tokens=False`).
 */
export function encodeChat(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  options: Omit<ChatTemplateOptions, 'addGenerationPrompt'> = {},
): EncodedChat {
  checkMessages(messages);
  const encode = (text: string): number[] => tokenizer.encode(text, { addSpecialTokens: false, allowSpecial: true });
  const render = (upTo: number, addGenerationPrompt: boolean): string =>
    applyChatTemplate(tokenizer, messages.slice(0, upTo), {
      ...options,
      addGenerationPrompt,
    });
  const text = render(messages.length, false);
  const ids = encode(text);
  const assistantMask = new Array<number>(ids.length).fill(1);
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].role === 'assistant') continue;
    const start = i === 0 ? 0 : encode(render(i, false)).length;
    const nextIsAssistant = i + 1 < messages.length && messages[i + 1].role === 'assistant';
    const end = Math.min(encode(render(i + 1, nextIsAssistant)).length, ids.length);
    for (let t = start; t < end; t++) assistantMask[t] = 0;
  }
  return { text, ids, assistantMask };
}
