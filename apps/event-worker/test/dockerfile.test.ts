import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createTestDatabase,
  freePort,
  spawnProcess,
  testRedisUrl,
  uniqueStreamKeys,
  type TestDatabase,
} from '@fuel-code/testing';
import { parseDockerfile, runDockerfile, type ParsedDockerfile, type StageResult } from './dockerfile-runner';

/**
 * There is no Docker engine here, so each Dockerfile's own steps are replayed outside Docker
 * (prune into a temp dir, install, build, production install with the postgres.js patch,
 * assemble the image's /app), then the image's CMD and HEALTHCHECK are run from its WORKDIR
 * against the real services. A wrong path, a file missing from the pruned tree or an
 * unapplied patch fails here rather than in a registry build. (Dockerfile.api is checked
 * here too: compose runs both images.)
 */
const REPO = path.resolve(__dirname, '../../..');
const rootPackage = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const TURBO = rootPackage.devDependencies['turbo'];
const PATCH_PACKAGE = rootPackage.devDependencies['patch-package'];

jest.setTimeout(180_000);

interface ImageSpec {
  dockerfile: string;
  pkg: string;
  dir: string;
  cmd: string[];
  port: { env: string; value: string };
  healthPath: string;
  /** The package's runtime workspaces (compiled dist expected in the image). */
  libs: string[];
}

const IMAGES: ImageSpec[] = [
  {
    dockerfile: 'Dockerfile.worker',
    pkg: '@fuel-code/event-worker',
    dir: 'apps/event-worker',
    cmd: ['node', 'dist/worker.js'],
    port: { env: 'WORKER_HTTP_PORT', value: '9464' },
    healthPath: '/healthz',
    libs: ['consumer', 'core', 'db', 'stream'],
  },
  {
    dockerfile: 'Dockerfile.api',
    pkg: '@fuel-code/api',
    dir: 'apps/api',
    cmd: ['node', 'dist/main.js'],
    port: { env: 'PORT', value: '3000' },
    healthPath: '/api/health',
    libs: ['core', 'stream'],
  },
];

/** Replay a Dockerfile into a fresh temp dir; resolves with the final stage (the image). */
async function replay(parsed: ParsedDockerfile, tmp: string): Promise<StageResult> {
  const stages = await runDockerfile(parsed, {
    context: REPO,
    tmp,
    env: {
      // Only npm's registry is used; what is in the local npm cache is not fetched again.
      npm_config_prefer_offline: 'true',
      npm_config_update_notifier: 'false',
      TURBO_TELEMETRY_DISABLED: '1',
      // The repo's own turbo stands in for the image's `npm install -g turbo@X` (same pin, checked).
      PATH: `${process.env['PATH'] ?? ''}${path.delimiter}${path.join(REPO, 'node_modules', '.bin')}`,
    },
    onGlobalInstall: (spec) => {
      if (spec !== `turbo@${TURBO}`) throw new Error(`the Dockerfile installs ${spec}; the repo pins turbo@${TURBO}`);
    },
  });
  const image = stages[stages.length - 1];
  if (!image) throw new Error('no stages');
  return image;
}

