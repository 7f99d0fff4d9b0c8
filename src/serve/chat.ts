// POST /v1/chat/completions: the messages rendered with the model's chat template (the render path of
// `olmo chat`), n choices, logprobs with top_logprobs in the chat API's shape, streamed as chat.completion.chunk.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { promptLogprobsOut } from './completions.ts';
import type { Engine, GenParams } from './engine.ts';
import type { TokenLogprob } from './logprobs.ts';
import { ApiError, type ChatBody } from './protocol.ts';
import { cancelOnDisconnect, settle, streamRuns, usage } from './stream.ts';

function contentLogprobs(engine: Engine, lps: TokenLogprob[], top: number) {
  const entry = (id: number, logprob: number) => {
    const token = engine.tokenText(id);
    return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
  };
  return {
    content: lps.map((lp) => ({
      ...entry(lp.id, lp.logprob),
      top_logprobs: lp.top.slice(0, top).map((t) => entry(t.id, t.logprob)),
    })),
  };
}

export async function chatCompletions(engine: Engine, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const startedAt = performance.now();
  const body = request.body as ChatBody;
  engine.checkModel(body.model);
  const ids = engine.renderChat(body.messages, body.add_generation_prompt ?? true);
  const asked = body.max_completion_tokens ?? body.max_tokens ?? null;
  engine.checkPrompt(ids, 'messages', asked);
  if (body.top_logprobs !== undefined && body.top_logprobs !== null && !body.logprobs)
    // as vLLM refuses it: top_logprobs alone would silently return no log-probs
    throw new ApiError(
      400,
      `top_logprobs (${body.top_logprobs}) needs "logprobs": true`,
      'top_logprobs',
      'invalid_value',
    );
  const top = body.top_logprobs ?? 0;
  const base = engine.params(body, asked, body.logprobs ? top : null);
  const params: GenParams = { ...base, maxTokens: asked ?? engine.maxModelLen - ids.length };
  const runs = engine.start([ids], [params], startedAt);
  cancelOnDisconnect(reply, runs);
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  if (body.stream) {
    const head = { id, object: 'chat.completion.chunk', created, model: engine.name };
    streamRuns(
      engine,
      reply,
      runs,
      '/v1/chat/completions',
      {
        first: (run) => ({
          ...head,
          choices: [
            { index: run.index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
          ],
        }),
        chunk: (run, delta, finish, lp) => ({
          ...head,
          choices: [
            {
              index: run.index,
              delta: delta === '' && finish ? {} : { content: delta },
              logprobs: lp ? contentLogprobs(engine, [lp], top) : null,
              finish_reason: finish,
              stop_reason: finish === null ? null : engine.stopReason(run),
            },
          ],
        }),
        final: (u) => ({ ...head, choices: [], usage: u }),
      },
      ids.length,
      body.stream_options?.include_usage,
    );
    return reply;
  }
  await settle(runs);
  return {
    id,
    object: 'chat.completion',
    created,
    model: engine.name,
    choices: runs.map((run) => ({
      index: run.index,
      message: { role: 'assistant', content: run.text.text },
      logprobs: body.logprobs ? contentLogprobs(engine, run.logprobs, top) : null,
      finish_reason: run.finishReason,
      stop_reason: engine.stopReason(run),
    })),
    usage: usage(runs, ids.length),
    prompt_logprobs:
      base.promptLogprobs !== null && runs[0]?.promptLogprobs
        ? promptLogprobsOut(engine, runs[0].promptLogprobs, base.promptLogprobs)
        : null,
  };
}
