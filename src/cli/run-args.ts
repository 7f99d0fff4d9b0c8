// The arguments every training command shares (olmo train, sft, dpo, rlvr): the config, and how the run folder is
// used — resume, overwrite, or apply config changes on resume.
import type { RunStartOptions } from '../index.ts';
import { parseCommandArgs, UsageError } from './command.ts';
import { withStopSignal } from './stop-signal.ts';

export const RUN_FLAGS_USAGE = `  --resume [DIR]  continue from the newest intact checkpoint of the run (the config's output folder by default,
                  or DIR: a run or checkpoint folder); later steps are bit-identical to an uninterrupted run
                  with the same thread count. A corrupt newest checkpoint is set aside (<name>.corrupt) with
                  a warning and the one before it is used
  --overwrite     start over in an output folder that holds another run: that run is first moved aside to
                  OUTPUT.old-<time> (without this flag such a folder is refused)
  --allow-config-change
                  on --resume, apply the changed config fields that can change mid-run (learning rate and
                  schedule, schedule length, checkpoint/evaluation intervals, keepLast, logging); each is
                  recorded in OUTPUT/history.jsonl. Other changes (model, data, tokenizer, lengths, batch,
                  seed) are always refused`;

/** Parses `--config FILE [--resume [DIR]] [--overwrite] [--allow-config-change]`. */
export function parseRunArgs(command: string, argv: string[]): { config: string; start: RunStartOptions } {
  const { values, positionals } = parseCommandArgs(command, {
    args: argv,
    options: {
      config: { type: 'string' },
      resume: { type: 'boolean' },
      overwrite: { type: 'boolean' },
      'allow-config-change': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (!values.config) throw new UsageError(`olmo ${command}: --config FILE is required`);
  if (positionals.length > 1 || (positionals.length === 1 && !values.resume)) {
    throw new UsageError(`olmo ${command}: unexpected argument '${positionals[positionals.length - 1]}'`);
  }
  if (values.resume && values.overwrite)
    throw new UsageError(
      `olmo ${command}: --resume and --overwrite exclude each other (continue the run, or start over)`,
    );
  if (values['allow-config-change'] && !values.resume)
    throw new UsageError(`olmo ${command}: --allow-config-change applies to --resume only`);
  return {
    config: values.config,
    start: {
      resume: values.resume ? (positionals[0] ?? true) : undefined,
      overwrite: values.overwrite === true,
      allowConfigChange: values['allow-config-change'] === true,
    },
  };
}

/** What a training command hands its trainer: the run-folder options, the stop signal and whether to draw progress. */
export type StageRunOptions = RunStartOptions & { signal: AbortSignal; progress: boolean };

/**
 * Runs one training stage (train, sft, dpo) with SIGINT / SIGTERM as its stop signal, prints its summary as one
 * JSON line (`steps` first, `stopped` last) and returns the exit status: 130 when a signal stopped it, as a shell reports Ctrl-C.
 */
export function runStageCommand<R extends { steps: number; stopped: boolean }>(
  start: RunStartOptions,
  run: (options: StageRunOptions) => R,
  summary: (result: R) => Record<string, unknown>,
): number {
  const result = withStopSignal((signal) => run({ ...start, signal, progress: process.stderr.isTTY === true }));
  console.log(JSON.stringify({ steps: result.steps, ...summary(result), stopped: result.stopped }));
  return result.stopped ? 130 : 0;
}
