import { captureLogs } from '@fuel-code/testing';
import { LazyRequestLogger } from '../src/lazy-logger';

test("no pino child is made until a line is written; the line then carries the request's bindings and the parent's", () => {
  const logs = captureLogs('info');
  const parent = logs.logger.child({ component: 'http' });
  const child = jest.spyOn(parent, 'child');
  const log = new LazyRequestLogger(parent, { reqId: 'r-1' }, {});
  expect(log.level).toBe('info');
  // Below the level: dropped as pino would, without a child.
  log.debug('below the level');
  log.trace('below the level');
  expect(child).not.toHaveBeenCalled();
  log.info({ n: 1 }, 'first');
  log.warn('second %s', 'formatted');
  expect(child).toHaveBeenCalledTimes(1);
  expect(logs.lines.map((l) => [l['msg'], l['reqId'], l['component'], l['n']])).toEqual([
    ['first', 'r-1', 'http', 1],
    ['second formatted', 'r-1', 'http', undefined],
  ]);
});

test('reading the level makes no child; a level in the options is the level, and setting it makes the child', () => {
  const logs = captureLogs('info');
  const child = jest.spyOn(logs.logger, 'child');
  const log = new LazyRequestLogger(logs.logger, { reqId: 'r-2' }, { level: 'warn' });
  expect(log.level).toBe('warn');
  expect(child).not.toHaveBeenCalled();
  log.level = 'debug';
  expect(child).toHaveBeenCalledTimes(1);
  log.debug('now written');
  expect(logs.find('now written')[0]).toMatchObject({ reqId: 'r-2' });
});
