// `olmo train`: pretraining (and annealing) from a YAML/JSON config; `--resume` continues a run exactly.
import { loadTrainConfig, Trainer, type TrainResult } from '../index.ts';
import type { Command } from './command.ts';
import { parseRunArgs, RUN_FLAGS_USAGE, runStageCommand } from './run-args.ts';

/** The fields of the summary line besides steps and stopped. */
const trainSummary = (result: TrainResult) => ({
  val_loss: result.finalValLoss,
  stage_val_loss: result.stageValLoss,
  output: result.outputDir,
});

export const trainCommand: Command = {
  name: 'train',
  summary: 'pretrain or anneal a model from a config (stages, mixes, schedules)',
  usage: `olmo train --config FILE [--resume [RUN_DIR|CHECKPOINT_DIR]] [--overwrite] [--allow-config-change]

  --config FILE   training config (YAML or JSON): model, data stages with their mixes and LR schedules,
                  batch, optimizer, checkpoints, validation; see configs/quickstart/pretrain.yaml
${RUN_FLAGS_USAGE}

Writes OUTPUT/metrics.jsonl (one line per step: loss, z-loss, lr, grad norm, tokens, tokens/s, skipped steps),
OUTPUT/config.resolved.json, OUTPUT/checkpoints/step-N/ (HF model folder + optimizer and training state),
OUTPUT/stages/NAME/ (the model at the end of each stage) and OUTPUT/final/.`,
  async run(argv) {
    const { config, start } = parseRunArgs('train', argv);
    const cfg = loadTrainConfig(config);
    return runStageCommand(start, (options) => new Trainer(cfg, options).train(), trainSummary);
  },
};
