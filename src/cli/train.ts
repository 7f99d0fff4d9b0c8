// `olmo train`: pretraining (and annealing) from a YAML/JSON config; `--resume` continues a run exactly.
import { loadTrainConfig, Trainer, type TrainResult } from '../index.ts';
import { parseCommandArgs, UsageError, type Command } from './command.ts';
import { withStopSignal } from './stop-signal.ts';

export const trainCommand: Command = {
  name: 'train',
  summary: 'pretrain or anneal a model from a config (stages, mixes, schedules)',
  usage: `olmo train --config FILE [--resume [RUN_DIR|CHECKPOINT_DIR]]

  --config FILE   training config (YAML or JSON): model, data stages with their mixes and LR schedules,
                  batch, optimizer, checkpoints, validation; see configs/quickstart/pretrain.yaml
  --resume [DIR]  continue from the latest complete checkpoint of the run (the config's output folder by
                  default); later steps are bit-identical to an uninterrupted run with the same thread count

Writes OUTPUT/metrics.jsonl (one line per step: loss, z-loss, lr, grad norm, tokens, tokens/s, skipped steps),
OUTPUT/config.resolved.json, OUTPUT/checkpoints/step-N/ (HF model folder + optimizer and training state),
OUTPUT/stages/NAME/ (the model at the end of each stage) and OUTPUT/final/.`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('train', {
      args: argv,
      options: { config: { type: 'string' }, resume: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (!values.config) throw new UsageError('olmo train: --config FILE is required');
    if (positionals.length > 1 || (positionals.length === 1 && !values.resume)) {
      throw new UsageError(`olmo train: unexpected argument '${positionals[positionals.length - 1]}'`);
    }
    const cfg = loadTrainConfig(values.config);
    const result: TrainResult = withStopSignal((signal) =>
      new Trainer(cfg, { resume: values.resume ? (positionals[0] ?? true) : undefined, signal, progress: process.stderr.isTTY === true }).train(),
    );
    console.log(JSON.stringify({ steps: result.steps, val_loss: result.finalValLoss, stage_val_loss: result.stageValLoss, output: result.outputDir, stopped: result.stopped }));
    return result.stopped ? 130 : 0;
  },
};
