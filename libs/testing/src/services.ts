import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import postgres from 'postgres';
import { testDatabaseUrl, testRedisUrl } from './urls';

async function postgresAnswers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => undefined });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => undefined);
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function dockerAvailable(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Make sure Postgres and Redis answer before any test runs. A missing one is started with
 * testcontainers when a Docker engine is reachable (its URL is exported to the test
 * workers); otherwise this fails with what to start.
 */
export async function ensureTestServices(): Promise<void> {
  const pgUrl = testDatabaseUrl();
  const redisUrl = testRedisUrl();
  const [pgUp, redisUp] = await Promise.all([postgresAnswers(pgUrl), redisAnswers(redisUrl)]);
  if (pgUp && redisUp) return;

  if (!(await dockerAvailable())) {
    const missing = [
      pgUp ? null : `PostgreSQL at ${pgUrl} (set DATABASE_URL, or start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)`,
      redisUp ? null : `Redis at ${redisUrl} (set REDIS_URL, or start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no)`,
    ].filter(Boolean);
    throw new Error(`Tests need these services and no Docker engine is available to start them:\n- ${missing.join('\n- ')}`);
  }
  // Loaded only here: most machines never need the Docker client stack.
  if (!pgUp) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const pg = await new PostgreSqlContainer('postgres:15-alpine').withUsername('postgres').withPassword('postgres').start();
    process.env['DATABASE_URL'] = pg.getConnectionUri();
  }
  if (!redisUp) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const redis = await new RedisContainer('redis:7-alpine').start();
    process.env['REDIS_URL'] = redis.getConnectionUrl();
  }
}
