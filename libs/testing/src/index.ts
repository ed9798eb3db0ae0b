export { createEmptyDatabase, createTestDatabase, type TestDatabase } from './databases';
export { captureLogs, type LogCapture, type LogLine } from './log-capture';
export { createTestRedis, deleteKeys, uniqueStreamKeys, type TestStreamKeys } from './redis';
export { ensureTestServices } from './services';
export { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, testDatabaseUrl, testRedisUrl, withDatabase } from './urls';
export { waitFor, type WaitForOptions } from './wait-for';
export * from './fixtures';
