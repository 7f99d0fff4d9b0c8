// Graceful stop for long-running commands (train, sft, dpo, rlvr, distill, quickstart).
//
// The training loops are synchronous: they never give the event loop a turn, so `process.on('SIGINT')`
// listeners would only run once the whole run is over. With the native addon, SIGINT and SIGTERM are caught by
// plain sigaction handlers instead (native/stop_signal.cc), which count the signals, print the stop message at
// once and quit on the second one; the AbortSignal handed to the loop reads that count whenever its `aborted`
// is read, so the loop's check between steps sees Ctrl-C right away.
//
// Without the addon (OLMO_BACKEND=js, no build, or an addon built before stop_signal.cc) the listeners are
// ordinary process ones: Ctrl-C then only takes effect where `fn` yields to the event loop (between the stages
// of an async `fn`), never inside a synchronous training loop.
import { loadNativeAddon } from '../index.ts';

const STOP_MESSAGE = '\nstopping after this step (a checkpoint will be saved); press Ctrl-C again to quit now\n';

interface StopSignalAddon {
  watchStopSignals(message: string): void;
  unwatchStopSignals(): void;
  stopSignalCount(): number;
}

function stopSignalAddon(): StopSignalAddon | null {
  if (process.env.OLMO_BACKEND === 'js') return null;
  const addon = loadNativeAddon() as Partial<StopSignalAddon> | null;
  if (
    !addon ||
    typeof addon.watchStopSignals !== 'function' ||
    typeof addon.unwatchStopSignals !== 'function' ||
    typeof addon.stopSignalCount !== 'function'
  )
    return null;
  return addon as StopSignalAddon;
}

/**
 * Runs `fn` with an AbortSignal fired by SIGINT / SIGTERM (the loop stops after the current step and saves a
 * checkpoint); a second signal quits at once with status 130. Shared by every training command. `fn` may be
 * async: the handlers stay in place until its promise settles.
 */
export function withStopSignal<T>(fn: (signal: AbortSignal) => T): T {
  const addon = stopSignalAddon();
  return addon ? withNativeWatch(addon, fn) : withListeners(fn);
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
const reasonGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!;

function withNativeWatch<T>(addon: StopSignalAddon, fn: (signal: AbortSignal) => T): T {
  const controller = new AbortController();
  const signal = controller.signal;
  let watching = true;
  // The addon's handler has already printed the message; here the controller only catches up with the count.
  const poll = () => {
    if (watching && !abortedGetter.call(signal) && addon.stopSignalCount() > 0) controller.abort();
  };
  // A real AbortSignal whose state is read through the native counter (instance properties shadow the
  // prototype's accessors), so `signal.aborted` in a synchronous loop is current.
  Object.defineProperties(signal, {
    aborted: { configurable: true, enumerable: true, get: () => (poll(), abortedGetter.call(signal) as boolean) },
    reason: { configurable: true, enumerable: true, get: () => (poll(), reasonGetter.call(signal) as unknown) },
    throwIfAborted: { configurable: true, value: () => (poll(), AbortSignal.prototype.throwIfAborted.call(signal)) },
  });
  addon.watchStopSignals(STOP_MESSAGE);
  // An async fn gives the event loop turns: poll then too, so 'abort' listeners fire while it awaits.
  const timer = setInterval(poll, 100);
  timer.unref();
  return settle(
    () => fn(signal),
    () => {
      clearInterval(timer);
      poll();
      watching = false;
      addon.unwatchStopSignals();
    },
  );
}

function withListeners<T>(fn: (signal: AbortSignal) => T): T {
  const controller = new AbortController();
  const stop = () => {
    process.stderr.write(STOP_MESSAGE);
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return settle(
    () => fn(controller.signal),
    () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  );
}

/** Runs `run`, then `cleanup` once it has returned, thrown, or (for a promise) settled. */
function settle<T>(run: () => T, cleanup: () => void): T {
  let result: T;
  try {
    result = run();
  } catch (err) {
    cleanup();
    throw err;
  }
  if (result instanceof Promise) return result.finally(cleanup) as T;
  cleanup();
  return result;
}
