// Shared by the server tests: the tiny OLMo 2 fixture checkpoint with the self-made tokenizer, served on a
// loopback port, and the official `openai` client pointed at it.
import OpenAI from 'openai';
import { loadModel } from '../../src/models/index.ts';
import { startServer, type RunningServer, type ServeOptions } from '../../src/serve/index.ts';
import { loadTokenizer } from '../../src/tokenizers/index.ts';
import { tinyCheckpoint } from '../eval/backends/helpers.ts';

export const MODEL_NAME = 'tiny';

let ckpt: string | null = null;

export function checkpoint(): string {
  return (ckpt ??= tinyCheckpoint());
}

export function tinyModel() {
  const dir = checkpoint();
  return { model: loadModel(dir, { trainable: false }), tokenizer: loadTokenizer(dir) };
}

export async function serve(opts: Partial<ServeOptions> = {}): Promise<RunningServer> {
  return startServer({ ...tinyModel(), servedModelName: MODEL_NAME, port: 0, log: () => {}, ...opts });
}

export function client(server: RunningServer, apiKey = 'none'): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}
