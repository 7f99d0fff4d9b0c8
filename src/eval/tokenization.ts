// lm-eval 0.4.3's context/continuation tokenisation rule (`_encode_pair`) and the left truncation that
// backends must apply (`_loglikelihood_tokens`), as pure functions over a tokenizer callback.
import { pyRstrip } from '../pycompat/pystr.ts';

export type Tokenize = (text: string) => number[];

export interface EncodedPair {
  contextTokens: number[];
  continuationTokens: number[];
}

/**
 * Encode (context, continuation) the way lm-eval does:
 * 1. trailing whitespace of the context (Python's whitespace set) moves to the front of the continuation;
 * 2. context+continuation is encoded as a whole, and the context alone;
 * 3. continuation tokens = whole[len(contextTokens):];
 * 4. an empty context (checked before step 1) gives [prefixTokenId] and the continuation encoded alone.
 * `tokenize` must not add special tokens (OLMES encodes with add_special_tokens=False; a BOS, when a model needs
 * one, is the backend's business).
 */
export function encodePair(
  context: string,
  continuation: string,
  tokenize: Tokenize,
  prefixTokenId?: number,
): EncodedPair {
  if (context === '') {
    if (prefixTokenId === undefined) {
      throw new Error("encodePair: empty context needs a prefix token id (the model's BOS or EOS token)");
    }
    return { contextTokens: [prefixTokenId], continuationTokens: tokenize(continuation) };
  }
  const stripped = pyRstrip(context);
  const nSpaces = context.length - stripped.length;
  if (nSpaces > 0) {
    continuation = context.slice(stripped.length) + continuation;
    context = stripped;
  }
  const whole = tokenize(context + continuation);
  const contextTokens = tokenize(context);
  return { contextTokens, continuationTokens: whole.slice(contextTokens.length) };
}

export interface TruncatedInput {
  /** tokens to feed the model: the last maxLength+1 tokens of context+continuation, minus the final one */
  inputTokens: number[];
  /** index in inputTokens whose next-token logits predict continuationTokens[0] */
  scoreStart: number;
  continuationTokens: number[];
}

/**
 * Left truncation at the model's context length, as lm-eval/OLMES do:
 * `inp = (ctx + cont)[-(maxLength + 1):][:-1]`; the logits at positions scoreStart … inp.length-1 score the
 * continuation tokens. Shots at the start of a long prompt are silently lost, which is the reference behaviour.
 * A continuation longer than maxLength cannot be scored and throws.
 */
export function truncateLeft(
  contextTokens: readonly number[],
  continuationTokens: readonly number[],
  maxLength: number,
): TruncatedInput {
  if (continuationTokens.length === 0) throw new Error('truncateLeft: empty continuation has nothing to score');
  if (continuationTokens.length > maxLength) {
    throw new Error(
      `truncateLeft: continuation of ${continuationTokens.length} tokens exceeds the model's max length ${maxLength}`,
    );
  }
  const all = [...contextTokens, ...continuationTokens];
  const inputTokens = all.slice(-(maxLength + 1)).slice(0, -1);
  return {
    inputTokens,
    scoreStart: inputTokens.length - continuationTokens.length,
    continuationTokens: [...continuationTokens],
  };
}
