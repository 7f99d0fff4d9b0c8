// lm-eval 0.4.3's rolling windows for loglikelihood_rolling (`get_rolling_token_windows` with context_len 1,
// then `make_disjoint_window`): the text's tokens are cut into windows of at most maxLength predicted tokens;
// the first window is predicted from the prefix token (BOS/EOS), each later one from the maxLength tokens before
// it. Every token is predicted exactly once, so the windows' summed log-probs are log P(text).

export interface TokenWindow {
  context: number[];
  continuation: number[];
}

export function rollingWindows(tokens: readonly number[], prefixTokenId: number, maxLength: number): TokenWindow[] {
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new Error(`rollingWindows: maxLength must be a positive integer, got ${maxLength}`);
  const out: TokenWindow[] = [];
  if (tokens.length === 0) return out;
  const contextLen = 1;
  const predLen = maxLength - contextLen + 1;
  const firstLen = Math.min(maxLength, tokens.length);
  // first window: input [prefix] + tokens[:first-1] predicts tokens[:first]; disjoint form: context [prefix]
  out.push({ context: [prefixTokenId], continuation: tokens.slice(0, firstLen) });
  let predicted = firstLen;
  while (predicted < tokens.length) {
    const windowPredLen = Math.min(tokens.length - predicted, predLen);
    const windowEnd = predicted + windowPredLen;
    const input = tokens.slice(windowEnd - maxLength - 1, windowEnd - 1);
    const pred = tokens.slice(windowEnd - windowPredLen, windowEnd);
    // make_disjoint_window: the context is the input minus the positions that overlap the predictions
    out.push({ context: input.slice(0, input.length - (pred.length - 1)), continuation: pred });
    predicted += windowPredLen;
  }
  return out;
}
