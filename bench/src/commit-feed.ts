import type { Sql } from 'postgres';

/*
 * How the latency scenario learns when rows become visible: a statement trigger, created in
 * the scenario's own database only (never by a migration), NOTIFYs a summary of each insert
 * into events. PostgreSQL delivers a NOTIFY when its transaction commits, so the listener hears
 * of the rows the moment a reader could see them, without polling. A poller adds its own
 * interval and query to every figure and loads the cores the worker runs on
 * (docs/performance.md, "Latency, stage by stage").
 */

const CHANNEL = 'fc_bench_rows';

/** Rows of one insert that were published in one tick: they share published_at_ms and ingested_at. */
export interface CommittedGroup {
  publishedAtMs: number;
  /** events.ingested_at: now() of the consumer's transaction. */
  ingestedAtMs: number;
  count: number;
}

/** Create the trigger. The payload groups rows by publish tick, so it stays small for any batch. */
export async function installCommitNotify(sql: Sql): Promise<void> {
  await sql.unsafe(`
    CREATE FUNCTION fc_bench_notify_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE payload text;
    BEGIN
      SELECT json_agg(json_build_array(p, i, n))::text INTO payload FROM (
        SELECT (data->>'published_at_ms')::bigint AS p,
               floor(extract(epoch FROM ingested_at) * 1000000)::bigint AS i,
               count(*) AS n
        FROM new_rows GROUP BY 1, 2) g;
      IF payload IS NOT NULL THEN PERFORM pg_notify('${CHANNEL}', payload); END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER fc_bench_notify_rows AFTER INSERT ON events
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fc_bench_notify_rows();
  `);
}

function parsePayload(payload: string): CommittedGroup[] {
  const parsed: unknown = JSON.parse(payload);
  if (!Array.isArray(parsed)) throw new Error(`commit notification is not an array: ${payload.slice(0, 80)}`);
  return parsed.map((g: unknown) => {
    if (!Array.isArray(g) || g.length !== 3 || !g.every((v) => typeof v === 'number')) {
      throw new Error(`commit notification has a malformed group: ${JSON.stringify(g)}`);
    }
    const [publishedAtMs, ingestedAtUs, count] = g as [number, number, number];
    return { publishedAtMs, ingestedAtMs: ingestedAtUs / 1000, count };
  });
}

/**
 * Call `onCommit` with Date.now() at delivery for every committed insert into events. `sql`
 * gets a connection of its own for LISTEN. Resolves once listening; returns the unlisten.
 */
export async function listenForCommits(
  sql: Sql,
  onCommit: (receivedAtMs: number, groups: CommittedGroup[]) => void,
  onError: (err: unknown) => void,
): Promise<() => Promise<void>> {
  const listening = await sql.listen(CHANNEL, (payload) => {
    const receivedAtMs = Date.now();
    try {
      onCommit(receivedAtMs, parsePayload(payload));
    } catch (err) {
      onError(err);
    }
  });
  return () => listening.unlisten();
}
