// The local and OpenAI-compatible backends: identical metrics through both (the loopback server serves real
// log-probs from the same model), batch-size and concurrency invariance, retries on 500/429, a dead port, the
// concurrency limit, rolling windows and generation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { runEval } from '../../../src/eval/runner/run.ts';
import { LocalBackend } from '../../../src/eval/backends/local.ts';
import { OpenAIBackend, OpenAIBackendError, normalizeBaseUrl } from '../../../src/eval/backends/openai.ts';
import { rollingWindows } from '../../../src/eval/backends/rolling.ts';
import { extractLocalMc, localMcIds } from '../../../src/eval/tasks/local-mc.ts';
import { TASKS as REGISTRY } from '../../../src/eval/registry.ts';
import { planEvaluation } from '../../../src/eval/runner/evaluate.ts';
import type { GenerateUntilRequest, LoglikelihoodRequest } from '../../../src/eval/types.ts';
import { loadModel } from '../../../src/models/index.ts';
import { setBackend } from '../../../src/tensor/index.ts';
import { loadTokenizer } from '../../../src/tokenizers/index.ts';
import { startFakeOpenAIServer } from './fake-openai-server.ts';
import { tinyCheckpoint, tmp, writeMcTask } from './helpers.ts';

// Exact equality between a one-pass forward (the server) and prefill + cached continuation (the local backend)
// holds on the js kernels; see the report for the native kernels.
setBackend('js');
const ckpt = tinyCheckpoint();
const model = loadModel(ckpt, { trainable: false });
const tok = loadTokenizer(ckpt);
const dataRoot = tmp('backend-data');
writeMcTask(dataRoot, 'tinymc', 4);
// local_mc:NAME ids become a family of their own, passed to the registry (no global table is changed)
const TASKS = planEvaluation(['local_mc:tinymc:mc', 'local_mc:tinymc:rc'], { num_shots: 0 }).plan;
const source = () => new LocalHfFolderSource(dataRoot);
const local = (modelBatchSize = 1) => new LocalBackend({ model, tokenizer: tok, name: 'tiny', modelBatchSize });
const openai = (url: string, extra: Partial<ConstructorParameters<typeof OpenAIBackend>[0]> = {}) =>
  new OpenAIBackend({ baseUrl: url, model: 'fake-model', maxLength: 128, retryBaseMs: 5, ...extra });
const taskMetricsOf = (r: Awaited<ReturnType<typeof runEval>>) => r.tasks.map((t) => [t.task_config.alias, t.metrics]);
const predsOf = (dir: string, file: string) =>
  readFileSync(join(dir, file), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const p = JSON.parse(l);
      return {
        metrics: p.metrics,
        out: p.model_output.map((o: Record<string, unknown>) => ({ ...o, num_tokens_all: undefined })),
      };
    });

const REQS: LoglikelihoodRequest[] = [
  { type: 'loglikelihood', context: 'Question: hello world?\nAnswer:', continuation: ' hello' },
  { type: 'loglikelihood', context: 'Question: hello world?\nAnswer:', continuation: ' world wide' },
  { type: 'loglikelihood', context: 'Answer: ', continuation: 'red' }, // trailing space moves to the continuation
  { type: 'loglikelihood', context: 'x'.repeat(200), continuation: ' truncated from the left' },
  { type: 'loglikelihood', context: '', continuation: 'unconditional' },
];

test('local backend: lm-eval token counts, left truncation, shared contexts, batch invariance', async () => {
  const a = await local(1).loglikelihood(REQS);
  assert.equal(a[0].numTokens, tok.encode(' hello', { addSpecialTokens: false }).length);
  assert.equal(a[2].numTokens, tok.encode(' red').length);
  assert.equal(a[3].numTokensAll, 129); // maxLength = min(2048, max_position_embeddings 128); 128 fed + the last
  assert.ok(a.every((r) => Number.isFinite(r.logprob) && r.logprob < 0));
  for (const bs of [2, 5]) assert.deepEqual(await local(bs).loglikelihood(REQS), a);
  // one request alone gives the same numbers as inside a batch
  for (const [i, r] of REQS.entries()) assert.deepEqual((await local(1).loglikelihood([r]))[0], a[i]);
});

test('rolling windows follow lm-eval (every token predicted once, windows of maxLength)', () => {
  const toks = Array.from({ length: 10 }, (_, i) => 100 + i);
  const w = rollingWindows(toks, 0, 4);
  assert.deepEqual(w, [
    { context: [0], continuation: [100, 101, 102, 103] },
    { context: [103], continuation: [104, 105, 106, 107] },
    { context: [105, 106, 107], continuation: [108, 109] },
  ]);
  assert.deepEqual(rollingWindows([5, 6], 0, 4), [{ context: [0], continuation: [5, 6] }]);
  assert.deepEqual(rollingWindows([], 0, 4), []);
  assert.deepEqual(
    rollingWindows([1, 2, 3, 4, 5], 9, 1),
    [1, 2, 3, 4, 5].map((t, i) => ({ context: [i === 0 ? 9 : t - 1], continuation: [t] })),
  );
});

