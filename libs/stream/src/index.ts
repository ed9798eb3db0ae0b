export { deadLetterBody, entriesOfReadReply, entryBody, eventField, toStreamEntry, type EntryBody, type StreamEntry } from './entries';
export {
  acknowledge,
  claimPendingEntries,
  compareIds,
  deliveryCounts,
  ensureConsumerGroup,
  isNoGroupError,
  pendingCount,
  publish,
  publishMany,
  readFromStream,
  readOwnPending,
  recreateGroupIfLost,
  touchPending,
  type ConsumerRef,
  type GroupRef,
  type PublishOutcome,
  type ReadOptions,
} from './stream';
export { deadLetterAndAck, type DeadLetter, type DeadLetterReason, type DeadLetterTarget } from './dead-letter';
export {
  consumerInfos,
  groupInfos,
  isNoSuchKey,
  parseGroupInfos,
  parsePendingSummary,
  pendingSummary,
  streamStatus,
  type ConsumerInfo,
  type GroupInfo,
  type GroupStatus,
  type PendingSummary,
  type StreamStatus,
} from './info';
export { nextStreamId, readGroupPositions, safeTrimMinId, trimStream, type GroupPosition, type TrimResult } from './retention';
export {
  getDeadLetters,
  listDeadLetters,
  purgeDeadLetterIds,
  purgeDeadLetters,
  replayDeadLetters,
  toDeadLetterRecord,
  type DeadLetterRecord,
  type ReplayOptions,
  type ReplayOutcome,
  type ReplaySelection,
} from './dead-letter-admin';
export { BacklogReadTimeoutError, createBacklogGauge, readBacklog, type Backlog, type BacklogGauge, type BacklogGaugeOptions, type BacklogTarget } from './backlog';
export {
  closeRedisConnection,
  createRedisConnection,
  DEFAULT_DROP_AFTER_TIMEOUTS,
  guardAgainstSilence,
  REDIS_ROLES,
  unansweredSince,
  waitUntilReady,
  type RedisConnectionOptions,
  type RedisRole,
  type SilenceGuardOptions,
} from './redis-connection';
export {
  claimIdleBounded,
  entryBytes,
  oversizedEntryError,
  readNewBounded,
  readOwnPendingBounded,
  type BoundedRead,
  type BoundedReadOptions,
  type BoundedReadTarget,
  type ByteLimits,
  type OversizedEntry,
} from './bounded-read';
export { HAND_BACK_IDLE_MS, handBackPending, refreshConsumer, removeIdleConsumers, type RemovedConsumer, type RemoveIdleConsumersResult } from './group-admin';
export { createBatchedPublisher, MAX_BYTES_PER_CALL, MAX_ENTRIES_PER_CALL, type BatchedPublisher, type BatchOutcome } from './batched-publish';
