import type { Sql } from 'postgres';
import { mergeSightings, writeSightings, type Sightings } from './store-batch';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Writes the sightings of a process's batches (devices, workspace links, default branches)
 * after each batch's own transaction, coalescing those that arrive while a write is running
 * into the next one: one short transaction for all the batches that committed meanwhile,
 * group-commit style. A batch's submit resolves once a transaction holding its sightings has
 * committed (the batch is acknowledged only then), and rejects if that transaction failed:
 * the batch is then delivered again, its events are duplicates, and their sightings, which
 * are taken from every event of the batch, are written then.
 *
 * Every sighting rule keeps a minimum, a maximum or the latest by (time, event id), so
 * merging batches' sightings, and writing them in any order or twice, gives the same rows.
 */
export class SightingsWriter {
  private queued: { sightings: Sightings; waiters: Waiter[] } | undefined;
  private running = false;

  submit(sql: Sql, sightings: Sightings): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.queued) {
        this.queued = { sightings: mergeSightings(this.queued.sightings, sightings), waiters: [...this.queued.waiters, waiter] };
      } else {
        this.queued = { sightings, waiters: [waiter] };
      }
      if (!this.running) void this.drain(sql);
    });
  }

  private async drain(sql: Sql): Promise<void> {
    this.running = true;
    try {
      for (let next = this.queued; next; next = this.queued) {
        this.queued = undefined;
        try {
          await writeSightings(sql, next.sightings);
          for (const w of next.waiters) w.resolve();
        } catch (err) {
          for (const w of next.waiters) w.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
