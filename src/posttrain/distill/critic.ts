// Critics for iterative self-distillation (δ-RoT, Rao et al., https://aclanthology.org/2023.findings-emnlp.812):
// something that rates a candidate
// (prompt, completion) with a score in [0, 1]; candidates at or above a threshold count as valid. Two built in:
//   - VerifierCritic: the row's verifier against its ground truth (for the synthetic setup: answers that check out);
//   - ModelCritic: any causal LM asked a yes/no question through a prompt template; the score is
//     P(" yes") / (P(" yes") + P(" no")) from the log-likelihood of the two continuations (the δ-RoT paper's
//     critic is a classifier trained on human validity labels; a judge LM through this interface stands in for it).
import type { CausalLM } from '../../models/index.ts';
import { scoreLoglikelihood } from '../../models/index.ts';
import { applyChatTemplate, type ChatMessage, type Tokenizer } from '../../tokenizers/index.ts';
import { verify } from '../../verifiers/index.ts';

export interface CriticItem {
  prompt: ChatMessage[];
  completion: string;
  groundTruth?: unknown;
  verifier?: string;
}

export interface Critic {
  readonly name: string;
  /** One score in [0, 1] per item. */
  score(items: readonly CriticItem[]): number[];
}

export class VerifierCritic implements Critic {
  readonly name = 'verifier';
  /** `fallbackVerifier` is used for items that do not name their own. */
  constructor(private readonly fallbackVerifier?: string) {}

  score(items: readonly CriticItem[]): number[] {
    return items.map((it, i) => {
      const name = it.verifier ?? this.fallbackVerifier;
      if (!name || it.groundTruth === undefined)
        throw new Error(`verifier critic: item ${i} has no ${name ? 'ground truth' : 'verifier name'}`);
      return verify(name, it.completion, it.groundTruth).score;
    });
  }
}

export const DEFAULT_CRITIC_TEMPLATE =
  'Here is a request and a response.\n\nRequest: {prompt}\n\nResponse: {completion}\n\nIs the response valid and correct? Answer yes or no.';

export interface ModelCriticOptions {
  /** The question, with {prompt} (the last user message) and {completion} placeholders. */
  template?: string;
  /** Render the question with the tokenizer's chat template (a user turn plus the generation prompt). Default true. */
  chat?: boolean;
  yes?: string;
  no?: string;
}

export class ModelCritic implements Critic {
  readonly name = 'model';
  private readonly template: string;
  private readonly yes: number[];
  private readonly no: number[];

  constructor(
    private readonly model: CausalLM,
    private readonly tokenizer: Tokenizer,
    private readonly opts: ModelCriticOptions = {},
  ) {
    this.template = opts.template ?? DEFAULT_CRITIC_TEMPLATE;
    const enc = (s: string) => tokenizer.encode(s, { addSpecialTokens: false });
    this.yes = enc(opts.yes ?? ' yes');
    this.no = enc(opts.no ?? ' no');
    if (this.yes.length === 0 || this.no.length === 0)
      throw new Error('model critic: the yes / no answers encode to no tokens');
  }

  /** The judge's context tokens for an item. */
  context(item: CriticItem): number[] {
    const user = [...item.prompt].reverse().find((m) => m.role === 'user')?.content ?? '';
    const question = this.template.replaceAll('{prompt}', user).replaceAll('{completion}', item.completion);
    const text =
      this.opts.chat === false
        ? question
        : applyChatTemplate(this.tokenizer, [{ role: 'user', content: question }], { addGenerationPrompt: true });
    const ids = this.tokenizer.encode(text, { addSpecialTokens: false, allowSpecial: true });
    return ids.length ? ids : [this.tokenizer.eosTokenId ?? 0];
  }

  score(items: readonly CriticItem[]): number[] {
    const requests = items.flatMap((it) => {
      const context = this.context(it);
      return [
        { context, continuation: this.yes },
        { context, continuation: this.no },
      ];
    });
    const res = scoreLoglikelihood(this.model, requests);
    return items.map((_, i) => {
      const y = res[2 * i].sum;
      const n = res[2 * i + 1].sum;
      const m = Math.max(y, n);
      return Math.exp(y - m) / (Math.exp(y - m) + Math.exp(n - m));
    });
  }
}
