// `olmo sft`: supervised fine-tuning (Tülu 3 recipe) from a YAML/JSON config; `--resume` continues a run exactly.
import { loadSftConfig, SftTrainer, type SftResult } from '../index.ts';
import { resolveConfigModels } from './model-loading.ts';
import type { Command } from './command.ts';
import { parseRunArgs, RUN_FLAGS_USAGE, runStageCommand } from './run-args.ts';

/** The fields of the summary line besides steps and stopped. */
const sftSummary = (result: SftResult) => ({
  before: result.before,
  after: result.after,
  output: result.outputDir,
});

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
    return runStageCommand(start, (options) => new SftTrainer(cfg, options).run(), sftSummary);
  },
};
