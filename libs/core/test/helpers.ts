import { parseEvent, type FuelEvent } from '@fuel-code/core';
import { createTestDatabase, type EnvelopeInput, type TestDatabase } from '@fuel-code/testing';

/** An envelope as the worker sees it after validation; a fixture that fails is a test bug. */
export function parsed(input: EnvelopeInput): FuelEvent {
  const result = parseEvent(input);
  if (!result.ok) throw result.error;
  return result.event;
}

/** One migrated database for the test file, dropped after it. Read `.db` inside tests. */
export function useTestDatabase(label: string): { db: TestDatabase } {
  const ctx = {} as { db: TestDatabase };
  beforeAll(async () => {
    ctx.db = await createTestDatabase(label);
  });
  afterAll(async () => {
    await ctx.db.drop();
  });
  return ctx;
}
