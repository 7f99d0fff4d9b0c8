// Child process for kill-resume.test.ts: a slow evaluation that the parent kills with SIGKILL mid-way.
import { LocalHfFolderSource } from '../../src/eval/data/source.ts';
import { runEval } from '../../src/eval/runner/run.ts';
import { FakeBackend } from './fixtures.ts';

const [dataRoot, outDir, tasks] = process.argv.slice(2);
const backend = new FakeBackend();
backend.delayMs = 25;
await runEval({
  tasks: tasks.split(','),
  source: new LocalHfFolderSource(dataRoot),
  outputDir: outDir,
  backend,
  batchSize: 5,
});