test('local_mc rows: answerKey as label or digit, clear errors for bad rows and ids', () => {
  assert.equal(
    extractLocalMc({ question: 'q', choices: { text: ['a', 'b'], label: ['A', 'B'] }, answerKey: '2' }, 'w').gold,
    1,
  );
  assert.equal(
    extractLocalMc({ question: 'q', choices: { text: ['a', 'b'], label: ['1', '2'] }, answerKey: '2' }, 'w').gold,
    1,
  );
  assert.throws(
    () =>
      extractLocalMc(
        { question: 'q', choices: { text: ['a', 'b'], label: ['A', 'B'] }, answerKey: 'C' },
        'f.jsonl row 3',
      ),
    /f\.jsonl row 3: field "answerKey" "C" is not one of choices\.label/,
  );
  const known = (n: string) => REGISTRY.mcFamily(n);
  assert.throws(() => localMcIds(['local_mc:arc_easy'], known), /already a task/);
  assert.throws(() => localMcIds(['local_mc:x:zz'], known), /expected local_mc:NAME/);
  assert.deepEqual(localMcIds(['local_mc:synth_world:rc', 'arc_easy'], known), {
    ids: ['synth_world:rc::olmes', 'arc_easy'],
    families: [],
  });
  const fresh = localMcIds(['local_mc:mine', 'local_mc:mine:mc::olmes:full'], known);
  assert.deepEqual(fresh.ids, ['mine::olmes', 'mine:mc::olmes:full']);
  assert.deepEqual(
    fresh.families.map((f) => f.name),
    ['mine'],
  );
  assert.equal(REGISTRY.mcFamily('mine'), undefined, 'the built-in registry is not changed');
});

test('local and openai backends give identical metrics (echo and prompt_logprobs, text and token prompts)', async () => {
  const server = await startFakeOpenAIServer({ model, tokenizer: tok });
  try {
    const outL = tmp('run-local');
    const rl = await runEval({ tasks: TASKS, source: source(), outputDir: outL, backend: local(), batchSize: 7 });
    const out = tmp('run-openai');
    const ro = await runEval({
      tasks: TASKS,
      source: source(),
      outputDir: out,
      backend: openai(server.url, { tokenizer: tok, concurrency: 3 }),
      batchSize: 5,
    });
    assert.deepEqual(taskMetricsOf(ro), taskMetricsOf(rl));
    assert.deepEqual(ro.metrics.all_primary_scores, rl.metrics.all_primary_scores);
    for (const f of ['task-000-tinymc-predictions.jsonl', 'task-001-tinymc-predictions.jsonl'])
      assert.deepEqual(predsOf(out, f), predsOf(outL, f), f);
    // the other ways of asking for log-probs, request by request
    const fit = REQS.slice(0, 3).concat(REQS[4]);
    const lf = await local().loglikelihood(fit);
    assert.deepEqual(
      await openai(server.url + '/v1/', { tokenizer: tok, logprobsMode: 'prompt_logprobs' }).loglikelihood(fit),
      lf,
      'prompt_logprobs',
    );
    assert.deepEqual(
      await openai(server.url, { tokenizer: tok, echoMaxTokens: 1 }).loglikelihood(fit),
      lf,
      'echo with a generated token',
    );
    // text mode (no local tokenizer): the server tokenises; contexts short enough that nothing is truncated
    const short = REQS.slice(0, 3);
    const lt = await local().loglikelihood(short);
    const ot = await openai(server.url).loglikelihood(short);
    assert.deepEqual(
      ot.map((r) => ({ ...r, numTokensAll: undefined })),
      lt.map((r) => ({ ...r, numTokensAll: undefined })),
    );
    await assert.rejects(openai(server.url).loglikelihood([REQS[4]]), /empty context needs a local tokenizer/);
    // truncated requests: the server holds maxLength tokens, the in-process model maxLength + 1, so an openai
    // backend at 128 matches a local backend at 127
    const local127 = new LocalBackend({ model, tokenizer: tok, name: 'tiny', maxLength: 127 });
    const o128 = openai(server.url, { tokenizer: tok });
    assert.deepEqual(await o128.loglikelihood([REQS[3]]), await local127.loglikelihood([REQS[3]]));
    // rolling log-likelihood through both, over several windows
    const roll = [
      { type: 'loglikelihood_rolling' as const, context: 'hello world, '.repeat(50) },
      { type: 'loglikelihood_rolling' as const, context: 'short' },
    ];
    const rL = await local127.loglikelihoodRolling(roll);
    assert.equal(rL[0].numTokens, tok.encode(roll[0].context).length);
    assert.ok(rL[0].numTokens > 2 * 127, `several windows: ${rL[0].numTokens} tokens`);
    assert.deepEqual(await o128.loglikelihoodRolling(roll), rL);
  } finally {
    await server.close();
  }
});

