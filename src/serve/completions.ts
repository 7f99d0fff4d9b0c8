// POST /v1/completions: prompts as text, lists of text, token ids or lists of token ids; n choices each;
// legacy logprobs (tokens, token_logprobs, top_logprobs, text_offset), echo of the prompt with its log-probs
// (how log-likelihood evaluations run against a server), vLLM's prompt_logprobs; streamed as server-sent events.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChoiceRun, Engine, GenParams } from './engine.ts';
import type { TokenLogprob } from './logprobs.ts';
import type { CompletionBody } from './protocol.ts';
import { cancelOnDisconnect, settle, streamRuns, usage, type StreamFormat } from './stream.ts';

interface Prompt {
  ids: number[];
  /** The prompt as text (echo returns it as sent). */
  text: string;
}

function prompts(engine: Engine, body: CompletionBody): Prompt[] {
  const addSpecialTokens = body.add_special_tokens ?? true;
  const fromText = (text: string): Prompt => ({ ids: engine.tok.encode(text, { addSpecialTokens }), text });
  const fromIds = (ids: number[]): Prompt => ({
    ids,
    text: engine.tok.decode(
      ids.filter((id) => id < engine.tok.vocabSize),
      { skipSpecialTokens: false },
    ),
  });
  const p = body.prompt;
  if (typeof p === 'string') return [fromText(p)];
  if (p.every((x) => typeof x === 'string')) return (p as string[]).map(fromText);
  if (p.every((x) => typeof x === 'number')) return [fromIds(p as number[])];
  return (p as number[][]).map(fromIds);
}

const cpLen = (s: string) => Array.from(s).length;

/** vLLM's prompt_logprobs: per position null (the first) or {id: {logprob, rank, decoded_token}} for the token and the top N. */
export function promptLogprobsOut(engine: Engine, lps: (TokenLogprob | null)[], top: number) {
  return lps.map((lp) => {
    if (!lp) return null;
    const out: Record<string, { logprob: number; rank: number; decoded_token: string }> = {};
    lp.top
      .slice(0, top)
      .forEach(
        (t, i) => (out[String(t.id)] = { logprob: t.logprob, rank: i + 1, decoded_token: engine.tokenText(t.id) }),
      );
    out[String(lp.id)] = { logprob: lp.logprob, rank: lp.rank, decoded_token: engine.tokenText(lp.id) };
    return out;
  });
}

/** The legacy logprobs object over (echoed prompt and) generated tokens, offsets counted in characters from `base`. */
function legacyLogprobs(
  engine: Engine,
  entries: (TokenLogprob | null)[],
  ids: number[],
  offsets: number[],
  top: number,
) {
  return {
    tokens: ids.map((id) => engine.tokenText(id)),
    token_logprobs: entries.map((e) => (e ? e.logprob : null)),
    top_logprobs: entries.map((e) => {
      if (!e) return null;
      const out: Record<string, number> = {};
      for (const t of e.top.slice(0, top)) out[engine.tokenText(t.id)] = t.logprob;
      out[engine.tokenText(e.id)] = e.logprob;
      return out;
    }),
    text_offset: offsets,
  };
}

/** The echoed prompt's part of a legacy logprobs object: its tokens, their log-probs and character offsets. */
function echoed(engine: Engine, run: ChoiceRun, prompt: Prompt) {
  const entries = run.promptLogprobs ?? prompt.ids.map(() => null);
  const offsets = prompt.ids.map((_, j) =>
    cpLen(engine.tok.decode(prompt.ids.slice(0, j), { skipSpecialTokens: false })),
  );
  return { entries, ids: prompt.ids, offsets };
}

function choiceLogprobs(engine: Engine, run: ChoiceRun, prompt: Prompt, echo: boolean, top: number) {
  const head = echo ? echoed(engine, run, prompt) : { entries: [], ids: [], offsets: [] };
  const gen = run.logprobs.map((l) => l.id);
  const offsets = [...head.offsets];
  let at = echo ? cpLen(prompt.text) : 0;
  for (const id of gen) {
    offsets.push(at);
    at += cpLen(engine.tokenText(id));
  }
  return legacyLogprobs(engine, [...head.entries, ...run.logprobs], [...head.ids, ...gen], offsets, top);
}

