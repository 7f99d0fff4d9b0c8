// vLLM's accounting of the token that ends a choice (EOS or a stop_token_id: counted in usage, given a log-prob,
// left out of the text unless include_stop_str_in_output, named by stop_reason) and streamed echo (the prompt, with
// its log-probs, in each choice's first chunk), checked against the same requests answered whole.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from '../../src/models/index.ts';
import { setBackend } from '../../src/tensor/index.ts';
import { client, MODEL_NAME, serve, tinyModel } from './helpers.ts';

setBackend('js');
const { model, tokenizer: tok } = tinyModel();
const server = await serve();
const openai = client(server);
after(() => server.close());

/** A prompt the tiny model answers greedily with a few tokens and then EOS. */
const EOS_PROMPT = 'Question: hello world?\nAnswer:';
const greedy = (prompt: string) =>
  generate(model, [tok.encode(prompt)], {
    maxNewTokens: 16,
    temperature: 0,
    eosTokenIds: [tok.eosTokenId!],
    vocabLimit: tok.vocabSize,
  });

type Legacy = { tokens: string[]; token_logprobs: (number | null)[]; top_logprobs: unknown[]; text_offset: number[] };
type Choice = { text: string; finish_reason: string; stop_reason: string | number | null; logprobs: Legacy | null };
type Completion = { choices: Choice[]; usage: { completion_tokens: number; prompt_tokens: number } };
const complete = async (body: Record<string, unknown>) =>
  (await openai.completions.create({ model: MODEL_NAME, temperature: 0, ...body } as never)) as unknown as Completion;

/** Every chunk of a streamed completion. */
async function chunks(body: Record<string, unknown>) {
  const stream = (await openai.completions.create({
    model: MODEL_NAME,
    temperature: 0,
    stream: true,
    ...body,
  } as never)) as unknown as AsyncIterable<Completion & { usage: Completion['usage'] | null }>;
  const out = [];
  for await (const c of stream) out.push(c);
  return out;
}

test('EOS ends a choice as in vLLM: counted in usage, with its log-prob, not in the text; stop_reason null', async () => {
  const want = greedy(EOS_PROMPT);
  assert.equal(want.finishReasons[0], 'eos', 'the fixture prompt ends with EOS');
  const n = want.tokens[0].length;
  const r = await complete({ prompt: EOS_PROMPT, max_tokens: 16, logprobs: 1 });
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'stop');
  assert.equal(c.stop_reason, null);
  const text = tok.decode(want.tokens[0], { skipSpecialTokens: true });
  assert.equal(c.text, text);
  assert.equal(r.usage.completion_tokens, n + 1);
  assert.equal(c.logprobs!.tokens.length, n + 1);
  assert.equal(c.logprobs!.tokens[n], tok.decode([tok.eosTokenId!], { skipSpecialTokens: false }));
  assert.equal(c.logprobs!.text_offset[n], c.text.length, 'the EOS token sits at the end of the text');
  // include_stop_str_in_output detokenizes it (visible once special tokens are not skipped)
  const kept = await complete({
    prompt: EOS_PROMPT,
    max_tokens: 16,
    include_stop_str_in_output: true,
    skip_special_tokens: false,
  });
  assert.equal(kept.choices[0].text, text + tok.decode([tok.eosTokenId!], { skipSpecialTokens: false }));
  // streamed: the last chunk carries the finish reason with the EOS token's log-prob; usage counts it
  const s = await chunks({ prompt: EOS_PROMPT, max_tokens: 16, logprobs: 1, stream_options: { include_usage: true } });
  const last = s.filter((x) => x.choices.length > 0).at(-1)!.choices[0];
  assert.equal(last.finish_reason, 'stop');
  assert.deepEqual(last.logprobs!.tokens, [c.logprobs!.tokens[n]]);
  assert.equal(last.logprobs!.token_logprobs[0], c.logprobs!.token_logprobs[n]);
  assert.equal(s.at(-1)!.usage!.completion_tokens, n + 1);
  // chat counts it the same way
  const chat = await openai.chat.completions.create({
    model: MODEL_NAME,
    messages: [{ role: 'user', content: 'hello' }],
    max_tokens: 16,
    temperature: 0,
    logprobs: true,
  });
  const content = chat.choices[0].logprobs!.content!;
  assert.equal(chat.usage!.completion_tokens, content.length);
  if (chat.choices[0].finish_reason === 'stop')
    assert.equal(content.at(-1)!.token, tok.decode([tok.eosTokenId!], { skipSpecialTokens: false }));
});

