// `olmo sft`: supervised fine-tuning (Tülu 3 recipe) from a YAML/JSON config; `--resume` continues a run exactly.
import { loadSftConfig, SftTrainer, type SftResult } from '../index.ts';
import { withStopSignal } from './stop-signal.ts';
import { resolveConfigModels } from './model-loading.ts';
import type { Command } from './command.ts';
import { parseRunArgs, RUN_FLAGS_USAGE } from './run-args.ts';

export const sftCommand: Command = {
  name: 'sft',
  summary: 'supervised fine-tuning on chat data (assistant-only loss, Tülu 3 recipe)',
  usage: `olmo sft --config FILE [--resume [RUN_DIR|CHECKPOINT_DIR]] [--overwrite] [--allow-config-change]

  --config FILE   SFT config (YAML or JSON): initFrom (HF model folder), data.train / data.test (open-instruct
                  JSONL with "messages"), maxLength, reduction (sum | mean), batch sizes, packing, lr,
                  warmupRatio, epochs, eval; see configs/quickstart/sft.yaml
${RUN_FLAGS_USAGE}

Writes OUTPUT/metrics.jsonl (per step: loss per assistant token, objective, lr, grad norm; eval lines: held-out
assistant loss and exact match), OUTPUT/eval.json (before / after), OUTPUT/config.resolved.json,
OUTPUT/checkpoints/step-N/ and OUTPUT/final/ (HF folder with the tokenizer).`,
  async run(argv) {
    const { config, start } = parseRunArgs('sft', argv);
    const cfg = await resolveConfigModels('sft', loadSftConfig(config), ['initFrom']);
    const result: SftResult = withStopSignal((signal) =>
      new SftTrainer(cfg, { ...start, signal, progress: process.stderr.isTTY === true }).run(),
    );
    console.log(
      JSON.stringify({
        steps: result.steps,
        before: result.before,
        after: result.after,
        output: result.outputDir,
        stopped: result.stopped,
      }),
    );
    return result.stopped ? 130 : 0;
  },
};