/**
 * Streamed chunks as vLLM sends them: with echo, a choice's first chunk carries the prompt's text (and its
 * log-probs) before its first token's; each token's text_offset counts the characters streamed before it
 * (https://github.com/vllm-project/vllm/blob/main/vllm/entrypoints/openai/completion/serving.py,
 * completion_stream_generator).
 */
function streamFormat(
  engine: Engine,
  head: object,
  promptOf: (run: ChoiceRun) => Prompt,
  echo: boolean,
  logprobs: number | null,
): StreamFormat {
  const sent = new Map<number, number>();
  const pendingEcho = (run: ChoiceRun) => echo && !sent.has(run.index);
  return {
    eager: pendingEcho,
    chunk: (run, delta, finish, lp) => {
      const before = sent.get(run.index) ?? 0;
      let text = delta;
      let part = { entries: [] as (TokenLogprob | null)[], ids: [] as number[], offsets: [] as number[] };
      if (pendingEcho(run)) {
        const p = promptOf(run);
        part = echoed(engine, run, p);
        text = p.text + delta;
      }
      if (lp) {
        part.entries = [...part.entries, lp];
        part.ids = [...part.ids, lp.id];
        part.offsets = [...part.offsets, before + cpLen(text) - cpLen(delta)];
      }
      sent.set(run.index, before + cpLen(text));
      const withLps = logprobs !== null && part.ids.length > 0;
      return {
        ...head,
        choices: [
          {
            index: run.index,
            text,
            logprobs: withLps ? legacyLogprobs(engine, part.entries, part.ids, part.offsets, logprobs) : null,
            finish_reason: finish,
            stop_reason: finish === null ? null : engine.stopReason(run),
          },
        ],
      };
    },
    final: (u) => ({ ...head, choices: [], usage: u }),
  };
}

export async function completions(engine: Engine, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const startedAt = performance.now();
  const body = request.body as CompletionBody;
  engine.checkModel(body.model);
  const list = prompts(engine, body);
  const maxTokens = body.max_tokens ?? 16;
  const logprobs = body.logprobs ?? null;
  const echo = body.echo ?? false;
  const base = engine.params(body, maxTokens, logprobs);
  // echo with logprobs reports the prompt's log-probs too: computed with the larger of the two top-N counts
  const promptLogprobs = echo && logprobs !== null ? Math.max(base.promptLogprobs ?? 0, logprobs) : base.promptLogprobs;
  const params: GenParams = { ...base, maxTokens, promptLogprobs };
  list.forEach((p, i) => engine.checkPrompt(p.ids, list.length > 1 ? `prompt[${i}]` : 'prompt', maxTokens));
  const runs = engine.start(
    list.map((p) => p.ids),
    list.map(() => params),
    startedAt,
  );
  cancelOnDisconnect(reply, runs);
  const id = `cmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: 'text_completion', created, model: engine.name };
  const promptOf = (run: ChoiceRun) => list[Math.floor(run.index / params.n)];
  // each prompt counts once whatever n is, as in vLLM's and OpenAI's usage
  const promptTokens = list.reduce((n, p) => n + p.ids.length, 0);
  if (body.stream) {
    streamRuns(
      engine,
      reply,
      runs,
      '/v1/completions',
      streamFormat(engine, head, promptOf, echo, logprobs),
      promptTokens,
      body.stream_options?.include_usage,
    );
    return reply;
  }
  await settle(runs);
  return {
    ...head,
    choices: runs.map((run) => {
      const p = promptOf(run);
      return {
        index: run.index,
        text: (echo ? p.text : '') + run.text.text,
        logprobs: logprobs !== null ? choiceLogprobs(engine, run, p, echo, logprobs) : null,
        finish_reason: run.finishReason,
        stop_reason: engine.stopReason(run),
        prompt_logprobs:
          base.promptLogprobs !== null && run.promptLogprobs
            ? promptLogprobsOut(engine, run.promptLogprobs, base.promptLogprobs)
            : null,
      };
    }),
    usage: usage(runs, promptTokens),
  };
}
