import type { FastifyInstance } from 'fastify';
import type Redis from 'ioredis';
import { toError } from '@fuel-code/core';
import { untilAborted, WaitAbortedError } from '@fuel-code/runtime';

export const HEALTH_PATH = '/api/health';
export const DEFAULT_HEALTH_TIMEOUT_MS = 1_000;

export interface HealthRouteOptions {
  redis: Redis;
  timeoutMs?: number;
}

export type HealthResponse = { status: 'ok' } | { status: 'unavailable'; error: string };

/** Resolves with PING's failure, or undefined when Redis answered PONG within `timeoutMs`. */
async function pingFailure(redis: Redis, timeoutMs: number): Promise<string | undefined> {
  try {
    const reply = await untilAborted(redis.ping(), AbortSignal.timeout(timeoutMs));
    return reply === 'PONG' ? undefined : `unexpected PING reply ${JSON.stringify(reply)}`;
  } catch (err) {
    if (err instanceof WaitAbortedError) return `redis did not answer PING within ${timeoutMs} ms`;
    return `redis PING failed: ${toError(err).message}`;
  }
}

export function registerHealthRoute(app: FastifyInstance, options: HealthRouteOptions): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  app.get(HEALTH_PATH, async (request, reply) => {
    const failure = await pingFailure(options.redis, timeoutMs);
    if (failure === undefined) return reply.code(200).send({ status: 'ok' } satisfies HealthResponse);
    request.log.warn({ error: failure }, 'Health check failed');
    return reply.code(503).send({ status: 'unavailable', error: 'redis is not answering' } satisfies HealthResponse);
  });
}
