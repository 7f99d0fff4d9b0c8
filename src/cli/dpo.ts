// `olmo dpo`: preference tuning with DPO (length-normalised as Tülu 3, or standard) from a YAML/JSON config.
import { DpoTrainer, loadDpoConfig, type DpoResult } from '../index.ts';
import type { Command } from './command.ts';
import { parseRunArgs, RUN_FLAGS_USAGE, runStageCommand } from './run-args.ts';
import { resolveConfigModels } from './model-loading.ts';

/** The fields of the summary line besides steps and stopped. */
const dpoSummary = (result: DpoResult) => ({
  before: result.before,
  after: result.after,
  reference_cache: result.referenceCache,
  output: result.outputDir,
});

export const dpoCommand: Command = {
  name: 'dpo',
  summary: 'preference tuning with DPO (length-normalised dpo_norm as Tülu 3, or standard sigmoid DPO)',
  usage: `olmo dpo --config FILE [--resume [RUN_DIR|CHECKPOINT_DIR]] [--overwrite] [--allow-config-change]

  --config FILE   DPO config (YAML or JSON): initFrom (the SFT model), reference (default: initFrom),
                  data.train / data.test or data.testFraction (JSONL with chosen/rejected message lists, or a
                  prompt with chosen/rejected strings), loss (dpo_norm | dpo), beta (default 5 for dpo_norm,
                  0.1 for dpo), lr, warmupRatio, batch sizes; see configs/quickstart/dpo.yaml
${RUN_FLAGS_USAGE}

Reference log-probs are computed once and cached in OUTPUT/reference_logprobs.json. Writes OUTPUT/metrics.jsonl
(per step: loss, chosen/rejected rewards, reward accuracy and margin; eval_* lines on the held-out pairs),
OUTPUT/eval.json (before / after), OUTPUT/checkpoints/step-N/ and OUTPUT/final/.`,
  async run(argv) {
    const { config, start } = parseRunArgs('dpo', argv);
    const cfg = await resolveConfigModels('dpo', loadDpoConfig(config), ['initFrom', 'reference']);
    return runStageCommand(start, (options) => new DpoTrainer(cfg, options).run(), dpoSummary);
  },
};
