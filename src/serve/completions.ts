// POST /v1/completions: prompts as text, lists of text, token ids or lists of token ids; n choices each;
// legacy logprobs (tokens, token_logprobs, top_logprobs, text_offset), echo of the prompt with its log-probs
// (how log-likelihood evaluations run against a server), vLLM's prompt_logprobs; streamed as server-sent events.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChoiceRun, Engine, GenParams } from './engine.ts';
import type { TokenLogprob } from './logprobs.ts';
import { ApiError, type CompletionBody } from './protocol.ts';
import { cancelOnDisconnect, settle, streamRuns, usage } from './stream.ts';

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

function choiceLogprobs(engine: Engine, run: ChoiceRun, prompt: Prompt, echo: boolean, top: number) {
  const gen = run.logprobs.map((l) => l.id);
  const entries: (TokenLogprob | null)[] = [
    ...(echo ? (run.promptLogprobs ?? prompt.ids.map(() => null)) : []),
    ...run.logprobs,
  ];
  const ids = [...(echo ? prompt.ids : []), ...gen];
  const offsets: number[] = [];
  if (echo)
    for (let j = 0; j < prompt.ids.length; j++)
      offsets.push(cpLen(engine.tok.decode(prompt.ids.slice(0, j), { skipSpecialTokens: false })));
  let at = echo ? cpLen(prompt.text) : 0;
  for (const id of gen) {
    offsets.push(at);
    at += cpLen(engine.tokenText(id));
  }
  return legacyLogprobs(engine, entries, ids, offsets, top);
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
  if (body.stream && echo && logprobs !== null)
    throw new ApiError(
      400,
      'echo with logprobs is not supported when streaming; send stream: false',
      'echo',
      'invalid_value',
    );
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
  const promptTokens = list.reduce((n, p) => n + p.ids.length, 0);
  if (body.stream) {
    streamRuns(
      engine,
      reply,
      runs,
      '/v1/completions',
      {
        first: echo
          ? (run) => ({
              ...head,
              choices: [{ index: run.index, text: promptOf(run).text, logprobs: null, finish_reason: null }],
            })
          : undefined,
        chunk: (run, delta, finish, lp) => ({
          ...head,
          choices: [
            {
              index: run.index,
              text: delta,
              logprobs: lp ? legacyLogprobs(engine, [lp], [lp.id], [0], logprobs ?? 0) : null,
              finish_reason: finish,
              stop_reason: null,
            },
          ],
        }),
        final: (u) => ({ ...head, choices: [], usage: u }),
      },
      promptTokens * params.n,
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
        stop_reason: null,
        prompt_logprobs:
          base.promptLogprobs !== null && run.promptLogprobs
            ? promptLogprobsOut(engine, run.promptLogprobs, base.promptLogprobs)
            : null,
      };
    }),
    usage: usage(runs, promptTokens * params.n),
  };
}
