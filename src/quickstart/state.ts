// The quickstart's run state (RUN/quickstart.json): the options the run was made with and, per stage, whether it
// finished, how long it took (summed over resumed invocations) and its one-line summary. Written atomically after
// every stage, so a killed run restarts at the first unfinished stage.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTextAtomically } from '../io/atomic.ts';

export interface StageState {
  done: boolean;
  seconds: number;
  summary?: string;
}

export interface QuickstartState {
  format: 'olmo-quickstart';
  version: 1;
  seed: number;
  size: string;
  /** The corpus scale (--minutes changes it). */
  scale: number;
  /** When the run was started (the report's date, so a resumed run writes the same report). */
  created: string;
  stages: Record<string, StageState>;
}

export const STATE_FILE = 'quickstart.json';

/** Reads the run's state, or starts a new one; refuses a folder made with other options. */
export function openState(runDir: string, seed: number, size: string, scale: number): QuickstartState {
  const file = join(runDir, STATE_FILE);
  if (!existsSync(file))
    return { format: 'olmo-quickstart', version: 1, seed, size, scale, created: new Date().toISOString(), stages: {} };
  let s: QuickstartState;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as QuickstartState;
  } catch (e) {
    throw new Error(
      `${file}: not a readable quickstart state (${(e as Error).message}); remove the folder or choose another --out`,
      {
        cause: e,
      },
    );
  }
  if (s.format !== 'olmo-quickstart' || typeof s.stages !== 'object' || s.stages === null) {
    throw new Error(`${file}: not a quickstart state file; remove the folder or choose another --out`);
  }
  if (s.seed !== seed || s.size !== size || s.scale !== scale) {
    throw new Error(
      `${runDir} holds a quickstart run made with --seed ${s.seed} --size ${s.size} (corpus scale ${s.scale}, here ${scale}); rerun with the same options (and --minutes) to resume it, or choose another --out`,
    );
  }
  return s;
}

export function saveState(runDir: string, state: QuickstartState): void {
  mkdirSync(runDir, { recursive: true });
  writeTextAtomically(join(runDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}
