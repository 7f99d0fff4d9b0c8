// What both backends share, free of model code: lm-eval's request tokenisation (pair encoding, optional BOS, left
// truncation), the prefix token, and the stop-sequence cut of generated text.
import type { Tokenizer } from '../../tokenizers/index.ts';
import { encodePair, truncateLeft, type Tokenize } from '../tokenization.ts';
import type { LoglikelihoodRequest } from '../types.ts';

/** The part of a tokenizer a backend needs. */
export type BackendTokenizer = Pick<Tokenizer, 'name' | 'bosTokenId' | 'eosTokenId' | 'encode'>;

/** One scored (context, continuation) pair in token ids, after pair encoding and truncation. */
export interface TokenPair {
  context: number[];
  continuation: number[];
  /** context + continuation tokens after truncation (at most maxLength + 1: the model is fed all but the last) */
  numTokensAll: number;
}

/**
 * lm-eval's tokenisation of a loglikelihood request into the tokens the model sees: encodePair, an optional
 * BOS, then `(ctx + cont)[-(maxLength + 1):]` split back into context and continuation.
 */
export function encodeRequest(
  req: LoglikelihoodRequest,
  tokenize: Tokenize,
  prefixTokenId: number,
  maxLength: number,
  bos?: number,
): TokenPair {
  const pair = encodePair(req.context, req.continuation, tokenize, prefixTokenId);
  if (pair.continuationTokens.length === 0) {
    throw new Error(
      `loglikelihood request with continuation ${JSON.stringify(req.continuation)}: the continuation encodes to no tokens`,
    );
  }
  const ctx = bos !== undefined && req.context !== '' ? [bos, ...pair.contextTokens] : pair.contextTokens;
  const t = truncateLeft(ctx, pair.continuationTokens, maxLength);
  return {
    context: t.inputTokens.slice(0, t.scoreStart + 1),
    continuation: t.continuationTokens,
    numTokensAll: t.inputTokens.length + 1,
  };
}

/** lm-eval's prefix token: BOS when the tokenizer has one, else EOS. */
export function prefixTokenOf(tok: Pick<Tokenizer, 'bosTokenId' | 'eosTokenId' | 'name'>): number {
  const id = tok.bosTokenId ?? tok.eosTokenId;
  if (id === null)
    throw new Error(
      `tokenizer ${tok.name} has neither a BOS nor an EOS token: cannot score an empty context or rolling windows`,
    );
  return id;
}

/** lm-eval's post-processing: the text before the first occurrence of any stop sequence. */
export function cutAtStops(text: string, stops: readonly string[]): string {
  let end = text.length;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s);
    if (i >= 0 && i < end) end = i;
  }
  return text.slice(0, end);
}
