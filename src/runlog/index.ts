/**
 * Helm's run log: every action attempted or executed, one HMAC-chained markdown line per state change.
 */
export {
  DEFAULT_ROTATE_BYTES,
  DEFAULT_RUN_LOG_FILE,
  openRunLog,
  type RunLog,
  type RunLogLogger,
  type RunLogOptions,
  type RunLogStatus,
} from './appender.js';
export type { HeadRecord } from './chain.js';
export {
  EVENT_PATTERN,
  FIELD_MAX_CODE_POINTS,
  MESSAGE_MAX_CODE_POINTS,
  type RunLogEntry,
  type RunLogEntryInput,
} from './entry.js';
export { RunLogIntegrityError, RunLogLockedError, RunLogUnavailableError } from './errors.js';
export { formatEntryLine, parseEntryLine } from './line-format.js';
export { type MergedRunLogEntry, type MergedRunLogs, mergeRunLogs } from './merge.js';
export { formatEntryForPeople } from './render.js';
export {
  LIVE_FILE_PATTERN,
  listRunLogChains,
  type RotatedSegment,
  type RunLogChainFiles,
  readSegmentText,
  rotatedFileName,
} from './rotation.js';
export {
  type RunLogChainProblem,
  type RunLogChainVerification,
  verifyRunLogChain,
  verifyRunLogChains,
} from './verify-chain.js';
export { type RunLogProblem, type RunLogVerification, type VerifyOptions, verifyRunLog } from './verify.js';
export { type RunLogFileVerification, verifyRunLogFile } from './verify-file.js';
