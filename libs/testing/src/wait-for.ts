export interface WaitForOptions {
  intervalMs?: number;
  /** Said in the timeout error, so a failure reads as what was awaited. */
  description?: string;
}

/**
 * Poll `condition` until it returns a truthy value (which is returned) or `timeoutMs`
 * passes. A throw inside `condition` counts as "not yet" and is reported on timeout.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs: number,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const interval = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: T | undefined;
  for (;;) {
    try {
      lastValue = await condition();
      if (lastValue) return lastValue as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  const what = options.description ?? 'condition';
  const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : `; last value: ${String(lastValue)}`;
  throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms${detail}`);
}
