// The quickstart's stage configs: the package's templates (configs/quickstart/*.yaml) with the run's paths, seed
// and size filled in, written to RUN/configs/<stage>.yaml. They are the files a user would write: the quickstart
// loads them with the same loaders as `olmo train|sft|dpo|rlvr --config`, and README's commands reuse them.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, type Document } from 'yaml';
import { writeTextAtomically } from '../io/atomic.ts';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.ts';
import type { QuickstartSize } from './sizes.ts';

export type ConfigStage = 'pretrain' | 'sft' | 'dpo' | 'rlvr';

/** The folder of the package's config templates. */
export function templateDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs', 'quickstart');
}

function setAll(doc: Document, prefix: (string | number)[], value: unknown): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) setAll(doc, [...prefix, k], v);
  } else {
    doc.setIn(prefix, value);
  }
}

/**
 * Writes RUN/configs/<stage>.yaml from its template: `set` holds dotted overrides (nested objects are merged key by
 * key). Paths in the written file are relative to RUN/configs, as the templates' are to theirs.
 */
export function writeStageConfig(
  runDir: string,
  stage: ConfigStage,
  set: Record<string, unknown>,
  header: string,
  opts: { name?: string; remove?: string[][] } = {},
): string {
  const template = join(templateDir(), `${stage}.yaml`);
  const doc = parseDocument(readFileSync(template, 'utf8'));
  for (const key of opts.remove ?? []) doc.deleteIn(key);
  setAll(doc, [], set);
  doc.commentBefore = ` ${header}\n (written by olmo quickstart from configs/quickstart/${stage}.yaml; paths are relative to this folder)\n`;
  const file = join(runDir, 'configs', `${opts.name ?? stage}.yaml`);
  mkdirSync(dirname(file), { recursive: true });
  writeTextAtomically(file, doc.toString());
  return file;
}

/** The model's vocabulary (padded to a multiple of 64, as OLMo pads its embeddings) and special ids for a tokenizer. */
export function vocabularyOf(
  tok: Tokenizer,
  name: string,
): { vocab_size: number; eos_token_id: number; pad_token_id: number } {
  if (tok.eosTokenId === null) throw new Error(`${name}: the tokenizer has no EOS token`);
  return {
    vocab_size: Math.ceil(tok.vocabSize / 64) * 64,
    eos_token_id: tok.eosTokenId,
    pad_token_id: tok.padTokenId ?? tok.eosTokenId,
  };
}

/** All four stage configs of a run. */
export function writeQuickstartConfigs(
  runDir: string,
  size: QuickstartSize,
  seed: number,
): Record<ConfigStage, string> {
  const tokDir = join(runDir, 'data', 'tokenizer');
  const vocab = vocabularyOf(loadTokenizer(tokDir), tokDir);
  return {
    pretrain: writeStageConfig(
      runDir,
      'pretrain',
      {
        output: '../pretrain',
        data: '../data/data-config.json',
        seed,
        model: { ...size.model, ...vocab },
        validation: { every: size.validationEvery, batches: size.validationBatches },
      },
      'OLMo 2 pretraining + anneal of the quickstart model.',
    ),
    sft: writeStageConfig(
      runDir,
      'sft',
      {
        output: '../sft',
        initFrom: '../soup',
        tokenizer: '../data/tokenizer',
        data: { train: '../data/sft/train.jsonl', test: '../data/sft/test.jsonl' },
        seed,
        ...size.sft,
      },
      'Supervised fine-tuning (Tülu 3) of the souped model.',
    ),
    dpo: writeStageConfig(
      runDir,
      'dpo',
      {
        output: '../dpo',
        initFrom: '../sft/final',
        data: { train: '../data/dpo/train.jsonl', test: '../data/dpo/test.jsonl' },
        seed,
        ...size.dpo,
      },
      'Length-normalised DPO (Tülu 3) of the SFT model.',
    ),
    rlvr: writeStageConfig(
      runDir,
      'rlvr',
      {
        output: '../rlvr',
        model: '../dpo/final',
        tokenizer: '../data/tokenizer',
        data: { train: '../data/rlvr/train.jsonl', test: '../data/rlvr/test.jsonl' },
        seed,
        ...size.rlvr,
      },
      'RLVR (GRPO) of the DPO model on arithmetic word problems with verifiable answers.',
    ),
  };
}

/** Data seeds of the anneal ingredients that are souped (OLMo 2 1B/7B: 42, 42069, 666); the first is the corpus's. */
export const ANNEAL_SEEDS = [42, 42069, 666];

/**
 * A further anneal ingredient, as OLMo 2 makes them: from the end of stage 1, the anneal mix in another data order,
 * LR linearly from stage 1's final LR to 0. Writes data/data-config-anneal-K.json (the anneal stage alone, seed
 * ANNEAL_SEEDS[K-1]) and configs/anneal-K.yaml. OLMo 2 also restores the AdamW moments; this run starts them
 * fresh (an HF folder carries no optimizer state), which the first steps of a linear decay absorb.
 */
export function writeAnnealIngredientConfig(
  runDir: string,
  k: number,
  seed: number,
  size: QuickstartSize,
  stage1FinalLr: number,
): string {
  const dataCfg = JSON.parse(readFileSync(join(runDir, 'data', 'data-config.json'), 'utf8')) as {
    stages: { name: string; seed?: number }[];
  };
  const anneal = dataCfg.stages.find((s) => s.name === 'anneal');
  if (!anneal) throw new Error(`${join(runDir, 'data', 'data-config.json')}: no stage named anneal`);
  const dataFile = `data-config-anneal-${k}.json`;
  writeTextAtomically(
    join(runDir, 'data', dataFile),
    `${JSON.stringify({ ...dataCfg, stages: [{ ...anneal, seed: ANNEAL_SEEDS[k - 1] }] }, null, 2)}\n`,
  );
  return writeStageConfig(
    runDir,
    'pretrain',
    {
      output: `../anneal-${k}`,
      initFrom: '../pretrain/stages/pretrain',
      data: `../data/${dataFile}`,
      seed,
      schedules: { anneal: { lr: stage1FinalLr, schedule: 'linear', alphaF: 0 } },
      validation: { every: size.validationEvery, batches: size.validationBatches },
    },
    `Anneal ingredient ${k} (data seed ${ANNEAL_SEEDS[k - 1]}) from the end of stage 1, for the soup.`,
    { name: `anneal-${k}`, remove: [['model'], ['schedules', 'pretrain']] },
  );
}
