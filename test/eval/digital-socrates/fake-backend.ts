// A scripted generate_until backend for the seed-benchmark task tests: answers each request with respond(request).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../../src/eval/runner/backend.ts';
import type { ChatGenerateRequest } from '../../../src/eval/kinds/chat-generation.ts';
import type { GenerateUntilRequest } from '../../../src/eval/types.ts';

export class ScriptedBackend implements Backend {
  readonly maxLength = 4096;
  calls = 0;
  seen: ChatGenerateRequest[] = [];
  constructor(
    readonly name: string,
    readonly respond: (r: ChatGenerateRequest) => string,
  ) {}
  async loglikelihood(): Promise<never> {
    throw new Error('ScriptedBackend: loglikelihood not used');
  }
  async loglikelihoodRolling(): Promise<never> {
    throw new Error('ScriptedBackend: loglikelihood_rolling not used');
  }
  async generateUntil(requests: GenerateUntilRequest[]): Promise<string[]> {
    this.calls++;
    this.seen.push(...requests);
    return requests.map((r) => this.respond(r));
  }
}

export const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), `olmo-seed-${p}-`));

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The shared sample folder of a benchmark, and a skip message when it is absent. */
export function sampleDir(benchmark: string): { dir: string; skip: string | false } {
  const dir = path.resolve(projectRoot, '..', 'shared', 'fixtures', 'benchmarks', benchmark);
  return {
    dir,
    skip: existsSync(dir)
      ? false
      : `${benchmark} samples not found at ${dir} (they live in the shared workspace, not in the project)`,
  };
}
