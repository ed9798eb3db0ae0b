/** A migration could not be loaded or applied. Stable code: MIGRATION_FAILED. */
export class MigrationError extends Error {
  readonly code = 'MIGRATION_FAILED' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}
