// open-instruct `FlanVerifier` (ground_truth_utils.py, https://github.com/allenai/open-instruct; not in the Tülu 3 RL
// mix): the text after the last "The answer is: ",
// SQuAD-normalised (lower-case, punctuation and articles removed, whitespace collapsed), equal to the normalised
// ground truth.

import { pySplit } from './py.ts';
import { VerifierGroundTruthError, show, type VerifyResult } from './types.ts';

const PUNCT = new Set(Array.from('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'));

/** SQuAD `normalize_answer`. */
export function squadNormalize(s: string): string {
  const noPunct = Array.from(s.toLowerCase())
    .filter((c) => !PUNCT.has(c))
    .join('');
  const noArticles = noPunct.replace(/\b(a|an|the)\b/g, ' ');
  return pySplit(noArticles).join(' ');
}

export function verifyFlan(output: string, groundTruth: unknown): VerifyResult {
  if (typeof groundTruth !== 'string')
    throw new VerifierGroundTruthError('flan', `expected a string, got ${show(groundTruth)}`);
  const parts = output.split('The answer is: ');
  const answer = parts[parts.length - 1]!.trim();
  const verified = squadNormalize(answer) === squadNormalize(groundTruth);
  return { score: verified ? 1 : 0, verified, details: { extracted: answer.slice(0, 200) } };
}
