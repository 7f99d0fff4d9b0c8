// `olmo serve`: an OpenAI-compatible HTTP server for a checkpoint (see src/serve). SIGTERM / SIGINT stop it
// gracefully: no new requests, running ones finish within the grace period, the rest are aborted.
import { startServer } from '../index.ts';
import { numberOption, optionTable, parseCommandArgs, UsageError, type Command } from './command.ts';
import {
  ALIGN_HELP,
  loadInferenceModel,
  MODEL_REF_HELP,
  QUANTIZE_HELP,
  readQuantize,
  resolveModelArg,
  resolveTokenizer,
} from './model-loading.ts';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve a model over the OpenAI API (continuous batching, log-probs, batch-invariant results)',
  usage: `olmo serve --model DIR|ID [options]

  --model DIR|ID            ${MODEL_REF_HELP}
  --host HOST               address to listen on (default 127.0.0.1; anything else without --api-key warns)
  --port N                  port (default 8000; 0 picks a free one)
  --api-key KEY             require "Authorization: Bearer KEY" on every route but /health and /metrics
  --served-model-name NAME  the model name clients send (default: the --model argument)
  --max-num-seqs N          sequences decoded together, the KV cache's slots (default 16)
  --max-queue N             requests waiting for a slot before 429 Too Many Requests (default 256)
  --max-model-len N         tokens per sequence, prompt and completion (default: the model's max_position_embeddings)
  --prefill-chunk N         prompt tokens per step, run in one forward with the decode rows (default 64)
  --grace-seconds S         on SIGTERM, how long running requests may finish (default 30)
  --tokenizer DIR|dolma2    tokenizer to use when the checkpoint has no tokenizer.json
${QUANTIZE_HELP}
${ALIGN_HELP}

Endpoints: GET /v1/models, POST /v1/completions, POST /v1/chat/completions, POST /tokenize, POST /detokenize,
GET /health, GET /metrics. Point any OpenAI client at http://HOST:PORT/v1.`,
  async run(argv) {
    const { values } = parseCommandArgs('serve', {
      args: argv,
      options: optionTable(
        [
          'model',
          'host',
          'port',
          'api-key',
          'served-model-name',
          'max-num-seqs',
          'max-queue',
          'max-model-len',
          'prefill-chunk',
          'grace-seconds',
          'tokenizer',
          'quantize',
        ],
        ['align-weights'],
      ),
    });
    const int = (name: string, min: number, max?: number) =>
      numberOption('serve', name, values[name as keyof typeof values] as string | undefined, {
        integer: true,
        min,
        max,
      });
    const port = int('port', 0, 65535) ?? 8000;
    const maxNumSeqs = int('max-num-seqs', 1);
    const maxQueue = int('max-queue', 0);
    const maxModelLen = int('max-model-len', 1);
    const prefillChunk = int('prefill-chunk', 1);
    const grace = numberOption('serve', 'grace-seconds', values['grace-seconds'], { min: 0 }) ?? 30;
    const quantize = readQuantize('serve', values.quantize);
    if (values['api-key'] === '') throw new UsageError('olmo serve: --api-key must not be empty');
    const dir = await resolveModelArg('serve', values.model);
    const model = loadInferenceModel(dir, quantize, values['align-weights'] ?? false);
    const tokenizer = resolveTokenizer('serve', dir, model, values.tokenizer);
    if (maxModelLen !== undefined && maxModelLen > model.config.maxPositionEmbeddings) {
      throw new UsageError(
        `olmo serve: --max-model-len ${maxModelLen} exceeds the model's max_position_embeddings ${model.config.maxPositionEmbeddings}`,
      );
    }
    const server = await startServer({
      model,
      tokenizer,
      servedModelName: values['served-model-name'] ?? values.model!,
      root: dir,
      host: values.host,
      port,
      apiKey: values['api-key'],
      maxNumSeqs,
      maxQueue,
      maxModelLen,
      prefillChunk,
    });
    const s = server.engine.scheduler.opts;
    console.error(
      `olmo serve: ${server.engine.name} at ${server.url}/v1 (${s.maxNumSeqs} sequences × ${s.maxModelLen} tokens, queue ${s.maxQueue})`,
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        console.error(`olmo serve: ${signal}: no new requests; running ones have ${grace} s to finish`);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        server.close(grace * 1000).then(resolve, (e) => {
          console.error(`olmo serve: closing failed: ${(e as Error).message}`);
          resolve();
        });
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    console.error('olmo serve: stopped');
    return 0;
  },
};
