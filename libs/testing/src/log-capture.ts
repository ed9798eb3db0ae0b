import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { waitFor } from './wait-for';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface LogCapture {
  logger: Logger;
  lines: LogLine[];
  /** Lines whose message matches. */
  find(match: string | RegExp): LogLine[];
  /** Resolves with the first line that matches, polling until `timeoutMs`. */
  waitForLine(match: string | RegExp, timeoutMs?: number): Promise<LogLine>;
  /** All captured output as text, e.g. to assert a secret never appears. */
  text(): string;
}

function matches(line: LogLine, match: string | RegExp): boolean {
  return typeof match === 'string' ? line.msg.includes(match) : match.test(line.msg);
}

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export function captureLogs(level: pino.LevelWithSilent = 'debug'): LogCapture {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const text = chunk.toString();
      for (const part of text.split('\n')) {
        if (!part) continue;
        raw.push(part);
        lines.push(JSON.parse(part) as LogLine);
      }
      done();
    },
  });
  const logger = pino({ level }, sink);
  const find = (match: string | RegExp) => lines.filter((l) => matches(l, match));
  return {
    logger,
    lines,
    find,
    waitForLine: (match, timeoutMs = 10_000) =>
      waitFor(() => find(match)[0], timeoutMs, { description: `a log line matching ${String(match)}` }),
    text: () => raw.join('\n'),
  };
}
