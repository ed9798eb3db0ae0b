/**
 * Work running in the background, at most `limit` at a time: the batches whose transactions
 * are in Postgres while the next one is read, and the XACKs sent while the loop goes on. A
 * piece of work that rejects (only StoppedError, or a bug) fails the loop at its next wait.
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit = Infinity) {}

  start(work: () => Promise<void>): void {
    const p: Promise<void> = work()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Resolves when more work may start. */
  async waitForSlot(): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.rethrow();
  }

  /** Resolves when everything started has finished. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure.error;
  }
}
