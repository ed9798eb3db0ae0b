import postgres from 'postgres';
import { ProcessingError, TransientError } from '@fuel-code/core';
import { captureLogs } from '@fuel-code/testing';
import { createOutageBreaker } from '../src/pipeline/outage-breaker';

/** What processBatch rejects with when Postgres refuses: the driver's error under a ProcessingError. */
function refused(code: string): ProcessingError {
  const cause = new postgres.PostgresError({ code, message: `refused with ${code}`, severity: 'ERROR' } as never);
  return new ProcessingError(cause.message, { cause });
}

function setup(distinctEvents = 3, windowMs = 10_000) {
  const logs = captureLogs('debug');
  let clock = 1_000_000;
  const breaker = createOutageBreaker({ distinctEvents, windowMs, logger: logs.logger, now: () => clock });
  return {
    logs,
    breaker,
    advance(ms: number) {
      clock += ms;
    },
  };
}

test('trips on the third distinct event failing with one SQLSTATE within the window; from then on that code is an outage', () => {
  const { breaker, logs } = setup();
  expect(breaker.eventFailed('e1', refused('XY001'))).toBeInstanceOf(ProcessingError);
  expect(breaker.eventFailed('e2', refused('XY001'))).toBeInstanceOf(ProcessingError);
  expect(logs.find('Outage breaker tripped')).toHaveLength(0);

  const third = breaker.eventFailed('e3', refused('XY001'));
  expect(third).toBeInstanceOf(TransientError);
  expect(third.message).toMatch(/SQLSTATE XY001/);
  expect(breaker.tripped()).toEqual(['XY001']);
  const [tripped] = logs.find('Outage breaker tripped');
  expect(tripped).toMatchObject({ level: 40, sqlstate: 'XY001', distinctEvents: 3, component: 'outage-breaker' });

  // The first two, retried now, are an outage too; so is a batch failing with that code.
  expect(breaker.eventFailed('e1', refused('XY001'))).toBeInstanceOf(TransientError);
  expect(breaker.batchFailed(refused('XY001'))).toBeInstanceOf(TransientError);
  // Another code is not.
  expect(breaker.eventFailed('e1', refused('XY002'))).toBeInstanceOf(ProcessingError);
  expect(breaker.batchFailed(refused('XY002'))).toBeInstanceOf(ProcessingError);
});

test('the same event failing again and again is one event, not several', () => {
  const { breaker } = setup();
  for (let i = 0; i < 10; i++) expect(breaker.eventFailed('e1', refused('XY001'))).toBeInstanceOf(ProcessingError);
  expect(breaker.eventFailed('e2', refused('XY001'))).toBeInstanceOf(ProcessingError);
  expect(breaker.tripped()).toEqual([]);
});

test('failures further apart than the window do not add up', () => {
  const { breaker, advance } = setup(3, 10_000);
  breaker.eventFailed('e1', refused('XY001'));
  advance(6000);
  breaker.eventFailed('e2', refused('XY001'));
  advance(6000); // e1 is now 12 s old
  expect(breaker.eventFailed('e3', refused('XY001'))).toBeInstanceOf(ProcessingError);
  expect(breaker.tripped()).toEqual([]);
});

test('resets once the window passes with no failure of that code, and says so', () => {
  const { breaker, logs, advance } = setup(3, 10_000);
  for (const id of ['e1', 'e2', 'e3']) breaker.eventFailed(id, refused('XY001'));
  advance(9000);
  // A failure while tripped keeps it tripped for another window.
  expect(breaker.eventFailed('e4', refused('XY001'))).toBeInstanceOf(TransientError);
  advance(9000);
  expect(breaker.tripped()).toEqual(['XY001']);
  expect(logs.find('Outage breaker reset')).toHaveLength(0);
  advance(1000);
  expect(breaker.tripped()).toEqual([]);
  const [reset] = logs.find('Outage breaker reset');
  expect(reset).toMatchObject({ level: 40, sqlstate: 'XY001', outageMs: 19_000 });

  // Counting starts over: one more failure is just a failure.
  expect(breaker.eventFailed('e5', refused('XY001'))).toBeInstanceOf(ProcessingError);
});

test('bad data (classes 22 and 23), errors without a SQLSTATE and known outages never count', () => {
  const { breaker } = setup(2);
  for (const id of ['e1', 'e2', 'e3']) {
    expect(breaker.eventFailed(id, refused('22P05'))).toBeInstanceOf(ProcessingError);
    expect(breaker.eventFailed(id, refused('23505'))).toBeInstanceOf(ProcessingError);
    expect(breaker.eventFailed(id, new Error('a handler bug'))).toBeInstanceOf(Error);
    const socket = Object.assign(new Error('connect ECONNREFUSED'), { code: 'EPIPE' });
    expect(breaker.eventFailed(id, new ProcessingError(socket.message, { cause: socket }))).toBeInstanceOf(ProcessingError);
  }
  const outage = new TransientError('postgres', 'down');
  expect(breaker.eventFailed('e1', outage)).toBe(outage);
  expect(breaker.tripped()).toEqual([]);
});

test('the threshold and window are configurable', () => {
  const { breaker } = setup(5, 1000);
  for (const id of ['e1', 'e2', 'e3', 'e4']) expect(breaker.eventFailed(id, refused('XY001'))).toBeInstanceOf(ProcessingError);
  expect(breaker.eventFailed('e5', refused('XY001'))).toBeInstanceOf(TransientError);
});
