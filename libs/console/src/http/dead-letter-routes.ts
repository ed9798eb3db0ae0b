import type { FastifyInstance } from 'fastify';
import { getDeadLetters, purgeDeadLetterIds, replayDeadLetters, type ReplayOutcome } from '@fuel-code/stream';
import { z } from 'zod';
import { confirmPage, deadLetterDetailPage, deadLetterListPage } from '../html/dead-letter-pages';
import { plural } from '../html/html';
import { errorPage } from '../html/login-page';
import { eventTypeOf, matchingDeadLetterIds, readDeadLetterPage, type DeadLetterFilter } from '../read/dead-letters';
import { chrome, DEAD_LETTER_ID, field, formOf, seeOther, sendPage, sessionOf, type ConsoleContext, type FormBody } from './context';

const PAGE_SIZE = 50;
/** A filtered page or a "matching the filter" selection reads at most this many dead letters. */
const SCAN_LIMIT = 10_000;
/** At most this many ids picked by hand in one request (a page has 50). */
const MAX_PICKED_IDS = 1_000;

const ListQuery = z.object({
  reason: z.string().max(100).optional(),
  type: z.string().max(100).optional(),
  before: z.string().regex(DEAD_LETTER_ID).optional(),
});

function filterOf(q: { reason?: string | undefined; type?: string | undefined }): DeadLetterFilter {
  return { reason: q.reason?.trim() || undefined, type: q.type?.trim() || undefined };
}

/** The ids ticked in the form; undefined when one is not a stream id (a forged form). */
function pickedIds(form: FormBody): string[] | undefined {
  const ids = [...new Set(form['ids'] ?? [])];
  return ids.length <= MAX_PICKED_IDS && ids.every((id) => DEAD_LETTER_ID.test(id)) ? ids : undefined;
}

export function summarizeReplay(outcomes: readonly ReplayOutcome[]): string {
  const n = (status: ReplayOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  const failed = outcomes.find((o) => o.status === 'failed');
  return (
    `Replayed ${n('replayed')}, skipped ${n('skipped')} (no payload), not found ${n('not-found')}, failed ${n('failed')}.` +
    (failed && 'error' in failed ? ` Replay stopped at the first failure: ${failed.error}` : '')
  );
}

export function registerDeadLetterRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  registerDeadLetterPages(app, ctx);
  registerReplayOfPicked(app, ctx);
  registerConfirmedActions(app, ctx);
}

function replayIds(ctx: ConsoleContext, ids: readonly string[]): Promise<ReplayOutcome[]> {
  return replayDeadLetters(ctx.redis, { ids }, { stream: ctx.target.stream, deadLetterStream: ctx.target.deadLetterStream });
}

/** The list (filtered, paged) and one dead letter's detail: read only. */
function registerDeadLetterPages(app: FastifyInstance, ctx: ConsoleContext): void {
  const key = ctx.target.deadLetterStream;
  app.get('/dead-letters', async (request, reply) => {
    const parsed = ListQuery.safeParse(request.query);
    if (!parsed.success) return sendPage(reply, errorPage('Bad request', 'The filter or page cursor is not valid.'), 400);
    const filter = filterOf(parsed.data);
    const [total, page] = await Promise.all([
      ctx.redis.xlen(key),
      readDeadLetterPage(ctx.redis, key, { before: parsed.data.before, pageSize: PAGE_SIZE, filter, scanLimit: SCAN_LIMIT }),
    ]);
    return sendPage(reply, deadLetterListPage({ key, total, filter, page, before: parsed.data.before }, chrome(request, 'dead-letters')));
  });

  app.get<{ Params: { id: string } }>('/dead-letters/:id', async (request, reply) => {
    const id = request.params.id;
    const record = DEAD_LETTER_ID.test(id) ? (await getDeadLetters(ctx.redis, key, [id])).get(id) : undefined;
    if (!record) return sendPage(reply, errorPage('Not found', `No dead letter ${id} (replayed or purged already?).`), 404);
    return sendPage(reply, deadLetterDetailPage(record, eventTypeOf(record), chrome(request, 'dead-letters')));
  });
}