describe.each(IMAGES)('$dockerfile', (spec) => {
  const parsed = parseDockerfile(readFileSync(path.join(REPO, spec.dockerfile), 'utf8'));
  const runs = parsed.stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
  const finalOps = parsed.stages[parsed.stages.length - 1]?.instructions ?? [];
  const last = (op: string) => finalOps.filter((i) => i.op === op).at(-1)?.args;

  test('multi-stage on a small Node 20 base, pruned to its package, production dependencies only, pinned tools', () => {
    expect(parsed.stages.length).toBeGreaterThanOrEqual(3);
    for (const stage of parsed.stages) expect(stage.image).toMatch(/^node:20-(alpine|slim|bookworm-slim)/);
    const prunes = runs.filter((r) => r.startsWith('turbo prune'));
    expect(prunes).toHaveLength(1);
    expect(prunes[0]).toMatch(new RegExp(`^turbo prune ${spec.pkg} --docker\\b`));
    expect(runs.some((r) => /npm ci --omit=dev\b/.test(r))).toBe(true);
    expect(runs).toContain(`npm install -g turbo@${TURBO}`);
    expect(runs.join('\n')).toContain(`patch-package@${PATCH_PACKAGE}`);
  });

  test(`the final stage runs \`${spec.cmd.join(' ')}\` as a non-root user from ${spec.dir}, with a HEALTHCHECK on ${spec.healthPath}`, () => {
    expect(JSON.parse(last('CMD') ?? '[]')).toEqual(spec.cmd);
    expect(last('WORKDIR')).toBe(`/app/${spec.dir}`);
    expect(last('USER')).toBeDefined();
    expect(last('USER')).not.toMatch(/^(root|0)(:|$)/);
    expect(last('HEALTHCHECK')).toContain(spec.healthPath);
    expect(last('HEALTHCHECK')).toContain(`process.env.${spec.port.env}`);
    expect(last('EXPOSE')).toBe(spec.port.value);
  });

  describe('replayed outside Docker', () => {
    let tmp: string;
    let image: StageResult;
    const inImage = (p: string) => path.join(image.root, p);

    beforeAll(async () => {
      tmp = mkdtempSync(path.join(tmpdir(), 'fuel-code-dockerfile-'));
      image = await replay(parsed, tmp);
    }, 180_000);
    afterAll(() => {
      if (tmp && process.env['FUEL_CODE_KEEP_DOCKER_TMP'] !== '1') rmSync(tmp, { recursive: true, force: true });
    });

    test('the image holds the compiled app and libs, production dependencies only, with the postgres.js patch applied', () => {
      expect(image.workdir).toBe(`/app/${spec.dir}`);
      expect(existsSync(inImage(`${image.workdir}/${spec.cmd[1]}`))).toBe(true);
      for (const lib of spec.libs) expect(existsSync(inImage(`app/libs/${lib}/dist/index.js`))).toBe(true);
      if (spec.libs.includes('db')) expect(existsSync(inImage('app/libs/db/migrations'))).toBe(true);
      for (const dev of ['typescript', 'jest', 'turbo', 'eslint', 'patch-package', 'testcontainers', '@fuel-code/testing']) {
        expect([dev, existsSync(inImage(`app/node_modules/${dev}`))]).toEqual([dev, false]);
      }
      expect(existsSync(inImage(`app/${spec.dir}/src`))).toBe(false);
      if (existsSync(inImage('app/node_modules/postgres'))) {
        expect(readFileSync(inImage('app/node_modules/postgres/cjs/src/connection.js'), 'utf8')).toContain('fuel-code patch');
      }
    });

    test('CMD from the WORKDIR serves its health endpoint, and the HEALTHCHECK passes while it runs and fails after it stopped', async () => {
      const port = await freePort();
      const keys = uniqueStreamKeys('docker');
      let db: TestDatabase | undefined;
      const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', ...image.env, [spec.port.env]: String(port), REDIS_URL: testRedisUrl() };
      if (spec.pkg === '@fuel-code/event-worker') {
        db = await createTestDatabase('dockerfile');
        Object.assign(env, { DATABASE_URL: db.url, EVENTS_STREAM: keys.stream, CONSUMER_GROUP: keys.group, DEAD_LETTER_STREAM: keys.deadLetter });
        const help = spawnSync(spec.cmd[0] ?? '', [...spec.cmd.slice(1), '--help'], { cwd: inImage(image.workdir), env, encoding: 'utf8' });
        expect(help.status).toBe(0);
        expect(help.stdout).toMatch(/^Usage: worker/);
      } else {
        Object.assign(env, { API_KEY: 'docker-test-key', EVENTS_STREAM: keys.stream });
      }
      const [cmd = '', ...args] = image.cmd ?? [];
      const proc = spawnProcess(cmd, args, { cwd: inImage(image.workdir), env });
      const [hcCmd = '', ...hcArgs] = image.healthcheck?.cmd ?? [];
      const healthcheck = () => spawnSync(hcCmd, hcArgs, { cwd: inImage(image.workdir), env, encoding: 'utf8', timeout: 10_000 }).status;
      try {
        await proc.waitForLine(spec.pkg === '@fuel-code/event-worker' ? 'Event consumer started' : 'API listening', 30_000);
        expect(healthcheck()).toBe(0);
        expect((await proc.kill('SIGTERM')).code).toBe(0);
        expect(healthcheck()).toBe(1);
      } finally {
        await proc.kill('SIGKILL');
        await db?.drop();
      }
    });
  });
});
