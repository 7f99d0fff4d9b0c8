// `olmo dpo`: preference tuning with DPO (length-normalised as Tülu 3, or standard) from a YAML/JSON config.
import { DpoTrainer, loadDpoConfig, type DpoResult } from '../index.ts';
import { parseCommandArgs, UsageError, type Command } from './command.ts';
import { withStopSignal } from './stop-signal.ts';

export const dpoCommand: Command = {
  name: 'dpo',
  summary: 'preference tuning with DPO (length-normalised dpo_norm as Tülu 3, or standard sigmoid DPO)',
  usage: `olmo dpo --config FILE [--resume [RUN_DIR|CHECKPOINT_DIR]]

  --config FILE   DPO config (YAML or JSON): initFrom (the SFT model), reference (default: initFrom),
                  data.train / data.test or data.testFraction (JSONL with chosen/rejected message lists, or a
                  prompt with chosen/rejected strings), loss (dpo_norm | dpo), beta (default 5 for dpo_norm,
                  0.1 for dpo), lr, warmupRatio, batch sizes; see configs/quickstart/dpo.yaml
  --resume [DIR]  continue from the latest complete checkpoint of the run

Reference log-probs are computed once and cached in OUTPUT/reference_logprobs.json. Writes OUTPUT/metrics.jsonl
(per step: loss, chosen/rejected rewards, reward accuracy and margin; eval_* lines on the held-out pairs),
OUTPUT/eval.json (before / after), OUTPUT/checkpoints/step-N/ and OUTPUT/final/.`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('dpo', {
      args: argv,
      options: { config: { type: 'string' }, resume: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (!values.config) throw new UsageError('olmo dpo: --config FILE is required');
    if (positionals.length > 1 || (positionals.length === 1 && !values.resume)) {
      throw new UsageError(`olmo dpo: unexpected argument '${positionals[positionals.length - 1]}'`);
    }
    const cfg = loadDpoConfig(values.config);
    const result: DpoResult = withStopSignal((signal) =>
      new DpoTrainer(cfg, { resume: values.resume ? (positionals[0] ?? true) : undefined, signal, progress: process.stderr.isTTY === true }).run(),
    );
    console.log(JSON.stringify({ steps: result.steps, before: result.before, after: result.after, reference_cache: result.referenceCache, output: result.outputDir, stopped: result.stopped }));
    return result.stopped ? 130 : 0;
  },
};
