// `olmo quickstart`: the whole OLMo 2 pipeline in miniature, offline (src/quickstart/run.ts).
import { runQuickstart } from '../index.ts';
import { parseCommandArgs, UsageError, type Command, optionTable } from './command.ts';
import { withStopSignal } from './stop-signal.ts';

export const quickstartCommand: Command = {
  name: 'quickstart',
  summary: 'the whole OLMo 2 pipeline in miniature: corpus → pretrain → anneal → soup → SFT → DPO → RLVR → report',
  usage: `olmo quickstart [--out DIR] [--minutes N] [--seed S] [--size tiny|default]

  --out DIR      run folder (default: quickstart)
  --minutes N    time budget: scales the corpus, and so the pretraining, by N / the size's nominal minutes
                 (15 for default, 1 for tiny); approximate, post-training and evaluation do not scale
  --seed S       seed of the corpus and of every stage (default 1234)
  --size NAME    default: a 3.6M-parameter OLMo 2 (≈ 15 min on 2 cores); tiny: a toy model, the same stages in
                 about a minute (what the test suite runs)

Generates the embedded corpus, pretrains and anneals an OLMo 2 model, soups the last anneal checkpoints, runs
SFT, DPO and RLVR, evaluates every stage's model on held-out tasks, and writes DIR/report.md and a self-contained
DIR/report.html (loss curves, the per-stage table, the commands to redo each stage by hand). Stage configs are
written to DIR/configs/. Ctrl-C stops after the current step; running the same command again resumes where it
stopped (finished stages are not redone).`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('quickstart', {
      args: argv,
      options: {
        ...optionTable(['out', 'seed', 'size', 'minutes']),
      },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`olmo quickstart: unexpected argument '${positionals[0]}'`);
    const seed = values.seed === undefined ? 1234 : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0)
      throw new UsageError(`olmo quickstart: --seed must be a non-negative integer, got '${values.seed}'`);
    const size = values.size ?? 'default';
    if (size !== 'tiny' && size !== 'default')
      throw new UsageError(`olmo quickstart: --size must be tiny or default, got '${size}'`);
    const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
    if (minutes !== undefined && !(minutes > 0 && Number.isFinite(minutes)))
      throw new UsageError(`olmo quickstart: --minutes must be a positive number, got '${values.minutes}'`);
    const r = await withStopSignal((signal) =>
      runQuickstart({
        out: values.out ?? 'quickstart',
        seed,
        size,
        minutes,
        signal,
        progress: process.stderr.isTTY === true,
      }),
    );
    if (r.stopped) return 130;
    console.log(JSON.stringify({ out: r.runDir, report: r.report }));
    return 0;
  },
};
