import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { parseEvent, toError } from '@fuel-code/core';
import { publishMany } from '@fuel-code/stream';
import { createKeyCheck } from '../auth';

export const INGEST_PATH = '/api/events/ingest';
export const MAX_EVENTS_PER_BATCH = 100;
export const BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export interface IngestRouteOptions {
  redis: Redis;
  apiKey: string;
  eventsStream: string;
  retryAfterSeconds?: number;
}

export interface IngestResult {
  index: number;
  status: 'accepted' | 'rejected';
}

export interface IngestResponse {
  ingested: number;
  rejected: number;
  results: IngestResult[];
  errors: { index: number; error: string }[];
}

export interface ErrorResponse {
  error: string;
}

export interface UnavailableResponse extends ErrorResponse {
  retry_after_seconds: number;
}

type BatchCheck = { ok: true; events: unknown[] } | { ok: false; error: string };

/** The shape of the body as a whole; each event is judged on its own afterwards. */
export function checkBatch(body: unknown): BatchCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'body must be a JSON object: {"events": [...]}' };
  }
  const events: unknown = (body as Record<string, unknown>)['events'];
  if (!Array.isArray(events)) return { ok: false, error: 'body.events must be an array of events' };
  if (events.length === 0 || events.length > MAX_EVENTS_PER_BATCH) {
    return {
      ok: false,
      error: `body.events must hold 1 to ${MAX_EVENTS_PER_BATCH} events, got ${events.length}`,
    };
  }
  return { ok: true, events };
}

/**
 * One pipelined round trip; `error` is set unless every entry was written. `published` is
 * unknown (undefined) when the pipeline as a whole failed.
 */
async function publishAll(redis: Redis, stream: string, jsons: string[]): Promise<{ published?: number; error?: Error }> {
  try {
    const outcomes = await publishMany(redis, stream, jsons);
    const published = outcomes.filter((o) => o.ok).length;
    if (published === jsons.length) return { published };
    const failed = outcomes.find((o) => !o.ok);
    return { published, error: failed && !failed.ok ? failed.error : new Error('missing pipeline replies') };
  } catch (err) {
    return { error: toError(err) };
  }
}

export function registerIngestRoute(app: FastifyInstance, options: IngestRouteOptions): void {
  const { redis, eventsStream } = options;
  const retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  const keyMatches = createKeyCheck(options.apiKey);

  const unavailable = (reply: FastifyReply) =>
    reply
      .code(503)
      .header('retry-after', String(retryAfterSeconds))
      .send({
        error: 'the event stream cannot be written right now; retry the whole batch later',
        retry_after_seconds: retryAfterSeconds,
      } satisfies UnavailableResponse);

  app.post(INGEST_PATH, {
    bodyLimit: BODY_LIMIT_BYTES,
    // onRequest runs before the body is read: an unauthenticated client cannot make the
    // server buffer and parse up to a mebibyte.
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
      if (!keyMatches(request.headers.authorization)) {
        // The body is left unread, so the connection cannot be reused: close it, or it
        // lingers (and holds up a graceful shutdown) while the client keeps sending.
        return reply
          .code(401)
          .header('connection', 'close')
          .send({ error: 'missing or invalid API key' } satisfies ErrorResponse);
      }
    },
    handler: async (request, reply) => {
      const batch = checkBatch(request.body);
      if (!batch.ok) return reply.code(400).send({ error: batch.error } satisfies ErrorResponse);

      const results: IngestResult[] = [];
      const errors: IngestResponse['errors'] = [];
      const valid: string[] = [];
      batch.events.forEach((raw, index) => {
        const parsed = parseEvent(raw);
        if (parsed.ok) {
          // The envelope is published as the client sent it, not as parsed. The worker
          // validates every entry again anyway (anything may XADD to the stream), so
          // defaults and normalisation live in one place, and an API running an older
          // schema does not strip fields a newer worker understands.
          valid.push(JSON.stringify(raw));
          results.push({ index, status: 'accepted' });
        } else {
          errors.push({ index, error: parsed.error.message });
          results.push({ index, status: 'rejected' });
        }
      });

      if (valid.length > 0) {
        // All or nothing from the client's view: if any XADD failed, answer 503 even though
        // some entries may be in the stream. "Accepted" then always means written, and the
        // client's retry of the whole batch is safe because the event id is the dedup key.
        const outcome = await publishAll(redis, eventsStream, valid);
        if (outcome.error) {
          request.log.warn(
            { valid: valid.length, published: outcome.published, error: outcome.error.message },
            'Could not publish the batch to the event stream',
          );
          return unavailable(reply);
        }
      }

      // Counts only: payloads are never logged.
      request.log.info({ ingested: valid.length, rejected: errors.length }, 'Ingested batch');
      return reply.code(202).send({
        ingested: valid.length,
        rejected: errors.length,
        results,
        errors,
      } satisfies IngestResponse);
    },
  });
}
