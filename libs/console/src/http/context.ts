import type { FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import { z } from 'zod';
import type { ConsoleSession, SessionStore } from '../auth';
import type { ConsoleConfig } from '../config';
import type { NavItem } from '../html/layout';
import type { StreamTarget } from '../read/stream-state';
import type { Sampler } from '../sampler';
import type { SelectionStore } from '../selections';
import { toError } from '@fuel-code/core';

/** What every route of the console shares. */
export interface ConsoleContext {
  redis: Redis;
  sql: Sql;
  logger: Logger;
  config: ConsoleConfig;
  target: StreamTarget;
  sessions: SessionStore;
  selections: SelectionStore;
  sampler: Sampler;
}

/** A parsed application/x-www-form-urlencoded body: each field's values in order. */
export type FormBody = Record<string, string[]>;

export function parseForm(text: string): FormBody {
  const form: FormBody = {};
  for (const [k, v] of new URLSearchParams(text)) (form[k] ??= []).push(v);
  return form;
}

const FormSchema = z.record(z.array(z.string()));

export function formOf(request: FastifyRequest): FormBody {
  const parsed = FormSchema.safeParse(request.body);
  return parsed.success ? parsed.data : {};
}

export function field(form: FormBody, name: string): string | undefined {
  return form[name]?.[0];
}

/** The session the auth hook attached; routes behind the hook always have one. */
const sessionsByRequest = new WeakMap<FastifyRequest, ConsoleSession>();

export function attachSession(request: FastifyRequest, session: ConsoleSession): void {
  sessionsByRequest.set(request, session);
}

export function sessionOf(request: FastifyRequest): ConsoleSession {
  const session = sessionsByRequest.get(request);
  if (!session) throw new Error('no console session on this request (the auth hook did not run)');
  return session;
}

/** The navigation bar, the CSRF token and the one-time flash message for a page. */
export function chrome(request: FastifyRequest, active: NavItem | undefined): { nav: { active: NavItem | undefined; csrfToken: string }; flash: string | undefined; csrfToken: string } {
  const session = sessionOf(request);
  const flash = session.flash;
  session.flash = undefined;
  return { nav: { active, csrfToken: session.csrfToken }, flash, csrfToken: session.csrfToken };
}

export function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

/** Post/redirect/get: an action answers with 303 to a page, so a reload never repeats it. */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send();
}

/** Run a read; on failure log it and give undefined, so one dependency down leaves the rest of a page. */
export async function settle<T>(logger: Logger, what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    logger.warn({ err: toError(err) }, `Console read failed: ${what}`);
    return undefined;
  }
}

export const DEAD_LETTER_ID = /^\d{1,20}-\d{1,20}$/;
