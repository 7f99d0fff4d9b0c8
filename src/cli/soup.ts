// `olmo soup`: average checkpoints of one architecture into a new HF folder.
import { soup } from '../index.ts';
import { parseCommandArgs, UsageError, type Command } from './command.ts';

export const soupCommand: Command = {
  name: 'soup',
  summary: 'average several checkpoints into one (model souping)',
  usage: `olmo soup CKPT_DIR... --out DIR [--dtype float32|bfloat16]

Uniformly averages the parameters of the given HF checkpoint folders (same architecture and shapes), as
OLMo 2's final models average their anneal runs, and writes the result as an HF folder.`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('soup', {
      args: argv,
      options: { out: { type: 'string' }, dtype: { type: 'string' } },
      allowPositionals: true,
    });
    if (!values.out) throw new UsageError('olmo soup: --out DIR is required');
    if (positionals.length < 1) throw new UsageError('olmo soup: give the checkpoint folders to average');
    const dtype = values.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'bfloat16')
      throw new UsageError(`olmo soup: --dtype must be float32 or bfloat16, got '${dtype}'`);
    soup(positionals, values.out, { dtype });
    console.log(`averaged ${positionals.length} checkpoints into ${values.out}`);
    return 0;
  },
};
