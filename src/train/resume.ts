// Opening a run folder for a stage (pretraining, SFT, DPO, RLVR), fresh or resumed, with the same guarantees
// everywhere: temporaries of a killed run are removed; a fresh run refuses a folder holding another run (or moves
// it aside with overwrite); a resume takes the newest intact checkpoint — a corrupt newer one is renamed
// `<name>.corrupt` with a warning naming both — and compares the config with the checkpoint's; metrics.jsonl is cut
// back to the checkpoint's step atomically; config.resolved.json records the run.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomically } from '../io/atomic.ts';
import { packageInfo } from '../io/package-info.ts';
import { numThreads } from '../tensor/index.ts';
import {
  CheckpointCorruptError,
  listCheckpoints,
  loadCheckpoint,
  TRAIN_STATE_FILE,
  type LoadedCheckpoint,
  type RunInfo,
  type StageKind,
} from './checkpoint.ts';
import { checkConfigChanges, recordConfigChanges, type FieldPatterns } from './config-changes.ts';
import { MetricsLog } from './metrics-log.ts';
import { claimFreshRunFolder, findRun, removeStaleTemporaries } from './run-folder.ts';

/** How a stage's run starts: the options every training command shares. */
export interface RunStartOptions {
  /** Continue from the newest intact checkpoint of the run folder (true) or of this run / checkpoint folder. */
  resume?: string | boolean;
  /** A fresh run into a folder holding another run moves that run aside (to `<dir>.old-<time>`) instead of refusing. */
  overwrite?: boolean;
  /** A resume applies the changed config fields that can change mid-run (else it refuses them). */
  allowConfigChange?: boolean;
}

export interface RunSetup {
  kind: StageKind;
  /** The run folder (null: a run that writes nothing, for tests). */
  output: string | null;
  /** The resolved config as JSON (recorded, and compared on resume). */
  config: Record<string, unknown>;
  /** Where the config came from, for error messages. */
  source: string;
  /** Config fields a resume may change (with allowConfigChange). */
  changeable: FieldPatterns;
  log: (line: string) => void;
}

export interface OpenedRun<S> {
  resumed: LoadedCheckpoint<S> | null;
  /** Where overwrite moved an earlier run (its caches may still serve). */
  movedAside: string | null;
  metrics: MetricsLog;
  run: RunInfo;
}

/** Fields that never block a resume: where the run lives. */
const IGNORED: FieldPatterns = ['output', 'baseDir'];

export function openRun<S>(setup: RunSetup, opts: RunStartOptions): OpenedRun<S> {
  const { output, log } = setup;
  if (output && existsSync(output)) removeStaleTemporaries(output, log);
  const resumed = opts.resume ? findResumeCheckpoint<S>(output, opts.resume, setup.kind, log) : null;
  const movedAside = output && !opts.resume ? claimFreshRunFolder(output, opts.overwrite === true, log) : null;
  // (quickstart resumes every stage: a folder without a run starts fresh without a word)
  if (opts.resume && !resumed && output && existsSync(output) && findRun(output))
    log(`no checkpoint to resume in ${output}: starting from step 0`);
  if (resumed) {
    const changes = checkConfigChanges(resumed.state.run.config, setup.config, {
      source: setup.source,
      checkpoint: resumed.dir,
      changeable: setup.changeable,
      ignored: IGNORED,
      allow: opts.allowConfigChange === true,
    });
    if (changes.length > 0 && output) recordConfigChanges(output, resumed.state.step, changes);
    for (const c of changes)
      log(
        `config change from step ${resumed.state.step + 1}: ${c.field} ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)}`,
      );
  }
  const info = packageInfo();
  const run: RunInfo = { config: setup.config, version: info.version, commit: info.commit, threads: numThreads() };
  const metrics = new MetricsLog(output);
  if (output) {
    mkdirSync(output, { recursive: true });
    writeTextAtomically(join(output, 'config.resolved.json'), `${JSON.stringify(run, null, 2)}\n`);
    if (resumed) metrics.truncateAfter(resumed.state.step);
    else metrics.reset();
  }
  if (resumed) log(`resumed from ${resumed.dir} at step ${resumed.state.step}`);
  return { resumed, movedAside, metrics, run };
}

/**
 * The checkpoint to resume from: a named checkpoint folder (refused if corrupt), else the newest intact one of the
 * run folder — each corrupt newer one is renamed `<name>.corrupt` with a warning. null: no checkpoint (start fresh).
 */
export function findResumeCheckpoint<S>(
  output: string | null,
  resume: string | true,
  kind: StageKind,
  log: (line: string) => void,
): LoadedCheckpoint<S> | null {
  if (typeof resume === 'string' && existsSync(join(resume, TRAIN_STATE_FILE))) return loadCheckpoint<S>(resume, kind);
  const runDir = typeof resume === 'string' ? resume : output;
  if (!runDir)
    throw new Error('resume: give the run or checkpoint folder to resume (this run writes no output folder)');
  const all = listCheckpoints(runDir);
  if (all.length === 0) {
    if (typeof resume === 'string')
      throw new Error(`--resume ${resume}: no complete checkpoint found (looked in ${join(runDir, 'checkpoints')})`);
    return null;
  }
  const problems: string[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    try {
      const ckpt = loadCheckpoint<S>(all[i], kind);
      if (problems.length > 0) log(`warning: resuming from ${all[i]}, the newest intact checkpoint`);
      return ckpt;
    } catch (err) {
      if (!(err instanceof CheckpointCorruptError)) throw err;
      problems.push(err.message);
      const aside = `${all[i]}.corrupt`;
      rmSync(aside, { recursive: true, force: true });
      renameSync(all[i], aside);
      log(
        `warning: checkpoint ${all[i]} is corrupt (${err.message}); moved to ${aside}${i > 0 ? `, falling back to ${all[i - 1]}` : ''}`,
      );
    }
  }
  throw new CheckpointCorruptError(
    `no intact checkpoint in ${join(runDir, 'checkpoints')} (each was moved to <name>.corrupt):\n${problems.join('\n')}`,
  );
}
