// Task identifiers `name[:format]::regime` (oe-eval aliases, e.g. "arc_challenge:rc::olmes", "mmlu::olmes").
import type { Format } from './task.ts';

export const FORMATS: readonly Format[] = ['rc', 'mc'];

export interface TaskId {
  name: string;
  format?: Format;
  regime: string;
}

export class TaskIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskIdError';
  }
}

/** Parse `name[:format][::regime]`; a missing regime means `defaultRegime`. Names and formats are not checked here. */
export function parseTaskId(id: string, defaultRegime = 'olmes'): TaskId {
  const s = id.trim();
  if (s === '') throw new TaskIdError('empty task id; expected name[:format]::regime, e.g. arc_challenge:rc::olmes');
  const sep = s.indexOf('::');
  const left = sep < 0 ? s : s.slice(0, sep);
  const regime = sep < 0 ? defaultRegime : s.slice(sep + 2);
  if (regime === '') throw new TaskIdError(`task id ${JSON.stringify(id)}: empty regime after "::"`);
  const parts = left.split(':');
  if (parts.length > 2 || parts[0] === '') {
    throw new TaskIdError(
      `task id ${JSON.stringify(id)}: expected name[:format]::regime, e.g. arc_challenge:rc::olmes`,
    );
  }
  const [name, format] = parts;
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw new TaskIdError(
      `task id ${JSON.stringify(id)}: unknown format ${JSON.stringify(format)}; known formats: ${FORMATS.join(', ')}`,
    );
  }
  return { name, format: format as Format | undefined, regime };
}

export function formatTaskId(t: TaskId): string {
  return `${t.name}${t.format ? ':' + t.format : ''}::${t.regime}`;
}
