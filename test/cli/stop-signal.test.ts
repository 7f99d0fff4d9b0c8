// Ctrl-C during a synchronous training loop: SIGINT stops `olmo train` / `olmo sft` after the current step with
// status 130 and a checkpoint, and `--resume` finishes the run. In process: the signal handed to `fn` reads the
// native counter synchronously, async functions keep the handlers until they settle, the previous handlers come
// back afterwards, and the js fallback (process listeners) still works where `fn` awaits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withStopSignal } from '../../src/cli/stop-signal.ts';
import { listCheckpoints } from '../../src/train/index.ts';
import { loadNativeAddon, nativeLoadError } from '../../src/tensor/native-addon.ts';
import { makeTrainFixture, tinyTrainConfig } from '../train/train-fixture.ts';
import { sftJsonl, writeTinyModel } from '../posttrain/posttrain-fixture.ts';
import { olmo } from './cli-helpers.ts';
import { OLMO_NODE_ARGS } from '../olmo-command.ts';

const root = mkdtempSync(join(tmpdir(), 'olmo-stop-'));
after(() => rmSync(root, { recursive: true, force: true }));

const addon = loadNativeAddon();
const noNative = !addon
  ? `native addon unavailable: ${nativeLoadError()}`
  : typeof addon.watchStopSignals !== 'function'
    ? 'the native addon predates stop_signal.cc (npm run build:native)'
    : false;

const lossLines = (out: string) =>
  existsSync(join(out, 'metrics.jsonl'))
    ? readFileSync(join(out, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"loss"'))
    : [];

interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from SIGINT to exit. */
  exitMs: number;
}

/** Runs `olmo ARGS`, sends SIGINT once `out`/metrics.jsonl has a step line, and waits for the exit. */
function interruptAfterFirstStep(args: string[], out: string): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...OLMO_NODE_ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let sentAt = 0;
    const poll = setInterval(() => {
      if (sentAt === 0 && lossLines(out).length >= 1) {
        sentAt = performance.now();
        child.kill('SIGINT');
      }
    }, 20);
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, exitMs: sentAt ? performance.now() - sentAt : -1 });
    });
  });
}

function assertStopped(r: Stopped, out: string): void {
  assert.ok(r.exitMs >= 0, `the run ended before it was interrupted: ${r.stderr}`);
  assert.equal(r.code, 130, `exit status (signal ${r.signal}): ${r.stderr}`);
  assert.ok(r.exitMs < 5000, `exited ${Math.round(r.exitMs)} ms after SIGINT`);
  assert.match(r.stderr, /stopping after this step \(a checkpoint will be saved\)/);
  assert.equal(JSON.parse(r.stdout.trim().split('\n').pop()!).stopped, true);
  // Periodic checkpoints are off in these configs: this one is the stop's.
  assert.equal(listCheckpoints(out).length, 1, 'one checkpoint, written on stop');
  assert.ok(!existsSync(join(out, 'final')), 'the stopped run did not finish');
}

