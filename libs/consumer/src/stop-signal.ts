/** Raised inside the loop when stop() was called while it waited on something. */
export class StoppedError extends Error {
  constructor() {
    super('consumer is stopping');
    this.name = 'StoppedError';
  }
}

export interface StopSignal {
  readonly stopped: boolean;
  /** Resolves when stop is requested. */
  readonly promise: Promise<void>;
  trigger(): void;
}

export function createStopSignal(): StopSignal {
  let stopped = false;
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    get stopped() {
      return stopped;
    },
    promise,
    trigger() {
      stopped = true;
      resolve();
    },
  };
}

/** Wait `ms`, or less if stop is requested meanwhile. */
export function sleepUnlessStopped(ms: number, signal: StopSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void signal.promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
