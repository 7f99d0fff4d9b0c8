// `olmo tokenizer train`: a byte-level BPE tokenizer trained on Dolma JSONL or plain text, written as a Hugging Face
// tokenizer folder (tokenizer.json + tokenizer_config.json).
import { DEFAULT_BPE_SPECIAL_TOKENS, saveTrainedTokenizer, trainByteLevelBpe } from '../index.ts';
import { numberOption, parseCommandArgs, UsageError, type Command } from './command.ts';

const trainUsage = `olmo tokenizer train INPUT... --vocab-size N --out DIR [options]

Trains a byte-level BPE tokenizer (Hugging Face BpeTrainer's algorithm, cl100k pre-tokenisation as dolma2) and
writes DIR/tokenizer.json and DIR/tokenizer_config.json, loadable by transformers' AutoTokenizer and by olmo.
INPUT: Dolma JSONL (.jsonl/.json, optionally .gz: the "text" field of each line is a document) or any other
file as one plain-text document.

  --vocab-size N        total ids: special tokens + 256 bytes + merges
  --out DIR             output folder (created if missing; existing tokenizer files are replaced)
  --special TOKEN       an extra special token (repeatable), after <|endoftext|> (EOS and BOS) and <|pad|>
  --min-frequency N     stop merging when the best pair occurs fewer than N times (default 0)
  --strict              refuse invalid UTF-8 in the input (default: train on it as U+FFFD and report the count)`;

async function runTrain(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('tokenizer train', {
    args: argv,
    options: {
      'vocab-size': { type: 'string' },
      out: { type: 'string' },
      special: { type: 'string', multiple: true },
      'min-frequency': { type: 'string' },
      strict: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('olmo tokenizer train: give at least one input file');
  if (!values.out) throw new UsageError('olmo tokenizer train: --out DIR is required');
  const specials = [...DEFAULT_BPE_SPECIAL_TOKENS];
  for (const t of values.special ?? []) {
    if (t.length === 0) throw new UsageError('olmo tokenizer train: --special needs a non-empty token');
    if (!specials.includes(t)) specials.push(t);
  }
  const vocabSize = numberOption('tokenizer train', 'vocab-size', values['vocab-size'], {
    integer: true,
    min: specials.length + 256,
  });
  if (vocabSize === undefined) throw new UsageError('olmo tokenizer train: --vocab-size N is required');
  const minFrequency = numberOption('tokenizer train', 'min-frequency', values['min-frequency'], {
    integer: true,
    min: 0,
  });
  const start = performance.now();
  let lastLine = 0;
  const trained = await trainByteLevelBpe({
    files: positionals,
    vocabSize,
    specialTokens: specials,
    minFrequency,
    strict: values.strict ?? false,
    onProgress: (p) => {
      const now = performance.now();
      if (p.phase !== 'done' && now - lastLine < 2000) return;
      lastLine = now;
      const what = p.phase === 'count' ? `${p.done} documents read` : `${p.done}/${p.total} merges`;
      process.stderr.write(`tokenizer train: ${what} (${((now - start) / 1000).toFixed(1)} s)\n`);
    },
  });
  saveTrainedTokenizer(trained, values.out);
  const s = trained.stats;
  const bad = s.firstInvalidUtf8;
  if (bad !== null) {
    process.stderr.write(
      `tokenizer train: ${s.invalidUtf8Documents} document(s) held invalid UTF-8, trained on as U+FFFD ` +
        `(first: ${bad.file}:${bad.line}, byte ${bad.lineByte}; --strict refuses them)\n`,
    );
  }
  if (s.vocabSize < vocabSize) {
    process.stderr.write(
      `tokenizer train: the input ran out of pairs to merge at ${s.vocabSize} ids (asked for ${vocabSize})\n`,
    );
  }
  console.log(
    JSON.stringify({
      out: values.out,
      vocab_size: s.vocabSize,
      merges: s.merges,
      documents: s.documents,
      invalid_utf8_documents: s.invalidUtf8Documents,
      bytes: s.bytes,
      tokens: s.tokens,
      tokens_per_byte: s.bytes > 0 ? s.tokens / s.bytes : 0,
      seconds: (performance.now() - start) / 1000,
    }),
  );
  return 0;
}

export const tokenizerCommand: Command = {
  name: 'tokenizer',
  summary: 'train a byte-level BPE tokenizer (Hugging Face tokenizer.json)',
  usage: `olmo tokenizer train ...\n\n${trainUsage}`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'train') return runTrain(rest);
    throw new UsageError(`olmo tokenizer: expected 'train', got ${sub === undefined ? 'nothing' : `'${sub}'`}`);
  },
};
