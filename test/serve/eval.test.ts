// `olmo eval --openai` against `olmo serve`: the OpenAI-compatible backend scoring through the server gives the
// metrics and predictions of the in-process backend (log-likelihood tasks in echo and prompt_logprobs modes,
// token and text prompts, several requests in flight), and the same generations.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, after } from 'node:test';
import { LocalHfFolderSource } from '../../src/eval/data/source.ts';
import { runEval } from '../../src/eval/runner/run.ts';
import { LocalBackend } from '../../src/eval/backends/local.ts';
import { OpenAIBackend } from '../../src/eval/backends/openai.ts';
import { planEvaluation } from '../../src/eval/runner/evaluate.ts';
import type { GenerateUntilRequest } from '../../src/eval/types.ts';
import { setBackend } from '../../src/tensor/index.ts';
import { tmp, writeMcTask } from '../eval/backends/helpers.ts';
import { MODEL_NAME, serve, tinyModel } from './helpers.ts';

// equality between one chunked prefill (the server) and prefill + cached continuation (the in-process scorer)
// holds on the js kernels; the native kernels round differently for some row counts (see batching.test.ts)
setBackend('js');
const { model, tokenizer: tok } = tinyModel();
const server = await serve({ maxNumSeqs: 4, prefillChunk: 32 });
after(() => server.close());
const dataRoot = tmp('serve-eval-data');
writeMcTask(dataRoot, 'tinymc', 6);
const TASKS = planEvaluation(['local_mc:tinymc:mc', 'local_mc:tinymc:rc'], { num_shots: 0 }).plan;
const source = () => new LocalHfFolderSource(dataRoot);
const openai = (extra: Partial<ConstructorParameters<typeof OpenAIBackend>[0]> = {}) =>
  new OpenAIBackend({
    baseUrl: `${server.url}/v1`,
    model: MODEL_NAME,
    maxLength: 128,
    retryBaseMs: 5,
    concurrency: 4,
    ...extra,
  });
const preds = (dir: string, file: string) =>
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

test('log-likelihood tasks through olmo serve: metrics and predictions identical to the in-process backend', async () => {
  const outL = tmp('serve-eval-local');
  const rl = await runEval({
    tasks: TASKS,
    source: source(),
    outputDir: outL,
    backend: new LocalBackend({ model, tokenizer: tok, name: 'tiny', modelBatchSize: 1 }),
    batchSize: 7,
  });
  for (const [mode, backend] of [
    ['echo, token ids', openai({ tokenizer: tok })],
    ['prompt_logprobs', openai({ tokenizer: tok, logprobsMode: 'prompt_logprobs' })],
  ] as const) {
    const out = tmp('serve-eval-openai');
    const ro = await runEval({ tasks: TASKS, source: source(), outputDir: out, backend, batchSize: 5 });
    assert.deepEqual(
      ro.tasks.map((t) => t.metrics),
      rl.tasks.map((t) => t.metrics),
      mode,
    );
    assert.deepEqual(ro.metrics.all_primary_scores, rl.metrics.all_primary_scores, mode);
    for (const f of ['task-000-tinymc-predictions.jsonl', 'task-001-tinymc-predictions.jsonl'])
      assert.deepEqual(preds(out, f), preds(outL, f), `${mode}: ${f}`);
  }
  // text prompts (no local tokenizer): the server tokenizes and reports text offsets
  const textMode = await runEval({
    tasks: TASKS,
    source: source(),
    outputDir: tmp('serve-eval-text'),
    backend: openai(),
    batchSize: 5,
  });
  assert.deepEqual(textMode.metrics.all_primary_scores, rl.metrics.all_primary_scores, 'text mode');
});

test('generation requests through olmo serve equal the in-process generations', async () => {
  const mk = (context: string, stop: string[], max = 12): GenerateUntilRequest => ({
    type: 'generate_until',
    context,
    generation_kwargs: { max_gen_toks: max, do_sample: false, temperature: 0, stop_sequences: stop },
  });
  const reqs = [
    mk('hello world', []),
    mk('Question: red?\nAnswer:', ['\n\n', 'Question:'], 20),
    mk('abc', [], 3),
    mk('stone river', ['e'], 16),
  ];
  const local = await new LocalBackend({ model, tokenizer: tok, name: 'tiny', modelBatchSize: 2 }).generateUntil(reqs);
  assert.deepEqual(await openai({ tokenizer: tok }).generateUntil(reqs), local);
  assert.deepEqual(await openai().generateUntil(reqs), local);
});