function registerReplayOfPicked(app: FastifyInstance, ctx: ConsoleContext): void {
  // Replay of ticked ids (or one from its detail page): safe to do at once, as the event id
  // is the dedup key and a dead letter is removed only after its publish succeeded.
  app.post('/dead-letters/replay', async (request, reply) => {
    const ids = pickedIds(formOf(request));
    if (!ids) return sendPage(reply, errorPage('Bad request', 'A dead-letter id in the form is not valid.'), 400);
    const session = sessionOf(request);
    if (ids.length === 0) {
      session.flash = 'Nothing selected.';
      return seeOther(reply, '/dead-letters');
    }
    const outcomes = await replayIds(ctx, ids);
    ctx.logger.info({ action: 'replay', ids: ids.length, replayed: outcomes.filter((o) => o.status === 'replayed').length }, 'Console replay');
    session.flash = summarizeReplay(outcomes);
    return seeOther(reply, '/dead-letters');
  });
}

/** Purge, or replay of all that matches a filter: select, confirm, then execute. */
function registerConfirmedActions(app: FastifyInstance, ctx: ConsoleContext): void {
  const key = ctx.target.deadLetterStream;
  // A purge, or a replay of everything matching a filter, first becomes a selection: the ids
  // are fixed here and shown for confirmation, and only they are acted on.
  app.post('/dead-letters/confirm', async (request, reply) => {
    const form = formOf(request);
    const action = field(form, 'action');
    if (action !== 'purge' && action !== 'replay') return sendPage(reply, errorPage('Bad request', 'Unknown action.'), 400);
    const session = sessionOf(request);
    let ids = form['ids'] !== undefined ? pickedIds(form) : undefined;
    let scanLimitReached = false;
    if (form['ids'] === undefined) {
      const matched = await matchingDeadLetterIds(ctx.redis, key, filterOf({ reason: field(form, 'reason'), type: field(form, 'type') }), SCAN_LIMIT);
      ids = matched.ids;
      scanLimitReached = matched.scanLimitReached;
    }
    if (!ids) return sendPage(reply, errorPage('Bad request', 'A dead-letter id in the form is not valid.'), 400);
    if (ids.length === 0) {
      session.flash = 'Nothing selected.';
      return seeOther(reply, '/dead-letters');
    }
    const selection = ctx.selections.create({ sessionId: session.id, action, ids, scanLimitReached });
    return seeOther(reply, `/dead-letters/confirm/${selection.token}`);
  });

  app.get<{ Params: { token: string } }>('/dead-letters/confirm/:token', async (request, reply) => {
    const selection = ctx.selections.peek(request.params.token, sessionOf(request).id);
    if (!selection) return sendPage(reply, errorPage('Expired', 'This confirmation has expired or was used. Select again.'), 404);
    return sendPage(
      reply,
      confirmPage({ action: selection.action, selection: selection.token, ids: selection.ids, scanLimitReached: selection.scanLimitReached }, chrome(request, 'dead-letters')),
    );
  });

  app.post('/dead-letters/execute', async (request, reply) => {
    const session = sessionOf(request);
    const selection = ctx.selections.take(field(formOf(request), 'selection') ?? '', session.id);
    if (!selection) return sendPage(reply, errorPage('Expired', 'This confirmation has expired or was used. Nothing was changed.'), 409);
    if (selection.action === 'purge') {
      const removed = await purgeDeadLetterIds(ctx.redis, key, selection.ids);
      ctx.logger.info({ action: 'purge', selected: selection.ids.length, removed }, 'Console purge');
      session.flash = `Purged ${plural(removed, 'dead letter')} of the ${selection.ids.length} confirmed.`;
    } else {
      const outcomes = await replayIds(ctx, selection.ids);
      ctx.logger.info({ action: 'replay', selected: selection.ids.length }, 'Console replay');
      session.flash = summarizeReplay(outcomes);
    }
    return seeOther(reply, '/dead-letters');
  });
}
