export { entriesOfReadReply, eventField, toStreamEntry, type StreamEntry } from './entries';
export {
  acknowledge,
  claimPendingEntries,
  compareIds,
  deliveryCounts,
  ensureConsumerGroup,
  pendingCount,
  publish,
  publishMany,
  readFromStream,
  readOwnPending,
  touchPending,
  type ConsumerRef,
  type GroupRef,
  type PublishOutcome,
  type ReadOptions,
} from './stream';
export { deadLetter, type DeadLetter, type DeadLetterReason } from './dead-letter';
