// Two-model evaluations as task ids, for `olmo eval --critic-model DIR | --critic-openai URL`: the evaluated model
// does the first stage, a critic model (any backend) judges its outputs in the second.
//
//   digital_socrates_critic[::olmes|::olmes:full]  Digital Socrates critic mode: the evaluated model answers and
//                           explains DSCB questions (stage `student`), the critic critiques each explanation (`critic`)
//   delta_rot_judge[::olmes|::olmes:full]          judged δ-RoT (our protocol): the evaluated model writes contexts
//                           and rationales (stage `generation`), the critic judges validity and direction (`judge`)
//
// Each mode writes `<output>/<name>/<stage>/` with the usual oe-eval files and request cache per stage (so each
// stage resumes, and `--rescore <output>` recomputes both). ::olmes:full lifts the mode's default instance limit.
import type { DatasetSource } from './data/source.ts';
import type { ConfigOverrides } from './registry.ts';
import type { Backend } from './runner/backend.ts';
import type { EvalProgress, EvalRunResult } from './runner/run.ts';
import { parseTaskId, TaskIdError } from './task-id.ts';
import { runDeltaRotJudged } from './tasks/delta-rot/pipeline.ts';
import { runDigitalSocratesCriticMode } from './tasks/digital-socrates/pipeline.ts';
import { join } from 'node:path';

export interface CriticModeArgs {
  /** the evaluated model: the student / the generator */
  model: Backend;
  critic: Backend;
  regime: string;
  overrides: ConfigOverrides;
  source: DatasetSource;
  /** the mode's folder; its stages go in sub-folders */
  outputDir: string;
  batchSize?: number;
  onProgress?: (stage: string, p: EvalProgress) => void;
  computeConfig?: Record<string, unknown>;
}

export interface CriticModeResult {
  stages: { stage: string; dir: string; result: EvalRunResult }[];
}

export interface CriticMode {
  name: string;
  describe: string;
  run(a: CriticModeArgs): Promise<CriticModeResult>;
}

const REGIMES = ['olmes', 'olmes:full'];

/** The limit a mode runs with: none under ::olmes:full, else --limit, else the mode's default (undefined). */
function limitOf(a: CriticModeArgs): number | null | undefined {
  return a.regime === 'olmes:full' ? null : a.overrides.limit;
}

export const CRITIC_MODES: Record<string, CriticMode> = {
  digital_socrates_critic: {
    name: 'digital_socrates_critic',
    describe:
      'Digital Socrates critic mode: the model answers and explains DSCB questions, the critic critiques the explanations',
    async run(a) {
      const r = await runDigitalSocratesCriticMode({
        student: a.model,
        critic: a.critic,
        source: a.source,
        outputDir: a.outputDir,
        batchSize: a.batchSize,
        onProgress: a.onProgress,
        computeConfig: a.computeConfig,
        limit: limitOf(a) ?? null,
      });
      return {
        stages: [
          { stage: 'student', dir: join(a.outputDir, 'student'), result: r.student },
          { stage: 'critic', dir: join(a.outputDir, 'critic'), result: r.critic },
        ],
      };
    },
  },
  delta_rot_judge: {
    name: 'delta_rot_judge',
    describe:
      'judged δ-RoT (our protocol): the model writes contexts and rationales, the critic judges validity and direction',
    async run(a) {
      const r = await runDeltaRotJudged({
        generator: a.model,
        judge: a.critic,
        source: a.source,
        outputDir: a.outputDir,
        batchSize: a.batchSize,
        onProgress: a.onProgress,
        computeConfig: a.computeConfig,
        limit: limitOf(a),
        ...(a.overrides.num_shots !== undefined ? { numShots: a.overrides.num_shots } : {}),
      });
      return {
        stages: [
          { stage: 'generation', dir: join(a.outputDir, 'generation'), result: r.generation },
          { stage: 'judge', dir: join(a.outputDir, 'judge'), result: r.judge },
        ],
      };
    },
  },
};

/** The ids of the two-model modes, for listings. */
export function criticModeIds(): string[] {
  return Object.keys(CRITIC_MODES).map((n) => `${n}::olmes`);
}

/** Split task ids into two-model modes (name, regime) and ordinary ids (left for planTasks), in order. */
export function splitCriticModes(ids: readonly string[]): {
  modes: { mode: CriticMode; regime: string; id: string }[];
  others: string[];
} {
  const modes: { mode: CriticMode; regime: string; id: string }[] = [];
  const others: string[] = [];
  for (const id of ids) {
    let t: ReturnType<typeof parseTaskId>;
    try {
      t = parseTaskId(id);
    } catch {
      others.push(id); // planTasks reports it
      continue;
    }
    const mode = CRITIC_MODES[t.name];
    if (!mode) {
      others.push(id);
      continue;
    }
    if (t.format)
      throw new TaskIdError(
        `task id ${JSON.stringify(id)}: ${t.name} has no :${t.format} format; use ${t.name}::olmes`,
      );
    if (!REGIMES.includes(t.regime))
      throw new TaskIdError(
        `task id ${JSON.stringify(id)}: unknown regime ${JSON.stringify(t.regime)}; ${t.name} knows ${REGIMES.join(', ')}`,
      );
    if (!modes.some((m) => m.mode === mode && m.regime === t.regime)) modes.push({ mode, regime: t.regime, id });
  }
  return { modes, others };
}
