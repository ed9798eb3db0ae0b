import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnProcess, waitFor } from '@fuel-code/testing';

// A child Node process that loads the TypeScript sources (transpiled on the fly), starts a
// private Redis, reports its pid, then exits on its own or waits for a signal.
const child = `
const fs = require('fs');
const ts = require('typescript');
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText, file);
const { startRedisServer } = require(${JSON.stringify(join(__dirname, '../src/redis-server.ts'))});
startRedisServer().then((redis) => {
  console.log(JSON.stringify({ msg: 'started', pid: redis.pid(), dir: redis.dir }));
  if (process.argv[1] === 'exit') process.exit(0);
  setInterval(() => undefined, 1000);
});
`;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test.each(['exit', 'SIGTERM', 'SIGINT', 'SIGKILL'] as const)('no redis-server outlives its test process (%s)', async (end) => {
  const proc = spawnProcess(process.execPath, ['-e', child, end], { cwd: join(__dirname, '..') });
  const started = await proc.waitForLine('started', 20_000);
  const pid = Number(started['pid']);
  const dir = String(started['dir']);
  expect(isRunning(pid)).toBe(true);
  if (end !== 'exit') await proc.kill(end);
  const exit = await proc.exited;
  expect(exit).toEqual(end === 'exit' ? { code: 0, signal: null } : { code: null, signal: end });
  await waitFor(() => !isRunning(pid), 5000, { description: `redis-server ${pid} to be gone` });
  // Its data dir goes too, except after SIGKILL (no code runs then; the kernel kills redis).
  if (end !== 'SIGKILL') expect(existsSync(dir)).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});
