// GSM8K's gold label is olmes's cleaned short answer (commas between digits removed, the last number kept), not the
// raw text after "####": "#### 1,250" is labelled "1250" and "#### 5 hours" is labelled "5", in the requests and the
// predictions, and the model's answer is scored against that label.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalHfFolderSource } from '../../../src/eval/data/source.ts';
import { runEval } from '../../../src/eval/runner/run.ts';
import { cleanShortAnswer } from '../../../src/eval/tasks/gsm8k.ts';
import { writeSplit } from '../fixtures.ts';
import { CannedBackend } from './fixtures.ts';

const lines = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l)
    .map((l) => JSON.parse(l));

test('cleanShortAnswer: commas between digits removed, the last number kept, else the text', () => {
  assert.equal(cleanShortAnswer('1,250'), '1250');
  assert.equal(cleanShortAnswer('5 hours'), '5');
  assert.equal(cleanShortAnswer('from 3 to 12'), '12');
  assert.equal(cleanShortAnswer('0.5'), '0.5');
  assert.equal(cleanShortAnswer('none'), 'none');
});

test('gsm8k::olmes labels requests and predictions with the cleaned short answer and scores against it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'olmo-gsm8k-label-'));
  const rows = [
    { question: 'How many minutes in total?', answer: 'It took 1,000 + 250 = 1,250 minutes.\n#### 1,250' },
    { question: 'How long did it take?', answer: 'It took 2 + 3 = 5 hours.\n#### 5 hours' },
  ];
  writeSplit(root, 'openai/gsm8k', 'main', 'test', rows, 'jsonl');
  // the model answers "1250" and "5 hours": olmes scores both right
  const answers: Record<string, string> = {
    'How many minutes in total?': 'So the answer is 1250.',
    'How long did it take?': 'So the answer is 5 hours.',
  };
  const out = mkdtempSync(join(tmpdir(), 'olmo-gsm8k-label-out-'));
  const r = await runEval({
    tasks: ['gsm8k::olmes'],
    overrides: { num_shots: 1 },
    source: new LocalHfFolderSource(root),
    outputDir: out,
    backend: new CannedBackend((q) => answers[q]),
  });
  const reqs = lines(join(out, 'task-000-gsm8k-requests.jsonl'));
  assert.deepEqual(
    reqs.map((x) => x.label),
    ['1250', '5'],
  );
  const preds = lines(join(out, 'task-000-gsm8k-predictions.jsonl'));
  assert.deepEqual(
    preds.map((p) => p.label),
    ['1250', '5'],
  );
  assert.deepEqual(
    preds.map((p) => p.metrics.exact_match),
    [1, 1],
  );
  assert.equal(r.tasks[0].metrics.exact_match, 1);
});
