/**
 * canonical workspace name → server-made id, as this process saw them committed. A name's
 * id never changes once its row exists, so a hit saves a query on every batch. Only ids
 * from committed transactions go in (a rolled-back insert would leave a dangling id), and
 * any failed batch clears it, in case an operator deleted a workspace row underneath.
 */
export class WorkspaceIdCache {
  private readonly ids = new Map<string, string>();

  constructor(private readonly limit = 10_000) {}

  get known(): ReadonlyMap<string, string> {
    return this.ids;
  }

  remember(ids: ReadonlyMap<string, string>): void {
    // Bounded the simple way: workspaces are few; a process that saw more starts over.
    if (this.ids.size + ids.size > this.limit) this.ids.clear();
    for (const [name, id] of ids) this.ids.set(name, id);
  }

  clear(): void {
    this.ids.clear();
  }
}
