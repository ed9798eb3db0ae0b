import { createSqlClient } from '@fuel-code/db';

const url = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

test('a session left idle inside a transaction is ended, releasing its locks', async () => {
  const frozen = createSqlClient({ url, max: 1, idleInTransactionTimeoutMs: 300, applicationName: 'fc-idle-test' });
  const observer = createSqlClient({ url, max: 1 });
  try {
    const reserved = await frozen.reserve();
    await reserved`BEGIN`;
    const [me] = await reserved<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    // Now this "process" does nothing more, as if it were stopped. Postgres ends the session.
    const deadline = Date.now() + 10_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      const rows = await observer`SELECT 1 FROM pg_stat_activity WHERE pid = ${me?.pid ?? 0}`;
      gone = rows.length === 0;
      if (!gone) await new Promise((r) => setTimeout(r, 50));
    }
    expect(gone).toBe(true);
    await expect(reserved`SELECT 1`).rejects.toThrow();
    reserved.release();
  } finally {
    await frozen.end({ timeout: 1 });
    await observer.end({ timeout: 1 });
  }
});

test("a client's sessions run with Postgres' JIT off unless asked for", async () => {
  const plain = createSqlClient({ url, max: 1 });
  const jitting = createSqlClient({ url, max: 1, jit: true });
  try {
    const [off] = await plain<{ jit: string }[]>`SELECT current_setting('jit') AS jit`;
    expect(off?.jit).toBe('off');
    const [on] = await jitting<{ jit: string }[]>`SELECT current_setting('jit') AS jit`;
    expect(on?.jit).toBe('on');
  } finally {
    await plain.end({ timeout: 1 });
    await jitting.end({ timeout: 1 });
  }
});
