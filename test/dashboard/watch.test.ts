// The metrics follower and the path checks on their own: a resumed run's atomic rewrite (MetricsLog.truncateAfter)
// is a reset with the kept rows, a removed file a reset to nothing, the poll alone finds appends; ids round-trip and
// every way out of a root is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsLog } from '../../src/train/index.ts';
import { decodeId, encodeId, HttpError, resolveInside } from '../../src/dashboard/paths.ts';
import { MetricsFollower, type FollowEvent } from '../../src/dashboard/watch.ts';
import type { MetricRow } from '../../src/dashboard/api-types.ts';
import { DashboardData } from '../../src/dashboard/context.ts';
import { listRuns, rowSteps } from '../../src/dashboard/runs.ts';

function collect(file: string, fromLines: number | null, fixRows?: (rows: MetricRow[]) => void) {
  const events: FollowEvent[] = [];
  const f = new MetricsFollower(file, (e) => events.push(e), { fromLines, pollMs: 50, fixRows });
  return { events, f };
}

test('follower: appends as rows, a resumed run rewriting the file as a reset, removal as an empty reset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'olmo-follow-'));
  const log = new MetricsLog(dir);
  log.reset();
  for (let step = 1; step <= 3; step++) log.write({ step, loss: 5 - step });
  const { events, f } = collect(log.path!, null);
  f.start();
  try {
    assert.equal(events.length, 0, 'from the end: nothing old is sent');
    log.write({ step: 4, loss: 1 });
    f.check();
    assert.deepEqual(events.pop(), { event: 'rows', data: { rows: [{ step: 4, loss: 1 }], problems: [], lines: 4 } });
    log.truncateAfter(2);
    f.check();
    const reset = events.pop();
    assert.equal(reset?.event, 'reset');
    assert.equal(reset.data.reason, 'replaced');
    assert.deepEqual(reset.data.rows, [
      { step: 1, loss: 4 },
      { step: 2, loss: 3 },
    ]);
    log.write({ step: 3, loss: 2.5 });
    f.check();
    assert.deepEqual(events.pop()?.data.rows, [{ step: 3, loss: 2.5 }], 'follows the new file');
    rmSync(log.path!);
    f.check();
    f.check();
    assert.deepEqual(events, [{ event: 'reset', data: { reason: 'removed', rows: [], problems: [], lines: 0 } }]);
  } finally {
    f.close();
  }
});

test('follower: the poll alone picks up appends; from=N sends the lines after N at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'olmo-follow-'));
  const file = join(dir, 'metrics.jsonl');
  writeFileSync(file, '{"step":1}\n{"step":2}\nnot json\n');
  const { events, f } = collect(file, 1);
  f.start();
  try {
    assert.equal(events.length, 1);
    assert.deepEqual([events[0].event, events[0].data.rows, events[0].data.lines], ['rows', [{ step: 2 }], 3]);
    assert.deepEqual(
      events[0].data.problems.map((p) => p.line),
      [3],
    );
    assert.match(events[0].data.problems[0].problem, /malformed JSON.*not json/);
    appendFileSync(file, '{"step":3}\n');
    const deadline = Date.now() + 2000;
    while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events[1]?.data.rows, [{ step: 3 }]);
  } finally {
    f.close();
  }
});

test('ids round-trip; decodeId and resolveInside refuse every way out of the root', () => {
  assert.deepEqual(decodeId(encodeId(2, 'runs/a b/ü'), 3), { root: 2, rel: 'runs/a b/ü' });
  const status = (fn: () => unknown) => {
    try {
      fn();
      return 200;
    } catch (err) {
      assert.ok(err instanceof HttpError, String(err));
      return err.status;
    }
  };
  assert.equal(
    status(() => decodeId('a/b', 1)),
    400,
  );
  assert.equal(
    status(() => decodeId(encodeId(1, 'x'), 1)),
    404,
  );
  for (const rel of ['../x', 'a/../../x', '/etc', 'a//b', './a', 'a\\..\\b', 'a\0b', 'C:/x'])
    assert.equal(
      status(() => decodeId(encodeId(0, rel), 1)),
      400,
      rel,
    );
  const base = mkdtempSync(join(tmpdir(), 'olmo-paths-'));
  const root = join(base, 'root');
  mkdirSync(join(root, 'in'), { recursive: true });
  writeFileSync(join(root, 'in', 'ok.txt'), 'ok');
  writeFileSync(join(base, 'out.txt'), 'secret');
  symlinkSync(join(base, 'out.txt'), join(root, 'in', 'link.txt'));
  symlinkSync(join(root, 'in', 'ok.txt'), join(root, 'in', 'inner.txt'));
  assert.equal(resolveInside(root, 'in/ok.txt', 't'), join(root, 'in', 'ok.txt'));
  assert.equal(resolveInside(root, 'in/inner.txt', 't'), join(root, 'in', 'ok.txt'), 'a link staying inside is fine');
  assert.equal(
    status(() => resolveInside(root, 'in/link.txt', 't')),
    400,
  );
  assert.equal(
    status(() => resolveInside(root, 'in/missing.txt', 't')),
    404,
  );
});

test('a distillation folder (rounds.jsonl) is a distill run whose rounds chart as steps, also when followed', () => {
  const root = mkdtempSync(join(tmpdir(), 'olmo-distill-'));
  const dir = join(root, 'distill');
  mkdirSync(dir);
  const file = join(dir, 'rounds.jsonl');
  writeFileSync(
    file,
    `${JSON.stringify({ round: 0, eval: { accuracy: 0.2 } })}\n${JSON.stringify({ round: 1, kept: 5 })}\n`,
  );
  const data = new DashboardData([root]);
  const [run] = listRuns(data);
  assert.deepEqual([run.path, run.kind, run.lastStep], ['distill', 'distill', 1]);
  const { events, f } = collect(file, null, rowSteps(file));
  f.start();
  try {
    appendFileSync(file, `${JSON.stringify({ round: 2, kept: 7 })}\n`);
    f.check();
    assert.deepEqual(events.pop()?.data.rows, [{ round: 2, kept: 7, step: 2 }]);
  } finally {
    f.close();
  }
});
