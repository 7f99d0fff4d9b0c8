// Sampling options shared by `olmo generate` and `olmo chat`.
import { numberOption, optionTable } from './command.ts';

export const samplingOptions = {
  ...optionTable(['max-new-tokens', 'temperature', 'top-k', 'top-p', 'seed']),
  stop: { type: 'string', multiple: true },
} as const;

export const samplingHelp = `  --max-new-tokens N   tokens to generate at most (default 256)
  --temperature T      0 is greedy (default 0)
  --top-k K            sample among the K most likely tokens (default: all)
  --top-p P            nucleus sampling: the smallest set reaching probability P (default 1)
  --seed S             random seed for sampling (default 0)
  --stop TEXT          stop when TEXT appears (repeatable)`;

export function readSampling(command: string, v: Record<string, unknown>) {
  const s = (name: string) => v[name] as string | undefined;
  return {
    maxNewTokens: numberOption(command, 'max-new-tokens', s('max-new-tokens'), { integer: true, min: 0 }) ?? 256,
    temperature: numberOption(command, 'temperature', s('temperature'), { min: 0 }) ?? 0,
    topK: numberOption(command, 'top-k', s('top-k'), { integer: true, min: 0 }) ?? 0,
    topP: numberOption(command, 'top-p', s('top-p'), { min: Number.MIN_VALUE, max: 1 }) ?? 1,
    seed: numberOption(command, 'seed', s('seed'), { integer: true }) ?? 0,
    stop: (v.stop as string[] | undefined) ?? [],
  };
}
