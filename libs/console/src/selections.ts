import { randomBytes } from 'node:crypto';

/**
 * A set of dead-letter ids an operator was shown on a confirmation page. The action that
 * follows works on exactly these ids: a dead letter written after the page was shown, even
 * one matching the same filter, is never touched.
 */
export interface Selection {
  token: string;
  sessionId: string;
  action: 'replay' | 'purge';
  ids: readonly string[];
  scanLimitReached: boolean;
  expiresAt: number;
}

export class SelectionStore {
  private readonly selections = new Map<string, Selection>();

  constructor(
    private readonly ttlMs: number,
    private readonly max = 200,
    private readonly now: () => number = Date.now,
  ) {}

  create(s: Omit<Selection, 'token' | 'expiresAt'>): Selection {
    const now = this.now();
    for (const [token, old] of this.selections) if (old.expiresAt <= now) this.selections.delete(token);
    while (this.selections.size >= this.max) {
      const oldest = this.selections.keys().next().value;
      if (oldest === undefined) break;
      this.selections.delete(oldest);
    }
    const selection: Selection = { ...s, token: randomBytes(18).toString('base64url'), expiresAt: now + this.ttlMs };
    this.selections.set(selection.token, selection);
    return selection;
  }

  /** The selection, only for the session that made it and only once. */
  take(token: string, sessionId: string): Selection | undefined {
    const s = this.selections.get(token);
    if (!s || s.sessionId !== sessionId || s.expiresAt <= this.now()) return undefined;
    this.selections.delete(token);
    return s;
  }

  peek(token: string, sessionId: string): Selection | undefined {
    const s = this.selections.get(token);
    return s && s.sessionId === sessionId && s.expiresAt > this.now() ? s : undefined;
  }
}
