import { spawnProcess } from '@fuel-code/testing';

const script = `
const log = (msg, extra = {}) => console.log(JSON.stringify({ level: 30, time: Date.now(), msg, ...extra }));
log('Event consumer started', { registeredHandlers: ['session.start', 'git.commit'] });
console.log('plain text, not JSON');
console.error('a warning on stderr');
process.stdout.write(JSON.stringify({ level: 30, msg: 'no trailing newline' }));
process.exitCode = Number(process.argv[1] ?? 0);
`;

test('captures JSON lines (and raw ones), stderr and the exit code', async () => {
  const proc = spawnProcess(process.execPath, ['-e', script, '3'], { env: { ...process.env, EXTRA: 'x' } });
  await expect(proc.waitForLine('consumer started', 5000)).resolves.toMatchObject({
    level: 30,
    registeredHandlers: ['session.start', 'git.commit'],
  });
  await expect(proc.exited).resolves.toEqual({ code: 3, signal: null });
  expect(proc.lines.map((l) => l.msg)).toEqual(['Event consumer started', 'plain text, not JSON', 'no trailing newline']);
  expect(proc.lines[1]).toEqual({ msg: 'plain text, not JSON' });
  expect(proc.stderr).toBe('a warning on stderr\n');
  // A line seen already resolves at once; a RegExp matches too.
  await expect(proc.waitForLine(/^no trailing/)).resolves.toMatchObject({ level: 30 });
});

test('waitForLine rejects when the process exits without the line, or on timeout', async () => {
  const quick = spawnProcess(process.execPath, ['-e', 'console.log(JSON.stringify({ msg: "bye" }))']);
  await expect(quick.waitForLine('never said', 10_000)).rejects.toThrow(/before the process exited \(code 0/);

  const daemon = spawnProcess(process.execPath, ['-e', 'console.log("{\\"msg\\":\\"up\\"}"); setInterval(() => {}, 1000)']);
  await daemon.waitForLine('up');
  await expect(daemon.waitForLine('never said', 50)).rejects.toThrow(/within 50 ms/);
  await expect(daemon.kill('SIGTERM')).resolves.toEqual({ code: null, signal: 'SIGTERM' });
  await expect(daemon.kill()).resolves.toEqual({ code: null, signal: 'SIGTERM' });
});

test('passes cwd and env to the child', async () => {
  const proc = spawnProcess(
    process.execPath,
    ['-e', 'console.log(JSON.stringify({ msg: "where", cwd: process.cwd(), v: process.env.ONLY_VAR ?? null }))'],
    { cwd: '/tmp', env: { ONLY_VAR: 'yes', PATH: process.env['PATH'] ?? '' } },
  );
  await expect(proc.waitForLine('where')).resolves.toEqual({ msg: 'where', cwd: '/tmp', v: 'yes' });
  await expect(proc.exited).resolves.toEqual({ code: 0, signal: null });
});

test('a command that cannot start rejects exited and waitForLine', async () => {
  const proc = spawnProcess('/nonexistent/fuel-code-daemon', []);
  await expect(proc.exited).rejects.toThrow(/ENOENT/);
  await expect(proc.waitForLine('anything')).rejects.toThrow(/failed to start/);
});
