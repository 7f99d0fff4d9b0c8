// `olmo generate`: continue a prompt (or answer it through the chat template), streaming tokens as they come.
import { generate, applyChatTemplate } from '../index.ts';
import { parseCommandArgs, UsageError, type Command, optionTable } from './command.ts';
import { ALIGN_HELP, alignOption, loadModelAndTokenizer, QUANTIZE_HELP, quantizeOption } from './model-loading.ts';
import { readSampling, samplingHelp, samplingOptions } from './sampling-args.ts';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate text from a prompt',
  usage: `olmo generate --model DIR|ID --prompt TEXT [options]

  --model DIR|ID       Hugging Face checkpoint folder, or hub id owner/name[@revision]
  --prompt TEXT        the prompt (use --chat to wrap it as a user message)
  --chat               render the prompt with the chat template (the built-in Tülu/OLMo 2 one if none)
  --tokenizer DIR|dolma2  tokenizer to use when the checkpoint has no tokenizer.json
  --no-stream          print the text only when it is complete
${QUANTIZE_HELP}
${ALIGN_HELP}
${samplingHelp}`,
  async run(argv) {
    const { values } = parseCommandArgs('generate', {
      args: argv,
      options: {
        ...optionTable(['model', 'prompt', 'tokenizer'], ['chat', 'no-stream']),
        ...quantizeOption,
        ...alignOption,
        ...samplingOptions,
      },
    });
    if (values.prompt === undefined) throw new UsageError('olmo generate: --prompt TEXT is required');
    const sampling = readSampling('generate', values);
    const { model, tokenizer: tok } = await loadModelAndTokenizer('generate', values);
    const text = values.chat
      ? applyChatTemplate(tok, [{ role: 'user', content: values.prompt }], { addGenerationPrompt: true })
      : values.prompt;
    const prompt = tok.encode(text, { addSpecialTokens: !values.chat });
    if (prompt.length === 0) throw new UsageError('olmo generate: the prompt encodes to no tokens');
    const maxNewTokens = capToContext(model.config.maxPositionEmbeddings, prompt.length, sampling.maxNewTokens);
    const printer = values['no-stream'] ? null : new StreamPrinter(sampling.stop);
    const decode = (ids: number[]) => tok.decode(ids, { skipSpecialTokens: true });
    const result = generate(model, [prompt], {
      ...sampling,
      maxNewTokens,
      eosTokenIds: tok.eosTokenId !== null ? [tok.eosTokenId] : undefined,
      vocabLimit: tok.vocabSize,
      decode,
      onToken: printer ? (_, id) => printer.push(id, decode) : undefined,
    });
    if (printer) printer.finish(result.texts[0]);
    else process.stdout.write(`${result.texts[0]}\n`);
    process.stderr.write(`[${result.tokens[0].length} tokens, finished by ${result.finishReasons[0]}]\n`);
    return 0;
  },
};

/**
 * The tokens that fit after the prompt within the model's context (max_position_embeddings): the budget itself,
 * or what is left with a note on stderr; a prompt that fills the context is refused. Without this a 64-position
 * model asked for 1e6 new tokens allocated a cache for all of them and went on past what it was trained for.
 */
export function capToContext(
  context: number,
  promptTokens: number,
  maxNewTokens: number,
  log = (s: string) => process.stderr.write(s),
): number {
  const room = context - promptTokens;
  if (room <= 0) {
    throw new UsageError(
      `olmo generate: the prompt is ${promptTokens} tokens, the model's context is ${context} positions; shorten the prompt`,
    );
  }
  if (maxNewTokens <= room) return maxNewTokens;
  log(
    `olmo generate: --max-new-tokens ${maxNewTokens} capped to ${room}: the model's context is ${context} positions and the prompt takes ${promptTokens}\n`,
  );
  return room;
}

/**
 * Prints generated text as it grows, holding back the last characters that could still turn out to be the
 * start of a stop string, so nothing past a stop string is ever printed.
 */
export class StreamPrinter {
  private printed = 0;
  private readonly ids: number[] = [];
  private readonly holdBack: number;

  constructor(
    stops: string[],
    private readonly out: (s: string) => void = (s) => process.stdout.write(s),
  ) {
    this.holdBack = Math.max(0, ...stops.map((s) => s.length - 1));
  }

  push(id: number, decode: (ids: number[]) => string): void {
    this.ids.push(id);
    const text = decode(this.ids);
    // A trailing U+FFFD may be an incomplete UTF-8 character that the next token completes.
    const stable = text.endsWith('\uFFFD') ? text.length - 1 : text.length;
    const upTo = stable - this.holdBack;
    if (upTo > this.printed) {
      this.out(text.slice(this.printed, upTo));
      this.printed = upTo;
    }
  }

  /** Prints the rest of the final text (already cut at any stop string). */
  finish(finalText: string): void {
    this.out(`${finalText.slice(this.printed)}\n`);
  }
}
