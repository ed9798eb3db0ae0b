import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, HookHandlerDoneFunction } from 'fastify';
import type Redis from 'ioredis';
import { fastEnvelopeOk, parseEvent } from '@fuel-code/core';
import { createBatchedPublisher } from '@fuel-code/stream';
import { createKeyCheck } from '../auth';
import { eventTexts } from '../event-texts';

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
  /** `duplicate`: a later copy of an id already in this request; the first copy is published, once. */
  status: 'accepted' | 'rejected' | 'duplicate';
}

export interface IngestResponse {
  /** Entries published: the accepted events, each id once. */
  ingested: number;
  /** Copies of ids repeated within the request (the fuel-code client adds this up). */
  duplicates: number;
  /** The ids repeated within the request, each once. */
  duplicate_ids: string[];
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

interface Judged {
  results: IngestResult[];
  errors: IngestResponse['errors'];
  /** What to publish: each accepted event's JSON, each id once. */
  valid: string[];
  duplicateIds: string[];
  duplicates: number;
}

/**
 * The id of an event the worker can store, or why it cannot. Only accept or reject is decided
 * here, so the common event needs the envelope's checks alone (fastEnvelopeOk); parseEvent words
 * the error of any other, or accepts what the fast checks leave to zod.
 */
function acceptedId(raw: unknown): string | Error {
  if (fastEnvelopeOk(raw)) return raw.id;
  const parsed = parseEvent(raw);
  return parsed.ok ? parsed.event.id : parsed.error;
}

/**
 * Judge each event on its own. Only an envelope the worker could never store is rejected: a
 * type this build does not know and a payload that fails its type's schema are accepted,
 * since the client deletes whatever a 202 covers, and the worker stores both.
 */
function judgeEvents(events: readonly unknown[], texts: readonly string[] | undefined): Judged {
  const judged: Judged = { results: [], errors: [], valid: [], duplicateIds: [], duplicates: 0 };
  const seen = new Set<string>();
  const repeated = new Set<string>();
  events.forEach((raw, index) => {
    const id = acceptedId(raw);
    if (typeof id !== 'string') {
      judged.errors.push({ index, error: id.message });
      judged.results.push({ index, status: 'rejected' });
      return;
    }
    if (seen.has(id)) {
      judged.duplicates++;
      if (!repeated.has(id)) judged.duplicateIds.push(id);
      repeated.add(id);
      judged.results.push({ index, status: 'duplicate' });
      return;
    }
    seen.add(id);
    // The envelope is published as the client sent it, not as parsed: its own bytes when they
    // were found in the body, else re-serialized. The worker validates every entry again anyway
    // (anything may XADD to the stream), so defaults and normalisation live in one place, and
    // an API running an older schema does not strip fields a newer worker understands.
    judged.valid.push(texts?.[index] ?? JSON.stringify(raw));
    judged.results.push({ index, status: 'accepted' });
  });
  return judged;
}

/**
 * The 202 body's schema: fastify compiles a serializer for it (fast-json-stringify) instead of
 * running JSON.stringify over the object. Same fields, same order, as IngestResponse.
 */
const ACCEPTED_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['ingested', 'duplicates', 'duplicate_ids', 'rejected', 'results', 'errors'],
  properties: {
    ingested: { type: 'integer' },
    duplicates: { type: 'integer' },
    duplicate_ids: { type: 'array', items: { type: 'string' } },
    rejected: { type: 'integer' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'status'],
        properties: { index: { type: 'integer' }, status: { type: 'string' } },
      },
    },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'error'],
        properties: { index: { type: 'integer' }, error: { type: 'string' } },
      },
    },
  },
};

/** Typed as FastifySchema so replies other than 202 (400, 503) keep their plain typing. */
const INGEST_ROUTE_SCHEMA: FastifySchema = { response: { 202: ACCEPTED_RESPONSE_SCHEMA } };

export function registerIngestRoute(app: FastifyInstance, options: IngestRouteOptions): void {
  // Concurrent requests' entries go to Redis together, one call per event-loop turn; each
  // request still learns whether all of its own were written.
  const publisher = createBatchedPublisher(options.redis, options.eventsStream);
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

  // fastify's own JSON parser (same errors, same prototype-poisoning refusals), keeping the
  // text for eventTexts. Scoped: only the ingest route's bodies are kept, and only until the
  // request object is collected.
  const bodyTexts = new WeakMap<FastifyRequest, string>();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    // parseAs 'string': a string; the type allows a Buffer.
    const text = typeof body === 'string' ? body : body.toString('utf8');
    bodyTexts.set(request, text);
    parseJson(request, text, done);
  });

  app.post(INGEST_PATH, {
    bodyLimit: BODY_LIMIT_BYTES,
    schema: INGEST_ROUTE_SCHEMA,
    // onRequest runs before the body is read: an unauthenticated client cannot make the
    // server buffer and parse up to a mebibyte. A callback hook, not an async one: it runs
    // for every request and has nothing to await.
    onRequest: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (keyMatches(request.headers.authorization)) return done();
      // The body is left unread, so the connection cannot be reused: close it, or it
      // lingers (and holds up a graceful shutdown) while the client keeps sending.
      reply
        .code(401)
        .header('connection', 'close')
        .send({ error: 'missing or invalid API key' } satisfies ErrorResponse);
    },
    handler: async (request, reply) => {
      const batch = checkBatch(request.body);
      if (!batch.ok) return reply.code(400).send({ error: batch.error } satisfies ErrorResponse);

      const body = bodyTexts.get(request);
      const texts = body === undefined ? undefined : eventTexts(body, batch.events.length);
      const { results, errors, valid, duplicateIds, duplicates } = judgeEvents(batch.events, texts);
      if (valid.length > 0) {
        // All or nothing from the client's view: if any XADD failed, answer 503 even though
        // some entries may be in the stream. "Accepted" then always means written, and the
        // client's retry of the whole batch is safe because the event id is the dedup key.
        const outcome = await publisher.publish(valid);
        if (!outcome.ok) {
          request.log.warn(
            { valid: valid.length, error: outcome.error.message },
            'Could not publish the batch to the event stream',
          );
          return unavailable(reply);
        }
      }

      // Counts only: payloads are never logged. Debug: at info, one line per request would be
      // most of the API's work (the access log samples instead: SampledAccessLog).
      request.log.debug({ ingested: valid.length, duplicates, rejected: errors.length }, 'Ingested batch');
      return reply.code(202).send({
        ingested: valid.length,
        duplicates,
        duplicate_ids: duplicateIds,
        rejected: errors.length,
        results,
        errors,
      } satisfies IngestResponse);
    },
  });
}
