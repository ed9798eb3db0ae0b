import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** At info, one successful request in this many gets a "request completed" line. */
export const DEFAULT_ACCESS_LOG_SAMPLE_EVERY = 100;

/** Levels at which every request is logged. */
const VERBOSE_LEVELS = new Set(['debug', 'trace']);

/**
 * Fastify's per-request log lines, thinned out: at a few thousand requests a second its two
 * info lines per request ("incoming request", "request completed") were most of the API's
 * CPU. What is logged:
 *  - "incoming request": at debug only;
 *  - "request completed" with status ≥ 400, and "request errored": always (info and error, as
 *    fastify does): refusals and failures are what an operator looks for, and their rate is
 *    bounded by the rate limit and the clients' backoff;
 *  - "request completed" with a 2xx/3xx: at info one request in `sampleEvery` (the 1st, the
 *    (n+1)th, …; the line carries `sampledOneIn: n`), enough to see traffic and response times;
 *  - at LOG_LEVEL=debug (or trace), every request, both lines: the switch for full logging.
 * Fields are fastify's own (reqId, req, res.statusCode, responseTime).
 */
export class SampledAccessLog extends LogController {
  private successes = 0;

  constructor(private readonly sampleEvery: number) {
    super();
  }

  override incomingRequest(request: FastifyRequest): void {
    if (VERBOSE_LEVELS.has(request.log.level)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error || reply.statusCode >= 400) {
      super.requestCompleted(error, request, reply);
    } else if (VERBOSE_LEVELS.has(reply.log.level)) {
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    } else if (this.successes++ % Math.max(1, this.sampleEvery) === 0) {
      reply.log.info({ res: reply, responseTime: reply.elapsedTime, sampledOneIn: this.sampleEvery }, 'request completed');
    }
  }
}
