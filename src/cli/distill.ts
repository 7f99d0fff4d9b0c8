// `olmo distill`: iterative self-distillation (δ-RoT): the student generates, a critic keeps the valid candidates,
// near-duplicates are dropped, the student is fine-tuned on the rest; N rounds.
import { loadDistillConfig, runDistill } from '../index.ts';
import { parseCommandArgs, UsageError, type Command } from './command.ts';
import { withStopSignal } from './stop-signal.ts';
import { resolveConfigModels } from './model-loading.ts';

export const distillCommand: Command = {
  name: 'distill',
  summary: 'iterative self-distillation (δ-RoT): generate, filter with a critic, fine-tune, repeat',
  usage: `olmo distill --config FILE [--resume]

  --config FILE   distill config (YAML or JSON): student (HF folder), data.prompts (JSONL with messages and
                  optionally ground_truth / dataset), data.test (held-out rows with ground truth), rounds,
                  candidatesPerPrompt, generation, critic {type: verifier | model, model, template, threshold},
                  diversity {n, threshold, scope}, trainOn (round | all), sft {lr, epochs, batchSize, …}
  --resume        continue after the last round OUTPUT/rounds.jsonl records as complete (an interrupted round
                  starts over)

Ctrl-C stops after the round in progress (exit status 130); a second Ctrl-C quits at once.

Writes OUTPUT/rounds.jsonl (per round: candidates, valid, near-duplicates dropped, kept, yield, critic mean
scores, held-out verified rate when data.test is given), OUTPUT/round-K/{candidates,kept}.jsonl,
OUTPUT/round-K/sft/ (that round's fine-tuning run), OUTPUT/summary.json and OUTPUT/final/ (the last student).`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('distill', {
      args: argv,
      options: { config: { type: 'string' }, resume: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (!values.config) throw new UsageError('olmo distill: --config FILE is required');
    if (positionals.length > 0) throw new UsageError(`olmo distill: unexpected argument '${positionals[0]}'`);
    const cfg = await resolveConfigModels('distill', loadDistillConfig(values.config), ['student', 'critic.model']);
    const r = withStopSignal((signal) => runDistill(cfg, { signal, resume: values.resume === true }));
    console.log(
      JSON.stringify({
        rounds: r.rounds.map((x) => ({
          round: x.round,
          yield: x.yield,
          kept: x.kept,
          critic_mean: x.critic_mean,
          eval: x.eval,
        })),
        before: r.before,
        student: r.student,
        stopped: r.stopped,
      }),
    );
    return r.stopped ? 130 : 0;
  },
};
