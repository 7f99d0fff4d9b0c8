// Held-out SFT evaluation: the assistant-token loss (mean cross-entropy over the label tokens of held-out
// conversations) and exact match (greedy generation from each held-out prompt — the conversation before its last
// assistant turn, with the generation prompt — against that turn's text, both trimmed).
import { generate, type CausalLM } from '../../models/index.ts';
import { noGrad, tidy } from '../../tensor/index.ts';
import { applyChatTemplate, type ChatMessage, type Tokenizer } from '../../tokenizers/index.ts';
import type { EncodedExample } from '../common/encode.ts';
import { labelCrossEntropy } from '../common/logprobs.ts';

/** Mean cross-entropy per label token over the examples (micro-batches of `batch` sequences), and the token count. */
export function assistantLoss(
  model: CausalLM,
  examples: readonly EncodedExample[],
  batch = 8,
): { loss: number; tokens: number } {
  let sum = 0;
  let tokens = 0;
  // Sorting by length keeps padding small; the result does not depend on the grouping.
  const order = examples.map((_, i) => i).sort((a, b) => examples[a].ids.length - examples[b].ids.length);
  noGrad(() => {
    for (let i = 0; i < order.length; i += batch) {
      tidy(() => {
        const r = labelCrossEntropy(
          model,
          order.slice(i, i + batch).map((j) => examples[j]),
        );
        sum += r.loss.item();
        tokens += r.count;
      });
    }
  });
  return { loss: tokens > 0 ? sum / tokens : NaN, tokens };
}

export interface ExactMatchItem {
  prompt: number[];
  reference: string;
}

/** Prompt ids (conversation before the last assistant turn + generation prompt) and the reference reply. */
export function exactMatchItem(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  template?: string,
): ExactMatchItem | null {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'assistant' || messages.length < 2) return null;
  const text = applyChatTemplate(tokenizer, messages.slice(0, -1), { addGenerationPrompt: true, template });
  return { prompt: tokenizer.encode(text, { addSpecialTokens: false, allowSpecial: true }), reference: last.content };
}

export interface ExactMatchResult {
  exactMatch: number;
  n: number;
  /** A few (reference, generated) pairs for the log. */
  samples: { reference: string; generated: string }[];
}

export function exactMatch(
  model: CausalLM,
  tokenizer: Tokenizer,
  items: readonly ExactMatchItem[],
  opts: { maxNewTokens: number; batch: number },
): ExactMatchResult {
  let hits = 0;
  const samples: { reference: string; generated: string }[] = [];
  const eos = [tokenizer.eosTokenId!];
  for (let i = 0; i < items.length; i += opts.batch) {
    const chunk = items.slice(i, i + opts.batch);
    const r = generate(
      model,
      chunk.map((c) => c.prompt),
      {
        maxNewTokens: opts.maxNewTokens,
        temperature: 0,
        eosTokenIds: eos,
        vocabLimit: tokenizer.vocabSize,
        decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      },
    );
    chunk.forEach((c, j) => {
      const generated = r.texts[j];
      if (generated.trim() === c.reference.trim()) hits++;
      if (samples.length < 3) samples.push({ reference: c.reference, generated });
    });
  }
  return { exactMatch: items.length > 0 ? hits / items.length : NaN, n: items.length, samples };
}
