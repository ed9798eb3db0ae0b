import type { Logger } from 'pino';
import { migrate } from '@fuel-code/db';
import { createSql } from '../clients';
import type { WorkerConfig } from '../config';

/** `migrate`: apply pending migrations and exit. */
export async function runMigrate(config: WorkerConfig, logger: Logger): Promise<void> {
  const sql = createSql(config);
  try {
    const report = await migrate({ sql, logger });
    process.stdout.write(
      `${report.applied.length} migration(s) applied${report.applied.length ? `: ${report.applied.join(', ')}` : ''}; ` +
        `${report.skipped.length} already applied\n`,
    );
  } finally {
    await sql.end({ timeout: 2 });
  }
}

