import { untilAborted, WaitAbortedError, within } from '@fuel-code/runtime';

test('untilAborted: the work settles first, its outcome passes through', async () => {
  await expect(untilAborted(Promise.resolve(3), AbortSignal.timeout(1_000))).resolves.toBe(3);
  await expect(untilAborted(Promise.reject(new Error('no')), AbortSignal.timeout(1_000))).rejects.toThrow('no');
});

test('untilAborted: the signal fires first, or had already fired', async () => {
  const never = new Promise<never>(() => undefined);
  const controller = new AbortController();
  const waiting = untilAborted(never, controller.signal);
  controller.abort(new Error('stop'));
  await expect(waiting).rejects.toBeInstanceOf(WaitAbortedError);
  await expect(untilAborted(never, controller.signal)).rejects.toThrow('stop');
});

test('within: rejects naming the time; the work goes on, its own outcome unchanged', async () => {
  const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 50));
  await expect(within(late, 10)).rejects.toThrow('no answer within 10 ms');
  await expect(late).rejects.toThrow('late');
});
