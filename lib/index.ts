/**
 * Concordia: a transactional job queue for the ORMs you already use.
 *
 * @module concordia
 */
export { createJobs, Jobs, type CreateJobsOptions, type EnqueueHook, type EnqueueOutcome, type PendingJob } from './client.ts';
export { DEFAULT_UNIQUE_STATES, type UniqueOptions, type UniqueEnqueueOptions, type UniqueEnqueueResult } from './unique.ts';
export { periodic, parseSchedule, slotKey, PeriodicScheduler, InvalidScheduleError, type PeriodicEnqueuer, type PeriodicJob, type PeriodicOptions, type Schedule, type ScheduleSpec } from './cron/index.ts';
export { Worker, type WorkOptions, type WorkerEvents, type JobInfo, type DiscardReason, type RetentionOptions } from './worker/worker.ts';
export {
  defineJob,
  type JobDefinition,
  type AnyJobDefinition,
  type AnyJobRequest,
  type JsonArgsCheck,
  type JobConfig,
  type JobDefaults,
  type JobContext,
  type TransactionalJobContext,
  type JobHandler,
  type JobRequest,
  type EnqueueOptions,
  type JsonCompatible,
} from './job-definition.ts';
export { type JobMiddleware, type JobExecution } from './middleware.ts';
export { exponentialBackoff, defaultRetryPolicy, type RetryPolicy, type ExponentialBackoffOptions } from './retry-policy.ts';
export { systemClock, FakeClock, type Clock, type TimerHandle } from './clock.ts';
export { type Logger, silentLogger } from './logger.ts';
export { TypedEmitter } from './events.ts';
export type { JsonObject, JsonValue } from './validation.ts';
export type { JobState, JobErrorEntry } from './job.ts';
// For adapter and backend authors (not semver-stable before 1.0): the backend contract, and what its operations carry.
export type {
  Backend,
  BackendCapabilities,
  BackendOptions,
  DispatcherAccess,
  ClaimParams,
  FailParams,
  PruneParams,
  ListJobsFilter,
  ListedJob,
  JobCount,
  RetryResult,
} from './backend/backend.ts';
export type { ClaimedJob, Fence, InsertRow, UniqueInsertRow, UniqueInsertResult } from './job.ts';
export type {
  JobPage,
  MatchCount,
  JobDetail,
  OverviewCount,
  ThroughputBucket,
  RunningJob,
  SearchJobsParams,
  JobFilter,
  OverviewOptions,
  ThroughputParams,
  JobAction,
  JobTarget,
  JsonPathMatch,
  JobSummary,
  JsonScalar,
} from './backend/inspection.ts';
export {
  type Adapter,
  type SqlAdapter,
  type Executor,
  type DialectName,
  type SqlParam,
  type SqlRow,
  type TransactionOptions,
  type Listener,
  type PlaceholderStyle,
  type RawExecutor,
  defineExecutor,
  toDollarPlaceholders,
  toCount,
} from './sql/executor.ts';
export * from './errors.ts';
