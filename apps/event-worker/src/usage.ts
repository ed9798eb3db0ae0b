import { ConfigError } from '@fuel-code/core';
import { integer, parseSource } from '@fuel-code/runtime';
import { parseWorkerConfig, type Env, type WorkerConfig, type WorkerFlags } from './config';

/** Exit code 2: the command line or environment is wrong. */
export class UsageExit extends Error {
  readonly code = 'USAGE_INVALID' as const;
  override name = 'UsageExit';
}

/** Exit code 1 after the command printed its own report (e.g. some dead letters could not be replayed). */
export class SilentFailure extends Error {
  readonly code = 'COMMAND_FAILED' as const;
  override name = 'SilentFailure';
}

export function configOrExit(flags: WorkerFlags, env: Env): WorkerConfig {
  try {
    return parseWorkerConfig(flags, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageExit(err.message);
    throw err;
  }
}

/** An integer option within bounds, or a UsageExit naming it. */
export function integerOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  try {
    return parseSource({ name, value: raw }, integer(min, max));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageExit(err.message);
    throw err;
  }
}
