// `olmo rlvr`: reinforcement learning with verifiable rewards (GRPO by default, PPO with a value model) from a
// YAML/JSON config; `--resume` continues from the run's latest checkpoint.
import { heldoutPaired, loadRlvrConfig, runRlvr } from '../index.ts';
import type { Command } from './command.ts';
import { parseRunArgs, RUN_FLAGS_USAGE } from './run-args.ts';
import { withStopSignal } from './stop-signal.ts';
import { resolveConfigModels } from './model-loading.ts';

export const rlvrCommand: Command = {
  name: 'rlvr',
  summary: 'reinforcement learning with verifiable rewards (GRPO / PPO, Tülu 3 recipe)',
  usage: `olmo rlvr --config FILE [--resume [RUN_DIR|CHECKPOINT_DIR]] [--overwrite] [--allow-config-change]

  --config FILE   RLVR config (YAML or JSON): model (HF folder: the policy and, unless "reference" is given, the
                  frozen reference), data.train / data.test (open-instruct RLVR JSONL: messages, ground_truth,
                  dataset = verifier), algorithm (grpo | ppo), steps, promptsPerStep, samplesPerPrompt,
                  generation, lr, kl {beta, estimator}, reward {correct, incorrect, nonStopPenalty,
                  penaltyValue}, clip, ppo {gamma, lambda, vfCoef, valueModel}, eval; see configs/quickstart/rlvr.yaml
${RUN_FLAGS_USAGE}

Writes OUTPUT/metrics.jsonl (per step: mean reward, verified rate, stop rate, KL, response length, loss, clip
fraction, grad norm; eval lines: held-out verified rate), OUTPUT/summary.json (held-out verified rate before
and after), OUTPUT/config.resolved.json, OUTPUT/checkpoints/step-N/ (HF model folder + optimizer and RLVR state)
and OUTPUT/final/.`,
  async run(argv) {
    const { config, start } = parseRunArgs('rlvr', argv);
    const cfg = await resolveConfigModels('rlvr', loadRlvrConfig(config), ['model', 'reference', 'ppo.valueModel']);
    const result = withStopSignal((signal) =>
      runRlvr(cfg, { ...start, signal, progress: process.stderr.isTTY === true }),
    );
    console.log(
      JSON.stringify({
        steps: result.steps,
        heldout_verified_rate_before: result.before?.verified_rate ?? null,
        heldout_verified_rate_after: result.after?.verified_rate ?? null,
        heldout_paired: heldoutPaired(result),
        output: result.outputDir,
        stopped: result.steps < cfg.steps,
      }),
    );
    // Without maxSteps the loop only ends early on SIGINT / SIGTERM: report that like train, sft and dpo.
    return result.steps < cfg.steps ? 130 : 0;
  },
};
