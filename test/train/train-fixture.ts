// A tiny pretraining setup for trainer tests: Dolma JSONL tokenized with the small test tokenizer (268 ids)
// into pretrain / anneal / validation token files, and a two-stage OLMo 2 config over them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenize } from '../../src/data/index.ts';
import type { TrainConfigInput } from '../../src/train/index.ts';
import { tinyTokenizerJson } from '../tokenizers/tiny-tokenizer.ts';

const WORDS = ['hello', 'world', 'the', 'cat', 'sat', 'on', 'mat', 'and', 'dog', 'ran'];

function documents(seed: number, count: number): string {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const lines: string[] = [];
  for (let d = 0; d < count; d++) {
    // Patterned text a small model can learn: a word, then its successor in the list, repeated.
    const start = next() % WORDS.length;
    const words = Array.from({ length: 24 }, (_, i) => WORDS[(start + i) % WORDS.length]);
    lines.push(JSON.stringify({ id: `doc-${seed}-${d}`, text: words.join(' '), source: 'pattern' }));
  }
  return `${lines.join('\n')}\n`;
}

export async function makeTrainFixture(root: string): Promise<string> {
  const tok = join(root, 'tokenizer');
  mkdirSync(tok, { recursive: true });
  writeFileSync(join(tok, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(join(tok, 'config.json'), JSON.stringify({ eos_token_id: 0, pad_token_id: 1 }));
  for (const [name, seed, count] of [
    ['pretrain', 1, 60],
    ['anneal', 2, 20],
    ['validation', 3, 10],
  ] as const) {
    const jsonl = join(root, `${name}.jsonl`);
    writeFileSync(jsonl, documents(seed, count));
    await tokenize({ inputs: [jsonl], outDir: join(root, 'tokens', name), tokenizer: tok, workers: 0 });
  }
  return tok;
}

export function tinyTrainConfig(
  root: string,
  output: string,
): TrainConfigInput & { data: Exclude<TrainConfigInput['data'], string> } {
  return {
    output,
    model: {
      model_type: 'olmo2',
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      vocab_size: 268,
      max_position_embeddings: 64,
      eos_token_id: 0,
      pad_token_id: 1,
    },
    data: {
      sequenceLength: 16,
      tokenizer: join(root, 'tokenizer'),
      stages: [
        {
          name: 'pretrain',
          seed: 6198,
          tokens: 64 * 24,
          mix: [{ name: 'pattern', paths: [join(root, 'tokens', 'pretrain')], proportion: 1 }],
          optim: { lr: 3e-3, schedule: 'cosine', warmupSteps: 4 },
        },
        {
          name: 'anneal',
          seed: 42,
          tokens: 64 * 6,
          mix: [{ name: 'hq', paths: [join(root, 'tokens', 'anneal')], proportion: 1 }],
          optim: { lr: 'previous', schedule: 'linear', alphaF: 0 },
        },
      ],
      validation: { paths: [join(root, 'tokens', 'validation')] },
    },
    seed: 1,
    globalBatchTokens: 64,
    microBatchInstances: 2,
    checkpoint: { every: 5, keepLast: 2 },
    validation: { every: 10, batches: 4 },
  };
}
