// Request bodies of the OpenAI API as vLLM accepts them (field names from vllm/entrypoints/openai/protocol.py,
// https://github.com/vllm-project/vllm), as JSON schemas that fastify validates before a handler runs, and
// OpenAI's error object. Fields clients commonly send that change nothing here (user, penalties of 0) are
// accepted; fields that would change the result and are not implemented are refused by name.

export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error answered with OpenAI's error object. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  body(): ApiErrorBody {
    return { error: { message: this.message, type: errorType(this.status), param: this.param, code: this.code } };
  }
}

export function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

const tokenIds = { type: 'array', items: { type: 'integer' }, minItems: 1 } as const;
const stop = {
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 16 }, { type: 'null' }],
} as const;
const nullable = <T extends object>(s: T) => ({ anyOf: [s, { type: 'null' }] });

/** Sampling and output fields shared by both endpoints. */
const common = {
  model: { type: 'string' },
  n: nullable({ type: 'integer', minimum: 1, maximum: 128 }),
  temperature: nullable({ type: 'number', minimum: 0, maximum: 100 }),
  top_p: nullable({ type: 'number', exclusiveMinimum: 0, maximum: 1 }),
  top_k: nullable({ type: 'integer', minimum: -1 }),
  seed: nullable({ type: 'integer' }),
  stop,
  stop_token_ids: nullable({ type: 'array', items: { type: 'integer', minimum: 0 } }),
  ignore_eos: nullable({ type: 'boolean' }),
  stream: nullable({ type: 'boolean' }),
  stream_options: nullable({ type: 'object', properties: { include_usage: nullable({ type: 'boolean' }) } }),
  include_stop_str_in_output: nullable({ type: 'boolean' }),
  skip_special_tokens: nullable({ type: 'boolean' }),
  prompt_logprobs: nullable({ type: 'integer', minimum: 0, maximum: 20 }),
  max_tokens: nullable({ type: 'integer', minimum: 0 }),
  presence_penalty: nullable({ type: 'number', const: 0 }),
  frequency_penalty: nullable({ type: 'number', const: 0 }),
  repetition_penalty: nullable({ type: 'number', const: 1 }),
  user: nullable({ type: 'string' }),
} as const;

export const completionSchema = {
  type: 'object',
  required: ['prompt'],
  properties: {
    ...common,
    prompt: {
      anyOf: [
        { type: 'string' },
        { type: 'array', items: { type: 'string' }, minItems: 1 },
        tokenIds,
        { type: 'array', items: tokenIds, minItems: 1 },
      ],
    },
    echo: nullable({ type: 'boolean' }),
    logprobs: nullable({ type: 'integer', minimum: 0, maximum: 20 }),
    add_special_tokens: nullable({ type: 'boolean' }),
    suffix: { type: 'null' },
    best_of: nullable({ type: 'integer', const: 1 }),
  },
} as const;

const content = {
  anyOf: [
    { type: 'string' },
    { type: 'null' },
    {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: { type: { type: 'string', const: 'text' }, text: { type: 'string' } },
      },
    },
  ],
} as const;

export const chatSchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    ...common,
    messages: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['role'], properties: { role: { type: 'string' }, content } },
    },
    logprobs: nullable({ type: 'boolean' }),
    top_logprobs: nullable({ type: 'integer', minimum: 0, maximum: 20 }),
    max_completion_tokens: nullable({ type: 'integer', minimum: 0 }),
    add_generation_prompt: nullable({ type: 'boolean' }),
    tools: { anyOf: [{ type: 'null' }, { type: 'array', maxItems: 0 }] },
  },
} as const;

export const tokenizeSchema = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    messages: chatSchema.properties.messages,
    add_special_tokens: { type: 'boolean' },
    add_generation_prompt: { type: 'boolean' },
  },
  oneOf: [{ required: ['prompt'] }, { required: ['messages'] }],
} as const;

export const detokenizeSchema = {
  type: 'object',
  required: ['tokens'],
  properties: { model: { type: 'string' }, tokens: { type: 'array', items: { type: 'integer', minimum: 0 } } },
} as const;

type Opt<T> = T | null | undefined;

export interface CommonBody {
  model?: string;
  n?: Opt<number>;
  temperature?: Opt<number>;
  top_p?: Opt<number>;
  top_k?: Opt<number>;
  seed?: Opt<number>;
  stop?: Opt<string | string[]>;
  stop_token_ids?: Opt<number[]>;
  ignore_eos?: Opt<boolean>;
  stream?: Opt<boolean>;
  stream_options?: Opt<{ include_usage?: Opt<boolean> }>;
  include_stop_str_in_output?: Opt<boolean>;
  skip_special_tokens?: Opt<boolean>;
  prompt_logprobs?: Opt<number>;
  max_tokens?: Opt<number>;
}

export interface CompletionBody extends CommonBody {
  prompt: string | string[] | number[] | number[][];
  echo?: Opt<boolean>;
  logprobs?: Opt<number>;
  add_special_tokens?: Opt<boolean>;
}

export interface ChatContentPart {
  type: 'text';
  text?: string;
}

export interface ChatBody extends CommonBody {
  messages: { role: string; content?: string | ChatContentPart[] | null; [k: string]: unknown }[];
  logprobs?: Opt<boolean>;
  top_logprobs?: Opt<number>;
  max_completion_tokens?: Opt<number>;
  add_generation_prompt?: Opt<boolean>;
}

export interface TokenizeBody {
  model?: string;
  prompt?: string;
  messages?: ChatBody['messages'];
  add_special_tokens?: boolean;
  add_generation_prompt?: boolean;
}

export interface DetokenizeBody {
  model?: string;
  tokens: number[];
}
