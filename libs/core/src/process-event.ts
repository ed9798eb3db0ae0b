import type { Logger } from 'pino';
import { classifyDbError, isTransientDbError } from './db-errors';
import type { FuelEvent } from './envelope';
import { FuelCodeError, toError } from './errors';
import type { HandlerRegistry } from './registry';
import { insertEvent, recordHandlerFailure } from './sql/events';
import { upsertDevice, upsertWorkspaceDevice } from './sql/devices';
import type { Sql, TransactionSql } from 'postgres';
import { resolveWorkspaceId } from './sql/workspaces';

export type HandlerResult =
  | { type: string; status: 'ok' }
  | { type: string; status: 'failed'; error: Error };

export interface ProcessResult {
  eventId: string;
  status: 'processed' | 'duplicate';
  handlerResults: HandlerResult[];
}

function localPathOf(event: FuelEvent): string | null {
  const cwd = event.type === 'session.start' ? event.data['cwd'] : undefined;
  return typeof cwd === 'string' ? cwd : null;
}

/**
 * Store one event and run its handler, all in one transaction.
 *  - The event row is inserted first; a conflict means a duplicate and nothing else runs.
 *  - The handler runs under a savepoint: if it throws, its writes roll back, the event row
 *    stays, and the failure is recorded in event_handler_failures for a later re-run.
 *  - A lost or refused connection anywhere rejects with TransientError and the whole
 *    transaction is gone; any other database refusal rejects with ProcessingError.
 */
export async function processEvent(
  sql: Sql,
  event: FuelEvent,
  registry: HandlerRegistry,
  logger: Logger,
): Promise<ProcessResult> {
  const log = logger.child({ eventId: event.id, type: event.type });
  try {
    return await sql.begin(async (tx): Promise<ProcessResult> => {
      const workspaceId = await resolveWorkspaceId(tx, event.workspace_id);
      const inserted = await insertEvent(tx, event, workspaceId);
      if (!inserted) return { eventId: event.id, status: 'duplicate', handlerResults: [] };

      await upsertDevice(tx, event.device_id, event.timestamp);
      await upsertWorkspaceDevice(tx, {
        workspaceId,
        deviceId: event.device_id,
        localPath: localPathOf(event),
        activeAt: event.timestamp,
      });

      const handler = registry.getHandler(event.type);
      if (!handler) return { eventId: event.id, status: 'processed', handlerResults: [] };
      const handlerResult = await runHandler(tx, handler, { event, workspaceId, log });
      return { eventId: event.id, status: 'processed', handlerResults: [handlerResult] };
    });
  } catch (err) {
    throw classifyDbError(err);
  }
}

async function runHandler(
  tx: TransactionSql,
  handler: NonNullable<ReturnType<HandlerRegistry['getHandler']>>,
  { event, workspaceId, log }: { event: FuelEvent; workspaceId: string; log: Logger },
): Promise<HandlerResult> {
  try {
    await tx.savepoint((sp) => handler({ sql: sp, event, workspaceId, logger: log }));
    return { type: event.type, status: 'ok' };
  } catch (thrown) {
    // A dead connection is not the handler's fault: fail the whole event so it is retried.
    if (isTransientDbError(thrown)) throw thrown;
    const err = toError(thrown);
    log.error({ err }, `Handler for ${event.type} failed on event ${event.id}: ${err.message}`);
    await recordHandlerFailure(tx, {
      eventId: event.id,
      eventType: event.type,
      errorCode: err instanceof FuelCodeError ? err.code : codeOf(thrown),
      message: err.message,
    });
    return { type: event.type, status: 'failed', error: err };
  }
}

function codeOf(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && 'code' in value) {
    const code = (value as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
