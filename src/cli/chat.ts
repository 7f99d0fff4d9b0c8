// `olmo chat`: an interactive conversation through the chat template, streaming each reply and keeping the
// history. Reads one user message per line (so it also works with piped input).
import { createInterface } from 'node:readline';
import { generate, applyChatTemplate, type ChatMessage } from '../index.ts';
import { parseCommandArgs, type Command, optionTable } from './command.ts';
import { StreamPrinter } from './generate.ts';
import { ALIGN_HELP, alignOption, loadModelAndTokenizer, QUANTIZE_HELP, quantizeOption } from './model-loading.ts';
import { readSampling, samplingHelp, samplingOptions } from './sampling-args.ts';

export const chatCommand: Command = {
  name: 'chat',
  summary: 'chat with a model interactively (chat template, streaming, history)',
  usage: `olmo chat --model DIR|ID [options]

  --model DIR|ID       checkpoint folder or hub id owner/name[@revision] (its chat template, or the built-in Tülu/OLMo 2 one)
  --system TEXT        a system message at the start of the conversation
  --tokenizer DIR|dolma2  tokenizer to use when the checkpoint has no tokenizer.json
${QUANTIZE_HELP}
${ALIGN_HELP}
${samplingHelp}

In the conversation: /reset clears the history, /exit (or Ctrl-D) quits.`,
  async run(argv) {
    const { values } = parseCommandArgs('chat', {
      args: argv,
      options: {
        ...optionTable(['model', 'system', 'tokenizer']),
        ...quantizeOption,
        ...alignOption,
        ...samplingOptions,
      },
    });
    const sampling = readSampling('chat', values);
    const { dir, model, tokenizer: tok } = await loadModelAndTokenizer('chat', values);
    const initial: ChatMessage[] = values.system ? [{ role: 'system', content: values.system }] : [];
    let history: ChatMessage[] = [...initial];
    const interactive = process.stdin.isTTY === true;
    const rl = createInterface({
      input: process.stdin,
      output: interactive ? process.stdout : undefined,
      prompt: interactive ? 'you> ' : '',
    });
    if (interactive) {
      console.log(`Chatting with ${dir} (${model.config.modelType}). /reset clears the history, /exit quits.`);
      rl.prompt();
    }
    for await (const line of rl) {
      const input = line.trim();
      if (input === '/exit' || input === '/quit') break;
      if (input === '/reset') {
        history = [...initial];
        if (interactive) rl.prompt();
        continue;
      }
      if (input === '') {
        if (interactive) rl.prompt();
        continue;
      }
      history.push({ role: 'user', content: input });
      const ids = tok.encode(applyChatTemplate(tok, history, { addGenerationPrompt: true }), {
        addSpecialTokens: false,
      });
      const room = model.config.maxPositionEmbeddings - ids.length;
      if (room <= 0) {
        console.error(
          `the conversation is ${ids.length} tokens, the model's context is ${model.config.maxPositionEmbeddings}; /reset to start over`,
        );
        history.pop();
        if (interactive) rl.prompt();
        continue;
      }
      if (interactive) process.stdout.write('olmo> ');
      const printer = new StreamPrinter(sampling.stop);
      const decode = (t: number[]) => tok.decode(t, { skipSpecialTokens: true });
      const result = generate(model, [ids], {
        ...sampling,
        maxNewTokens: Math.min(sampling.maxNewTokens, room),
        eosTokenIds: tok.eosTokenId !== null ? [tok.eosTokenId] : undefined,
        vocabLimit: tok.vocabSize,
        decode,
        onToken: (_, id) => printer.push(id, decode),
      });
      printer.finish(result.texts[0]);
      history.push({ role: 'assistant', content: result.texts[0] });
      if (interactive) rl.prompt();
    }
    rl.close();
    return 0;
  },
};
