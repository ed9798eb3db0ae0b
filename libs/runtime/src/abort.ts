/** Raised by `untilAborted` when its signal fires first; `reason` is the signal's reason. */
export class WaitAbortedError extends Error {
  readonly code = 'WAIT_ABORTED' as const;
  constructor(
    readonly reason: unknown,
    message = reason instanceof Error ? reason.message : 'aborted',
  ) {
    super(message, { cause: reason });
    this.name = 'WaitAbortedError';
  }
}

/**
 * `work`'s outcome, or a WaitAbortedError as soon as `signal` aborts, whichever comes first.
 * Stops the wait, not the work: a caller that can cancel the work passes it the same signal.
 * The work's late failure is swallowed (nobody waits for it any more). With
 * `AbortSignal.timeout(ms)` this is the one way a wait is bounded in time: no hand-made timer
 * to clear, and a timer that does not keep the process alive.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(new WaitAbortedError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new WaitAbortedError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `work`, or a rejection `no answer within ${ms} ms` once `ms` have passed. */
export function within<T>(work: Promise<T>, ms: number): Promise<T> {
  return untilAborted(work, AbortSignal.timeout(ms)).catch((err: unknown) => {
    if (err instanceof WaitAbortedError) throw new WaitAbortedError(err.reason, `no answer within ${ms} ms`);
    throw err;
  });
}
