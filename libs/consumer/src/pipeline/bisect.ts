import type { Logger } from 'pino';
import { toError } from '@fuel-code/core';
import type { EntryOutcomes } from '../port';
import { StoppedError } from '../retry';
import type { HandleEvents, Middleware } from './types';

/**
 * Valid events are stored together. If the store refuses the batch, split it in halves and
 * try each, down to single events: a poison event costs log2(n) extra attempts, not n, and
 * only it reaches the attempt policy (wrapped inside this one) as failed.
 */
export function bisectRefused(deps: { logger: Logger }): Middleware<HandleEvents> {
  return (next) => {
    const handle = async (batch: Parameters<HandleEvents>[0], signal: AbortSignal): Promise<EntryOutcomes> => {
      if (batch.length === 0) return new Map();
      try {
        return await next(batch, signal);
      } catch (thrown) {
        if (batch.length === 1 || thrown instanceof StoppedError) throw thrown;
        deps.logger.warn({ err: toError(thrown), count: batch.length }, `Batch of ${batch.length} refused; splitting it to isolate the cause`);
        const half = Math.ceil(batch.length / 2);
        const first = await handle(batch.slice(0, half), signal);
        const second = await handle(batch.slice(half), signal);
        return new Map([...first, ...second]);
      }
    };
    return handle;
  };
}