test('generation: stop sequences and max_gen_toks, same text in-process and over HTTP', async () => {
  const server = await startFakeOpenAIServer({ model, tokenizer: tok });
  try {
    const mk = (context: string, stop: string[], max = 12): GenerateUntilRequest => ({
      type: 'generate_until',
      context,
      generation_kwargs: { max_gen_toks: max, do_sample: false, temperature: 0, stop_sequences: stop },
    });
    const reqs = [mk('hello world', []), mk('Question: red?\nAnswer:', ['\n\n', 'Question:'], 20), mk('abc', [], 3)];
    const g = await local().generateUntil(reqs);
    const free = (await local().generateUntil([mk('hello world', [], 12)]))[0];
    assert.equal(g[0], free);
    assert.ok(tok.encode(g[2], { addSpecialTokens: false }).length <= 3);
    // a stop string taken from the free generation cuts there
    if (free.length > 2) {
      const stop = free.slice(1, 2);
      const [cut] = await local().generateUntil([mk('hello world', [stop])]);
      assert.equal(cut, free.slice(0, free.indexOf(stop)));
    }
    assert.deepEqual(await openai(server.url, { tokenizer: tok }).generateUntil(reqs), g);
    const chat = await openai(server.url, { generationApi: 'chat' }).generateUntil([reqs[0]]);
    assert.equal(chat[0], g[0]);
    // A task's own conversation (system prompt included) is sent as is.
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'hello world' },
    ];
    await openai(server.url, { generationApi: 'chat' }).generateUntil([{ ...reqs[0], messages }]);
    assert.deepEqual(server.stats.bodies[server.stats.bodies.length - 1].messages, messages);
  } finally {
    await server.close();
  }
});

test('openai transport: retries on 500/429 then success, API key, concurrency limit, invariance', async () => {
  const faults = new Map<number, number | 'drop'>([
    [0, 500],
    [1, 429],
    [2, 'drop'],
    [5, 503],
  ]);
  const server = await startFakeOpenAIServer({
    model,
    tokenizer: tok,
    fault: (n) => faults.get(n),
    delayMs: 20,
    apiKey: 'sekret',
  });
  try {
    const logs: string[] = [];
    const reqs = Array.from({ length: 12 }, (_, i) => ({
      type: 'loglikelihood' as const,
      context: `Question ${i % 3}?\nAnswer:`,
      continuation: ` word ${i}`,
    }));
    const b1 = openai(server.url, { tokenizer: tok, concurrency: 1, apiKey: 'sekret', log: (m) => logs.push(m) });
    const r1 = await b1.loglikelihood(reqs);
    assert.ok(logs.some((l) => /HTTP 500/.test(l)) && logs.some((l) => /HTTP 429/.test(l)), logs.join('\n'));
    assert.equal(server.stats.maxInFlight, 1);
    assert.ok(server.stats.authorization.every((a) => a === 'Bearer sekret'));
    server.stats.maxInFlight = 0;
    const r3 = await openai(server.url, { tokenizer: tok, concurrency: 3, apiKey: 'sekret' }).loglikelihood(reqs);
    assert.equal(server.stats.maxInFlight, 3);
    assert.deepEqual(r3, r1);
    assert.deepEqual(await local().loglikelihood(reqs), r1);
    // a 4xx other than 429 is not retried and names the URL
    await assert.rejects(
      openai(server.url, { tokenizer: tok, apiKey: 'wrong' }).loglikelihood(reqs.slice(0, 1)),
      (e: Error) =>
        e instanceof OpenAIBackendError &&
        /rejected the request: HTTP 401/.test(e.message) &&
        e.message.includes(server.url),
    );
  } finally {
    await server.close();
  }
});

test('openai transport: a dead port gives a clear error naming the URL after the retries; timeouts are retried', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const b = openai(url, { tokenizer: tok, maxRetries: 2 });
  await assert.rejects(b.loglikelihood(REQS.slice(0, 2)), (e: Error) => {
    assert.match(
      e.message,
      new RegExp(
        `cannot get an answer from the OpenAI-compatible server at ${url}/v1/completions: .*ECONNREFUSED.*after 3 attempts`,
      ),
    );
    return true;
  });
  const hang = await startFakeOpenAIServer({ model, tokenizer: tok, fault: (n) => (n === 0 ? 'hang' : undefined) });
  try {
    const logs: string[] = [];
    const r = await openai(hang.url, { tokenizer: tok, timeoutMs: 200, log: (m) => logs.push(m) }).loglikelihood(
      REQS.slice(0, 1),
    );
    assert.deepEqual(r, await local().loglikelihood(REQS.slice(0, 1)));
    assert.match(logs[0], /no answer within 200 ms/);
  } finally {
    await hang.close();
  }
  assert.equal(normalizeBaseUrl('http://h:1/'), 'http://h:1/v1');
  assert.equal(normalizeBaseUrl('http://h:1/v1/'), 'http://h:1/v1');
  assert.throws(() => normalizeBaseUrl('localhost:8000'), /not a valid URL|only http/);
});
