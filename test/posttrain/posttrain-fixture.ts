// Tiny post-training fixtures: the 268-id byte-level test tokenizer with the Tülu chat template's tokens
// (bos = eos = <|endoftext|>), a freshly initialised 2-layer OLMo 2 saved as an HF folder, and synthetic SFT /
// preference data (a fixed word → answer mapping behind random "names", so held-out rows are new strings whose
// answers follow the same rule).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initModel, parseConfig, saveModel } from '../../src/models/index.ts';
import { truncatedNormalInit } from '../../src/nn/index.ts';
import { Generator } from '../../src/tensor/index.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';
import { rng } from '../helpers.ts';

export function writeTinyChatTokenizer(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', pad_token: '<|padding|>' }),
  );
  return dir;
}

export const TINY_MODEL = {
  model_type: 'olmo2',
  hidden_size: 48,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  vocab_size: 268,
  max_position_embeddings: 128,
  eos_token_id: 0,
  pad_token_id: 1,
  bos_token_id: 0,
};

/** A random OLMo 2 (seeded) with the tiny tokenizer, saved to `dir`. */
export function writeTinyModel(dir: string, seed = 7): string {
  const tok = writeTinyChatTokenizer(join(dir, '..', `${dir.split('/').pop()}-tokenizer`));
  const model = initModel(parseConfig(TINY_MODEL, 'model'), truncatedNormalInit(new Generator(seed), 0.02));
  saveModel(model, dir, { tokenizerFrom: tok });
  return dir;
}

export const WORDS: [string, string][] = [
  ['cat', 'mew'],
  ['dog', 'woof'],
  ['cow', 'moo'],
  ['bee', 'bzz'],
  ['owl', 'hoot'],
  ['pig', 'oink'],
];

function name(r: () => number): string {
  const letters = 'abcdefgkmnpstuvxyz';
  return Array.from({ length: 3 }, () => letters[Math.floor(r() * letters.length)]).join('');
}

/** SFT rows "NAME: word" → "sound", as JSONL text. */
export function sftJsonl(n: number, seed: number): string {
  const r = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const [w, s] = WORDS[Math.floor(r() * WORDS.length)];
    lines.push(
      JSON.stringify({
        id: `sft-${seed}-${i}`,
        messages: [
          { role: 'user', content: `${name(r)}: ${w}` },
          { role: 'assistant', content: s },
        ],
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Preference rows: chosen = the word's sound, rejected = another word's sound (prompt + strings, or message lists). */
export function dpoJsonl(n: number, seed: number): string {
  const r = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * WORDS.length);
    const other = (k + 1 + Math.floor(r() * (WORDS.length - 1))) % WORDS.length;
    const prompt = `${name(r)}: ${WORDS[k][0]}`;
    if (i % 2 === 0)
      lines.push(JSON.stringify({ id: `dpo-${seed}-${i}`, prompt, chosen: WORDS[k][1], rejected: WORDS[other][1] }));
    else {
      const user = { role: 'user', content: prompt };
      lines.push(
        JSON.stringify({
          id: `dpo-${seed}-${i}`,
          chosen: [user, { role: 'assistant', content: WORDS[k][1] }],
          rejected: [user, { role: 'assistant', content: WORDS[other][1] }],
        }),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
