import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { spawnProcess, testRedisUrl, type SpawnedProcess, type TestStreamKeys } from '@fuel-code/testing';
import { WORKER_JS } from './worker-process';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it when missing). */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Flags for a headless run on a CI machine as root, with nothing fetched from the network. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** Screenshots of each page, kept as test artifacts (gitignored), not committed. */
export const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts', 'console');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export interface ConsoleProcessOptions {
  keys: TestStreamKeys;
  databaseUrl: string;
  port: number;
  env?: Record<string, string>;
}

/** `node dist/worker.js console` as a real child process. */
export function spawnConsole(o: ConsoleProcessOptions): SpawnedProcess {
  return spawnProcess(process.execPath, [WORKER_JS, 'console'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: o.databaseUrl,
      EVENTS_STREAM: o.keys.stream,
      CONSUMER_GROUP: o.keys.group,
      DEAD_LETTER_STREAM: o.keys.deadLetter,
      CONSOLE_PORT: String(o.port),
      LOG_LEVEL: 'info',
      ...o.env,
    },
  });
}
