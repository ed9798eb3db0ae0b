/** What the console needs to know, parsed by the app (flag > env > default) and frozen. */
export interface ConsoleConfig {
  /** Interface to listen on; loopback unless told otherwise. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The login token; may be absent only on a loopback host (tokenMissingForHost). */
  token: string | undefined;
  stream: string;
  group: string;
  deadLetterStream: string;
  /** Consumer name → its worker's base HTTP URL, for the /healthz verdict on the consumers page. */
  workerUrls: ReadonlyMap<string, string>;
  /** Mark the session cookie Secure: set when the console is reached over HTTPS (a TLS proxy). */
  secureCookie: boolean;
  sessionTtlMs: number;
  /** How often the status sampler reads lag, pending and the database's state. */
  sampleIntervalMs: number;
  /** A consumer idle longer than this (no read, no claim) is shown as dead. */
  deadConsumerIdleMs: number;
}

export const CONSOLE_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 9465,
  sessionTtlMs: 12 * 60 * 60 * 1000,
  sampleIntervalMs: 15_000,
  // A live worker reads (XREADGROUP BLOCK) every few seconds and touches what it holds, so
  // two minutes without a read or a claim means the process is gone or hung.
  deadConsumerIdleMs: 120_000,
});
