/** What the API needs from the process that runs it. The app builds nothing of this itself. */
import type { FlowProducer, Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import type { Logger } from '../core/log.js';
import type { Store } from '../core/store/store.js';
import type { ApiMetrics } from './metrics.js';

/** A source's schedule and its next run, as the scheduler knows it. */
export interface SourceSchedule {
  sourceId: string;
  every: string | null;
  cron: string | null;
  timezone: string | null;
  /** ISO 8601, or null when no run is to come (workers/schedules.ts `ScheduleView`). */
  nextRun: string | null;
}

/** The dependencies of `createApp`; the caller owns them and closes them. */
export interface AppDeps {
  config: Config;
  store: Store;
  /** The scan queue: job counts for metrics and readiness, and Bull Board. */
  queue: Queue;
  /** The Redis connection /readyz pings; without it readiness asks the queue for a job count. */
  redis?: { ping(): Promise<unknown> };
  /** Where `POST /scans` adds a scan's flow. */
  flows: FlowProducer;
  logger: Logger;
  /** Metrics; `createApp` makes its own when absent. */
  metrics?: ApiMetrics;
  /**
   * The schedules of the configured sources (workers/schedules.ts `listSchedules` in the CLI); the
   * sources routes show no next run without it.
   */
  schedules?: () => Promise<SourceSchedule[]>;
  /** The clock; tests pin it. */
  now?: () => Date;
}
