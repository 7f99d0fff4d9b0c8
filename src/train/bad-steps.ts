// What a training loop does with a bad step — a gradient whose loss or norm is not finite, or (pretraining) a
// loss spike. The stage asks its policy before each optimizer update; the loop keeps the policy's state in every
// checkpoint, so a resumed run judges the next steps exactly as an uninterrupted one would.

export interface BadStepPolicy {
  /** true: apply the update; false: skip it. Throws to stop the run. `step` is the 1-based step being taken. */
  accept(step: number, loss: number, gradNorm: number): boolean;
  /** What survives a resume (JSON), and its restore. */
  state?(): unknown;
  load?(state: unknown): void;
}

export class TrainingAborted extends Error {
  override name = 'TrainingAborted';
}

/** SFT and DPO: a non-finite loss or gradient stops the run with the stage's advice. */
export function failOnNonFinite(lossName: string, hint: string): BadStepPolicy {
  return {
    accept(step, loss, norm) {
      if (Number.isFinite(loss) && Number.isFinite(norm)) return true;
      throw new TrainingAborted(
        `step ${step}: the loss or gradient is not finite (${lossName} ${loss}, grad norm ${norm}); ${hint}`,
      );
    },
  };
}

/** RLVR: an update with a non-finite gradient norm is skipped (and logged); the step goes on. */
export function skipNonFinite(log: (line: string) => void): BadStepPolicy {
  return {
    accept(step, _loss, norm) {
      if (Number.isFinite(norm)) return true;
      log(`step ${step}: non-finite gradient norm, update skipped`);
      return false;
    },
  };
}

export interface SpikeSettings {
  window: number;
  sigmas: number;
  minHistory: number;
  maxConsecutiveSkips: number;
}

interface SpikeState {
  skippedSteps: number;
  consecutiveSkips: number;
  /** Recent (loss, grad norm) of accepted steps. */
  history: { loss: number[]; gradNorm: number[] };
}

/**
 * Pretraining (OLMo 2): skip a step whose loss or grad norm is not finite or lies beyond mean + sigmas·σ of the
 * recent accepted steps; abort after maxConsecutiveSkips skips in a row.
 */
export class SpikeSkipper implements BadStepPolicy {
  private s: SpikeState = { skippedSteps: 0, consecutiveSkips: 0, history: { loss: [], gradNorm: [] } };

  constructor(private readonly cfg: SpikeSettings) {}

  get skippedSteps(): number {
    return this.s.skippedSteps;
  }

  /** A new data stage has another loss level: its first steps are not spikes against the last stage's. */
  resetHistory(): void {
    this.s.history = { loss: [], gradNorm: [] };
  }

  accept(step: number, loss: number, norm: number): boolean {
    const skip = !Number.isFinite(loss) || !Number.isFinite(norm) || this.isSpike(loss, norm);
    if (skip) {
      this.s.skippedSteps++;
      this.s.consecutiveSkips++;
      if (this.s.consecutiveSkips >= this.cfg.maxConsecutiveSkips) {
        throw new TrainingAborted(
          `aborting at step ${step}: ${this.s.consecutiveSkips} consecutive steps skipped (loss ${loss}, grad norm ${norm}); the run is diverging — lower the learning rate or check the data`,
        );
      }
      return false;
    }
    this.s.consecutiveSkips = 0;
    const h = this.s.history;
    h.loss.push(loss);
    h.gradNorm.push(norm);
    const keep = this.cfg.window;
    if (h.loss.length > keep) h.loss.splice(0, h.loss.length - keep);
    if (h.gradNorm.length > keep) h.gradNorm.splice(0, h.gradNorm.length - keep);
    return true;
  }

  private isSpike(loss: number, norm: number): boolean {
    const { window, sigmas, minHistory } = this.cfg;
    const h = this.s.history;
    if (h.loss.length < minHistory) return false;
    const beyond = (values: number[], x: number) => {
      const recent = values.slice(-window);
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      const sd = Math.sqrt(recent.reduce((a, b) => a + (b - mean) ** 2, 0) / recent.length);
      return x > mean + sigmas * sd;
    };
    return beyond(h.loss, loss) || beyond(h.gradNorm, norm);
  }

  state(): SpikeState {
    return structuredClone(this.s);
  }

  load(state: unknown): void {
    const s = state as SpikeState;
    if (!s || !Number.isInteger(s.skippedSteps) || !s.history)
      throw new Error('the spike-skipping state is missing or malformed');
    this.s = structuredClone(s);
  }
}