describe('Ctrl-C during training', { skip: noNative }, () => {
  before(async () => {
    await makeTrainFixture(join(root, 'pre'));
    writeTinyModel(join(root, 'base'));
    writeFileSync(join(root, 'sft.jsonl'), sftJsonl(64, 1));
  });

  it('olmo train stops after the current step with status 130 and a checkpoint; --resume finishes it', async () => {
    const out = join(root, 'train-out');
    const cfg = tinyTrainConfig(join(root, 'pre'), out);
    // ~6000 steps: well over 10 s unless stopped.
    cfg.data.stages[0].tokens = 64 * 6000;
    cfg.checkpoint = { every: 1_000_000, keepLast: 1 };
    cfg.validation = { every: 1_000_000, batches: 1 };
    const configPath = join(root, 'train.json');
    writeFileSync(configPath, JSON.stringify(cfg));
    const r = await interruptAfterFirstStep(['train', '--config', configPath], out);
    assertStopped(r, out);
    const stoppedAt = lossLines(out).length;
    assert.ok(stoppedAt < 1000, `stopped at step ${stoppedAt}`);

    const resumed = olmo(['train', '--config', configPath, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(existsSync(join(out, 'final', 'config.json')));
    const steps = lossLines(out).map((l) => JSON.parse(l).step as number);
    assert.deepEqual(
      steps,
      Array.from({ length: steps.length }, (_, i) => i + 1),
      'every step once, in order',
    );
    assert.equal(steps.length, JSON.parse(resumed.stdout.trim().split('\n').pop()!).steps);
  });

  it('olmo sft stops the same way and resumes', async () => {
    const out = join(root, 'sft-out');
    const configPath = join(root, 'sft.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        output: out,
        initFrom: join(root, 'base'),
        data: { train: join(root, 'sft.jsonl'), maxLength: 64 },
        seed: 1,
        epochs: 50,
        batchSize: 8,
        microBatchSize: 8,
        lr: 1e-3,
        checkpoint: { every: 1_000_000, keepLast: 1 },
      }),
    );
    const r = await interruptAfterFirstStep(['sft', '--config', configPath], out);
    assertStopped(r, out);
    const resumed = olmo(['sft', '--config', configPath, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(existsSync(join(out, 'final', 'config.json')));
    assert.equal(lossLines(out).length, 8 * 50);
  });
});

/** Runs `send`, then waits for the 'abort' event (a timer keeps the event loop alive: signal watchers do not). */
function abortOf(signal: AbortSignal, send: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error('no abort event within 5 s')), 5000);
    signal.addEventListener('abort', () => (clearTimeout(timeout), resolve()), { once: true });
    send();
  });
}

describe('withStopSignal in process', () => {
  it('the signal reads SIGINT synchronously inside a loop that never yields', { skip: noNative }, () => {
    const stopped = withStopSignal((signal) => {
      assert.equal(signal.aborted, false);
      assert.ok(signal instanceof AbortSignal);
      process.kill(process.pid, 'SIGINT');
      const deadline = performance.now() + 2000;
      while (!signal.aborted && performance.now() < deadline);
      assert.ok(signal.reason instanceof Error);
      assert.throws(() => signal.throwIfAborted());
      return signal.aborted;
    });
    assert.equal(stopped, true);
  });

  it(
    'keeps the handlers while an async fn awaits, fires abort listeners, and restores the previous handler',
    { skip: noNative },
    async () => {
      let jsListenerCalls = 0;
      const listener = () => jsListenerCalls++;
      process.on('SIGINT', listener);
      try {
        const result = await withStopSignal(async (signal) => {
          await new Promise((r) => setTimeout(r, 10));
          await abortOf(signal, () => process.kill(process.pid, 'SIGINT'));
          return 'done';
        });
        assert.equal(result, 'done');
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(jsListenerCalls, 0, 'the native handler took the signal');
        // libuv's handler is back: the JS listener sees the next SIGINT.
        process.kill(process.pid, 'SIGINT');
        const deadline = Date.now() + 2000;
        while (jsListenerCalls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.equal(jsListenerCalls, 1);
      } finally {
        process.off('SIGINT', listener);
      }
    },
  );

  it('falls back to process listeners on the js backend, removed once an async fn settles', async () => {
    const saved = process.env.OLMO_BACKEND;
    process.env.OLMO_BACKEND = 'js';
    try {
      const before = process.listenerCount('SIGINT');
      const pending = withStopSignal(async (signal) => {
        assert.equal(process.listenerCount('SIGINT'), before + 1);
        await abortOf(signal, () => process.kill(process.pid, 'SIGINT'));
        await new Promise((r) => setTimeout(r, 10));
        assert.equal(process.listenerCount('SIGINT'), before + 1, 'still listening while fn awaits');
        return signal.aborted;
      });
      assert.equal(await pending, true);
      assert.equal(process.listenerCount('SIGINT'), before);
    } finally {
      if (saved === undefined) delete process.env.OLMO_BACKEND;
      else process.env.OLMO_BACKEND = saved;
    }
  });
});
