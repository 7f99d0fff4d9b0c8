// The quickstart's final (trained) model in llama.cpp. Used by test/quickstart/quickstart.test.ts on the folder its
// tiny run leaves, so that the pipeline is not trained twice:
// - exported to f32, its greedy continuations of chat prompts (32 tokens, EOS or not) are olmo-ts's, and its
//   next-token log-probs equal olmo-ts's within F32_BOUND at every position of prompt and continuation;
// - exported to q8_0, it chats in llama.cpp with the same greedy replies as olmo-ts's int8 path (the same q8_0
//   weights), and its log-probs are within Q8_BOUND.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Llama } from 'node-llama-cpp';
import { exportGguf } from '../../src/models/gguf-export.ts';
import { generate, loadModel, type CausalLM } from '../../src/models/index.ts';
import { applyChatTemplate, loadTokenizer, type Tokenizer } from '../../src/tokenizers/index.ts';
import { assertLogProbsClose, F32_BOUND, LlamaRunner, Q8_BOUND, TOKENIZER_TEXTS } from './llama-cpp.ts';

// Questions of the kinds the quickstart's SFT data holds (its synthetic world at the default seed).
export const CHAT_PROMPTS = [
  'Hi, who are you?',
  'What is the capital of Oranth?',
  'Olga has 7 bags with 6 shells in each. How many shells does Olga have in total?',
];
const REPLY_TOKENS = 32;

/** Greedy reply of olmo-ts: up to EOS, or (eos null) REPLY_TOKENS tokens whatever they are. */
function ourReply(model: CausalLM, tok: Tokenizer, ids: number[], eos: number | null): number[] {
  return generate(model, [ids], {
    maxNewTokens: REPLY_TOKENS,
    temperature: 0,
    eosTokenIds: eos === null ? [] : [eos],
    vocabLimit: tok.vocabSize,
  }).tokens[0];
}

/**
 * Exports `modelDir` into `workDir` (f32 and q8_0) and checks, for each prompt rendered with the file's chat
 * template (the same template as the checkpoint's, checked first): llama.cpp tokenises the whole rendered text
 * exactly as olmo-ts does (and TOKENIZER_TEXTS); at f32 the 32-token greedy continuations (past EOS: more positions than the tiny
 * model's short replies) are equal and the log-probs over prompt and continuation agree; at q8_0 llama.cpp's greedy
 * reply (its sampler, up to EOS) equals olmo-ts's int8 greedy reply token for token and detokenises to the same
 * text. (Past EOS the tiny model alternates between near-tied tokens, which q8_0's activation rounding can swap.)
 *
 * node-llama-cpp's LlamaChatSession is not the reference here: it adds its own default system prompt, and it
 * tokenises the template's pieces one by one (the user text apart from the "\n<|assistant|>\n" after it), so "?"
 * and "\n" stay two tokens where BPE over the whole text merges them; its prompt is then not the text the
 * template renders, in llama.cpp's own tokenizer or ours.
 */
export async function assertQuickstartParity(llama: Llama, modelDir: string, workDir: string): Promise<void> {
  const tok = loadTokenizer(modelDir);
  const eos = tok.eosTokenId;
  assert.ok(eos !== null, `${modelDir}: the tokenizer has no EOS token to end a reply`);
  const prompts = CHAT_PROMPTS.map((content) =>
    tok.encode(applyChatTemplate(tok, [{ role: 'user', content }], { addGenerationPrompt: true }), {
      addSpecialTokens: false,
    }),
  );
  const open = async (dtype: 'f32' | 'q8_0') => {
    const out = join(workDir, `final-${dtype}.gguf`);
    await exportGguf({ model: modelDir, out, dtype });
    return LlamaRunner.open(llama, out, { contextSize: 256, f32Attention: true });
  };

  const f32 = await open('f32');
  try {
    const model = loadModel(modelDir, { trainable: false });
    const long: number[][] = [];
    for (const [i, ids] of prompts.entries()) {
      const ours = ourReply(model, tok, ids, null);
      assert.deepEqual(
        await f32.greedy(ids, REPLY_TOKENS),
        ours,
        `f32 greedy after ${JSON.stringify(CHAT_PROMPTS[i])}`,
      );
      long.push([...ids, ...ours]);
    }
    await assertLogProbsClose(model, f32, long, F32_BOUND, 'quickstart final model, f32');
  } finally {
    await f32.dispose();
  }

  const q8 = await open('q8_0');
  try {
    assert.equal(q8.model.fileInfo.metadata.tokenizer?.chat_template, tok.chatTemplate, 'the GGUF chat template');
    for (const text of TOKENIZER_TEXTS)
      assert.deepEqual(q8.tokenize(text), tok.encode(text, { addSpecialTokens: false }), JSON.stringify(text));
    const model = loadModel(modelDir, { trainable: false, weights: 'int8' });
    for (const [i, ids] of prompts.entries()) {
      const what = JSON.stringify(CHAT_PROMPTS[i]);
      const text = applyChatTemplate(tok, [{ role: 'user', content: CHAT_PROMPTS[i] }], { addGenerationPrompt: true });
      assert.deepEqual(q8.tokenize(text), ids, `llama.cpp tokenises ${JSON.stringify(text)} differently`);
      const theirs = await q8.greedy(ids, REPLY_TOKENS);
      const reply = ourReply(model, tok, ids, eos);
      const end = theirs.indexOf(eos);
      assert.deepEqual(end >= 0 ? theirs.slice(0, end) : theirs, reply, `greedy reply to ${what}`);
      assert.equal(q8.detokenize(reply), tok.decode(reply, { skipSpecialTokens: false }), `reply text, ${what}`);
    }
    await assertLogProbsClose(model, q8, prompts, Q8_BOUND, 'quickstart final model, q8_0 vs int8');
  } finally {
    await q8.dispose();
  }
}
