// Learning-rate schedules of the OLMo recipes, in optimizer steps: linear warmup from `warmupMinLr` (OLMo 2: 0),
// then cosine to alphaF·peak (stage 1), linear to alphaF·peak (the anneal: alphaF 0), warmup-stable-decay, or
// constant. The cosine horizon may exceed the stage (OLMo 2 stops before its t_max).

export type ScheduleKind = 'cosine' | 'linear' | 'wsd' | 'constant';

export interface Schedule {
  kind: ScheduleKind;
  peak: number;
  warmupSteps: number;
  /** Final LR as a fraction of the peak (cosine default 0.1, linear/wsd default 0). */
  alphaF: number;
  /** Step at which the decay reaches alphaF·peak (default: the stage's last step). */
  horizon: number;
  /** WSD: steps of the final linear decay. */
  decaySteps: number;
  warmupMinLr: number;
}

/** The learning rate of update `step` (0-based within the stage). */
export function lrAt(s: Schedule, step: number): number {
  const min = s.alphaF * s.peak;
  if (step < s.warmupSteps) return s.warmupMinLr + ((s.peak - s.warmupMinLr) * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.horizon - s.warmupSteps);
  const t = Math.min(1, (step - s.warmupSteps) / span);
  switch (s.kind) {
    case 'constant':
      return s.peak;
    case 'cosine':
      return min + ((s.peak - min) * (1 + Math.cos(Math.PI * t))) / 2;
    case 'linear':
      return s.peak - (s.peak - min) * t;
    case 'wsd': {
      const decayStart = Math.max(s.warmupSteps, s.horizon - s.decaySteps);
      if (step < decayStart) return s.peak;
      return s.peak - (s.peak - min) * Math.min(1, (step - decayStart) / Math.max(1, s.horizon - decayStart));
    }
  }
}
