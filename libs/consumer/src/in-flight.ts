/**
 * Batches being processed at the same time, at most `limit`. While one batch's transaction
 * is in Postgres, the next is read, parsed and sent: Postgres never waits for Node between
 * batches. A batch that rejects (only StoppedError, or a bug) fails the loop at its next
 * wait.
 */
export class InFlightBatches {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  start(work: () => Promise<void>): void {
    const p: Promise<void> = work()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Resolves when another batch may start. */
  async waitForSlot(): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    this.rethrow();
  }

  /** Resolves when every batch has finished. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure.error;
  }
}
