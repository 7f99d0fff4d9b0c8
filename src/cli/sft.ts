// `olmo sft`: supervised fine-tuning (Tülu 3 recipe) from a YAML/JSON config; `--resume` continues a run exactly.
import { loadSftConfig, SftTrainer, type SftResult } from '../index.ts';
import { withStopSignal } from './stop-signal.ts';
import { parseCommandArgs, UsageError, type Command } from './command.ts';

export const sftCommand: Command = {
  name: 'sft',
  summary: 'supervised fine-tuning on chat data (assistant-only loss, Tülu 3 recipe)',
  usage: `olmo sft --config FILE [--resume [RUN_DIR|CHECKPOINT_DIR]]

  --config FILE   SFT config (YAML or JSON): initFrom (HF model folder), data.train / data.test (open-instruct
                  JSONL with "messages"), maxLength, reduction (sum | mean), batch sizes, packing, lr,
                  warmupRatio, epochs, eval; see configs/quickstart/sft.yaml
  --resume [DIR]  continue from the latest complete checkpoint of the run (the config's output folder by default)

Writes OUTPUT/metrics.jsonl (per step: loss per assistant token, objective, lr, grad norm; eval lines: held-out
assistant loss and exact match), OUTPUT/eval.json (before / after), OUTPUT/config.resolved.json,
OUTPUT/checkpoints/step-N/ and OUTPUT/final/ (HF folder with the tokenizer).`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('sft', {
      args: argv,
      options: { config: { type: 'string' }, resume: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (!values.config) throw new UsageError('olmo sft: --config FILE is required');
    if (positionals.length > 1 || (positionals.length === 1 && !values.resume)) {
      throw new UsageError(`olmo sft: unexpected argument '${positionals[positionals.length - 1]}'`);
    }
    const cfg = loadSftConfig(values.config);
    const result: SftResult = withStopSignal((signal) =>
      new SftTrainer(cfg, { resume: values.resume ? (positionals[0] ?? true) : undefined, signal, progress: process.stderr.isTTY === true }).run(),
    );
    console.log(JSON.stringify({ steps: result.steps, before: result.before, after: result.after, output: result.outputDir, stopped: result.stopped }));
    return result.stopped ? 130 : 0;
  },
};
