#!/usr/bin/env node
import { parseArgs, USAGE, UsageError, type ChaosOptions } from './args';
import { Fleet } from './fleet';
import { printChecks, printReport } from './report';
import { runChaosMode } from './run-chaos';
import { runSoak } from './soak';
import type { Check } from './verify';

/**
 * npm run chaos [-- --short | --minutes N]: see args.ts for the options. Always cleans up:
 * children are killed, the private redis-server stopped and the database dropped, also on a
 * failure or Ctrl-C. Exit code 0 iff every check passed.
 */

const startedAt = Date.now();
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s`;
const log = (msg: string) => process.stdout.write(`[chaos ${elapsed()}] ${msg}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  let options: ChaosOptions | 'help';
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chaos: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    out(USAGE);
    return 0;
  }
  const o = options;
  log(`seed ${o.seed} (rerun with --seed ${o.seed}); ${o.mode === 'soak' ? `soak ${o.minutes} min at ${o.rate}/s` : `${o.short ? '--short' : 'full'} run, ${o.events} events over ${o.publishSeconds} s`}`);
  const fleet = new Fleet({ log, httpPorts: true, workerArgs: ['--stats-interval-ms', '5000'] });

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up (children, redis-server, database)`);
    void fleet.stop(o.keep).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let checks: Check[] = [];
  try {
    if (o.mode === 'soak') {
      checks = await runSoak(o, fleet, log, out);
    } else {
      const result = await runChaosMode(o, fleet, log);
      checks = result.checks;
      printReport(result, out);
    }
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`the run failed: ${message}`);
    checks.push({ name: 'the run completed', ok: false, detail: message.split('\n')[0] ?? '' });
  } finally {
    await fleet.stop(o.keep);
  }
  out(`total duration: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  printChecks(checks, out);
  return checks.length > 0 && checks.every((c) => c.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
