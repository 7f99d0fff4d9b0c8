import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePair, truncateLeft } from '../../src/eval/tokenization.ts';

// A toy tokenizer: a token per word with its leading space (" cat" and "cat" are different tokens), so the
// junction behaviour is visible. Each token id is its string's index in a growing vocabulary.
function makeTokenizer() {
  const vocab: string[] = [];
  const calls: string[] = [];
  const tokenize = (text: string): number[] => {
    calls.push(text);
    return (text.match(/\s*\S+|\s+$/g) ?? []).map((t) => {
      let i = vocab.indexOf(t);
      if (i < 0) i = vocab.push(t) - 1;
      return i;
    });
  };
  return { tokenize, vocab, calls };
}

test('a trailing space of the context moves to the continuation; whole string encoded jointly', () => {
  const { tokenize, vocab, calls } = makeTokenizer();
  const p = encodePair('Question: x\nAnswer: ', 'yes', tokenize);
  assert.deepEqual(calls, ['Question: x\nAnswer: yes', 'Question: x\nAnswer:']);
  assert.deepEqual(
    p.continuationTokens.map((t) => vocab[t]),
    [' yes'],
  );
  assert.deepEqual(
    p.contextTokens.map((t) => vocab[t]),
    ['Question:', ' x', '\nAnswer:'],
  );
});

test('OLMES contexts end without a space, so the continuation keeps its own leading space', () => {
  const { tokenize, vocab } = makeTokenizer();
  const p = encodePair('Answer:', ' Paris', tokenize);
  assert.deepEqual(
    p.continuationTokens.map((t) => vocab[t]),
    [' Paris'],
  );
});

test('empty context → the prefix token and the continuation alone', () => {
  const { tokenize } = makeTokenizer();
  const p = encodePair('', ' a b', tokenize, 0);
  assert.deepEqual(p.contextTokens, [0]);
  assert.equal(p.continuationTokens.length, 2);
  assert.throws(() => encodePair('', 'x', tokenize), /prefix token/);
});

test('left truncation keeps the last maxLength+1 tokens minus the final one', () => {
  const r = truncateLeft([1, 2, 3, 4, 5, 6], [7, 8], 5);
  assert.deepEqual(r.inputTokens, [3, 4, 5, 6, 7]);
  assert.equal(r.scoreStart, 3); // logits at 3 and 4 predict 7 and 8
  const short = truncateLeft([1, 2], [3], 10);
  assert.deepEqual(short.inputTokens, [1, 2]);
  assert.equal(short.scoreStart, 1);
  assert.throws(() => truncateLeft([1], [1, 2, 3], 2), /exceeds the model's max length 2/);
});