test('stop_token_ids and stop strings: the token counted, stop_reason names what stopped the choice', async () => {
  const ids = greedy('hello').tokens[0];
  const stopId = ids[2];
  const k = ids.indexOf(stopId);
  const r = await complete({ prompt: 'hello', max_tokens: 16, stop_token_ids: [stopId] });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].stop_reason, stopId);
  assert.equal(r.choices[0].text, tok.decode(ids.slice(0, k), { skipSpecialTokens: true }));
  assert.equal(r.usage.completion_tokens, k + 1);
  const full = tok.decode(ids, { skipSpecialTokens: true });
  const stop = full.slice(3, 5);
  const byString = await complete({ prompt: 'hello', max_tokens: 16, stop: [stop] });
  assert.equal(byString.choices[0].stop_reason, stop);
  const byLength = await complete({ prompt: 'hello', max_tokens: 4 });
  assert.equal(byLength.choices[0].finish_reason, 'length');
  assert.equal(byLength.choices[0].stop_reason, null);
});

test('streamed echo: the prompt and its log-probs come in the first chunk; the stream joins to the whole answer', async () => {
  for (const [body, what] of [
    [{ prompt: 'hello world', max_tokens: 6, logprobs: 2 }, 'echo + logprobs'],
    [{ prompt: [tok.encode('blue river'), tok.encode('red')], max_tokens: 3, n: 2, logprobs: 1 }, 'two prompts, n 2'],
    [{ prompt: EOS_PROMPT, max_tokens: 0, logprobs: 1 }, 'max_tokens 0'],
    [{ prompt: 'hello world', max_tokens: 4 }, 'echo without logprobs'],
  ] as const) {
    const whole = await complete({ ...body, echo: true });
    const s = await chunks({ ...body, echo: true });
    whole.choices.forEach((c, i) => {
      const mine = s.flatMap((x) => x.choices as (Choice & { index: number })[]).filter((x) => x.index === i);
      const ids = typeof body.prompt === 'string' ? tok.encode(body.prompt) : body.prompt[Math.floor(i / 2)];
      const prompt = tok.decode([...ids], { skipSpecialTokens: false });
      assert.ok(mine[0].text.startsWith(prompt), `${what}: choice ${i}'s first chunk starts with the prompt`);
      assert.equal(mine.map((x) => x.text).join(''), c.text, `${what}: choice ${i}'s text`);
      assert.equal(mine.at(-1)!.finish_reason, c.finish_reason, `${what}: finish reason`);
      if (!c.logprobs)
        return assert.ok(
          mine.every((x) => x.logprobs === null),
          `${what}: no logprobs`,
        );
      const generated = c.logprobs.tokens.length - ids.length;
      assert.equal(mine[0].logprobs!.tokens.length, ids.length + Math.min(1, generated), `${what}: first chunk`);
      const joined = (f: keyof Legacy) => mine.flatMap((x) => x.logprobs?.[f] ?? []);
      for (const f of ['tokens', 'token_logprobs', 'top_logprobs'] as const)
        assert.deepEqual(joined(f), c.logprobs[f], `${what}: choice ${i}'s ${f}`);
      // the prompt's offsets as answered whole; a streamed token's offset counts the characters sent before it
      // (vLLM's previous_text_lens), which lags the token texts while a character's bytes are incomplete
      assert.deepEqual(mine[0].logprobs!.text_offset.slice(0, ids.length), c.logprobs.text_offset.slice(0, ids.length));
      let sent = 0;
      mine.forEach((x, k) => {
        const own = (x.logprobs?.text_offset ?? []).slice(k === 0 ? ids.length : 0);
        assert.ok(own.length <= 1, `${what}: one token per chunk after the first`);
        if (own.length === 1) assert.equal(own[0], sent + (k === 0 ? [...prompt].length : 0), `${what}: chunk ${k}`);
        sent += [...x.text].length;
      });
    });
  }
});
