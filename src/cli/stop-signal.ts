// Graceful stop for long-running commands (train, sft, dpo, rlvr).

/**
 * Runs `fn` with an AbortSignal fired by SIGINT / SIGTERM (the loop stops after the current step and saves a
 * checkpoint); a second signal quits at once. Shared by every training command.
 */
export function withStopSignal<T>(fn: (signal: AbortSignal) => T): T {
  const controller = new AbortController();
  const stop = () => {
    process.stderr.write('\nstopping after this step (a checkpoint will be saved); press Ctrl-C again to quit now\n');
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return fn(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
