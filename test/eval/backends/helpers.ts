// Shared by the backend and `olmo eval` tests: a tiny checkpoint (the OLMo 2 fixture model with the self-made
// 268-id tokenizer, vocab ≤ the model's 320) and self-made rows of a local ARC-schema MC task.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyTokenizerJson } from '../../tokenizers/tiny-tokenizer.ts';

export const FIXTURE_MODEL = join(import.meta.dirname, '..', '..', 'fixtures', 'olmo2', 'model');

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `olmo-${prefix}-`));
}

/** The fixture model's config and weights plus tokenizer.json / tokenizer_config.json of the tiny tokenizer. */
export function tinyCheckpoint(): string {
  const dir = tmp('tiny-ckpt');
  for (const f of ['config.json', 'generation_config.json', 'model.safetensors'])
    copyFileSync(join(FIXTURE_MODEL, f), join(dir, f));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ eos_token: '<|endoftext|>', pad_token: '<|padding|>', bos_token: null, add_bos_token: false }),
  );
  return dir;
}

const WORDS = ['red', 'blue', 'hello', 'world', 'stone', 'river', 'cloud', 'seven', 'north', 'glass'];

/** Rows in ARC's schema: short questions, 3–4 choices, answerKey as a letter or a digit. */
export function mcRows(n: number, seed: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const k = (i * 7 + seed) % WORDS.length;
    const nChoices = 3 + ((i + seed) % 2);
    const text = Array.from(
      { length: nChoices },
      (_, c) => WORDS[(k + c * 3) % WORDS.length] + (c === 1 ? ' hello' : ''),
    );
    const labels = text.map((_, c) => 'ABCD'[c]);
    const gold = (i + seed) % nChoices;
    return {
      id: `q${seed}-${i}`,
      question: `Which word is ${WORDS[k]}?`,
      choices: { text, label: labels },
      answerKey: i % 5 === 0 ? String(gold + 1) : labels[gold],
    };
  });
}

/** `<root>/<name>/{train,test}.jsonl`. */
export function writeMcTask(root: string, name: string, nTest: number, nTrain = 6): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
  writeFileSync(join(dir, 'test.jsonl'), jsonl(mcRows(nTest, 1)));
  writeFileSync(join(dir, 'train.jsonl'), jsonl(mcRows(nTrain, 2)));
}
