// `olmo dashboard`: the web dashboard over the run, eval, model and quickstart folders under DIR (see
// src/dashboard). Read-only over the folders. SIGTERM / SIGINT close it.
import { startDashboard, type DashboardChatOption } from '../index.ts';
import { numberOption, optionTable, parseCommandArgs, UsageError, type Command } from './command.ts';
import { loadInferenceModel, MODEL_REF_HELP, resolveModelArg, resolveTokenizer } from './model-loading.ts';

async function chatOption(model: string | undefined, openai: string | undefined): Promise<DashboardChatOption> {
  if (model !== undefined && openai !== undefined)
    throw new UsageError('olmo dashboard: give --model or --openai for the chat playground, not both');
  if (openai !== undefined) {
    if (!/^https?:\/\/[^/]/.test(openai))
      throw new UsageError(
        `olmo dashboard: --openai expects an http(s) base URL such as http://127.0.0.1:8000/v1, got ${openai}`,
      );
    return { openai };
  }
  if (model === undefined) return null;
  const dir = await resolveModelArg('dashboard', model);
  const m = loadInferenceModel(dir, undefined);
  const tokenizer = resolveTokenizer('dashboard', dir, m, undefined);
  return { serve: { model: m, tokenizer, servedModelName: model, root: dir } };
}

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'browse runs, evaluations and models in a web page, live while training (read-only)',
  usage: `olmo dashboard [DIR ...] [options]

Serves a web dashboard over the training runs, oe-eval output folders, model checkpoints and quickstart folders
found under each DIR (default: the current folder). It only reads them.

  --host HOST      address to listen on (default 127.0.0.1; anything else warns: the page serves your files)
  --port N         port (default 8100; 0 picks a free one)
  --model DIR|ID   chat playground with this model, served in-process (${MODEL_REF_HELP})
  --openai URL     chat playground against an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (olmo serve)`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('dashboard', {
      args: argv,
      allowPositionals: true,
      options: optionTable(['host', 'port', 'model', 'openai']),
    });
    const port = numberOption('dashboard', 'port', values.port, { integer: true, min: 0, max: 65535 }) ?? 8100;
    const chat = await chatOption(values.model, values.openai);
    const dashboard = await startDashboard({
      roots: positionals.length > 0 ? positionals : ['.'],
      host: values.host,
      port,
      chat,
    });
    console.log(
      `olmo dashboard: ${dashboard.url}/ (reading ${(positionals.length > 0 ? positionals : ['.']).join(', ')})`,
    );
    // close() is idempotent: a second signal while closing waits for the same close
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        console.error(`olmo dashboard: ${signal}: closing`);
        dashboard.close().then(resolve, (e: Error) => {
          console.error(`olmo dashboard: closing failed: ${e.message}`);
          resolve();
        });
      };
      process.once('SIGTERM', stop).once('SIGINT', stop);
    });
    return 0;
  },
};
