/**
 * Schedules per source through BullMQ job schedulers: the config is the truth, and `syncSchedules`
 * makes Redis match it (added, changed and removed sources). A scheduler keeps one pending job at a
 * time, so runs missed while every worker was down collapse into one catch-up run.
 */
import { isDeepStrictEqual } from 'node:util';
import type { JobSchedulerJson, JobsOptions, Queue } from 'bullmq';
import type { Config, SourceConfig } from '../config/load.js';
import { scanJobOptions } from '../core/queue/connection.js';
import type { ScheduledScanData } from '../core/queue/jobs.js';

const PREFIX = 'schedule-';
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m` -> 1 800 000 ms (the schema has already checked the form). */
export function everyToMs(every: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(every);
  if (!match) throw new Error(`not a duration: ${every}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** What a source's schedule looks like, as the API and `anpr-audit schedules` show it. */
export interface ScheduleView {
  sourceId: string;
  every: string | null;
  cron: string | null;
  timezone: string | null;
  /** The next run (ISO 8601), or null when the scheduler has none pending. */
  nextRun: string | null;
}

function repeatOf(
  source: SourceConfig,
  timezone: string,
): { every: number } | { pattern: string; tz: string } | null {
  if (!source.schedule) return null;
  if (source.schedule.every !== undefined) return { every: everyToMs(source.schedule.every) };
  return { pattern: source.schedule.cron!, tz: timezone };
}

type Repeat = NonNullable<ReturnType<typeof repeatOf>>;

/**
 * Whether the scheduler in Redis already runs `repeat` with our job: then it must be left alone.
 * Upserting even an unchanged cron scheduler makes BullMQ compute its next run from now, which
 * replaces a run that is overdue because every worker was down (the catch-up run) with the next
 * one to come.
 */
function sameRun(existing: JobSchedulerJson | undefined, repeat: Repeat, sourceId: string): boolean {
  if (!existing || existing.name !== 'scheduled-scan') return false;
  const timing =
    'every' in repeat
      ? existing.every === repeat.every && existing.pattern === undefined
      : existing.pattern === repeat.pattern && existing.tz === repeat.tz && existing.every === undefined;
  return timing && isDeepStrictEqual(existing.template?.data, { sourceId } satisfies ScheduledScanData);
}

/** Whether the scheduler's jobs already carry these options (retries, retention). */
function sameOptions(existing: JobSchedulerJson, jobOptions: JobsOptions): boolean {
  const opts = existing.template?.opts as Record<string, unknown> | undefined;
  return (
    opts !== undefined &&
    Object.entries(jobOptions).every(([name, value]) => isDeepStrictEqual(opts[name], value))
  );
}

/** The id BullMQ gives a scheduler's run due at `next` (ms). */
const pendingRunId = (schedulerId: string, next: number) => `repeat:${schedulerId}:${next}`;

/**
 * Whether the scheduler's next run is still a job in the queue. A scheduler whose job was removed
 * (a drained or cleaned queue) would never run again: it must be upserted, which adds one. BullMQ
 * names a scheduler's jobs `repeat:<scheduler id>:<run time in ms>`.
 */
async function hasPendingRun(queue: Queue, schedulerId: string, next: number | undefined): Promise<boolean> {
  return next !== undefined && (await queue.getJob(pendingRunId(schedulerId, next))) !== undefined;
}

/**
 * Removes a scheduler and its pending run. BullMQ's removeJobScheduler takes the run out of the
 * delayed set only: a run already due sits in `wait` (behind a busy queue, or the first run of an
 * `every` scheduler) and would still start a scan of a source no longer scheduled. A run a worker
 * has taken is locked and stays; it is the last.
 */
async function removeSchedule(queue: Queue, scheduler: JobSchedulerJson): Promise<void> {
  await queue.removeJobScheduler(scheduler.key);
  if (scheduler.next === undefined) return;
  const run = await queue.getJob(pendingRunId(scheduler.key, scheduler.next));
  // Only a run not yet taken: a finished one is history, and an active one is locked anyway.
  if (run && NOT_TAKEN.has(await run.getState())) await queue.remove(run.id!);
}

const NOT_TAKEN = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'paused']);

/**
 * Makes the queue's job schedulers match the config: adds and updates the schedulers of scheduled
 * sources and removes those of sources no longer scheduled. A scheduler that already matches is not
 * touched (unless its pending run is gone), so an overdue run survives a restart; one whose job
 * options alone changed is updated only once its pending run is not overdue. Returns the source ids
 * by what happened to them.
 */
export async function syncSchedules(
  queue: Queue,
  config: Config,
): Promise<{ upserted: string[]; unchanged: string[]; removed: string[] }> {
  const wanted = new Map<string, { repeat: Repeat; sourceId: string }>();
  for (const source of config.sources) {
    const repeat = repeatOf(source, config.contract.timezone);
    if (repeat) wanted.set(`${PREFIX}${source.id}`, { repeat, sourceId: source.id });
  }
  const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  const removed: string[] = [];
  for (const key of existing.keys()) {
    if (key.startsWith(PREFIX) && !wanted.has(key)) {
      await removeSchedule(queue, existing.get(key)!);
      removed.push(key.slice(PREFIX.length));
    }
  }
  const upserted: string[] = [];
  const kept: string[] = [];
  // A scheduled run's job options are every scan job's: retries as the config's `queue` says, kept for
  // days by age. Never a count limit: BullMQ applies one to the queue's whole completed or failed
  // set, so each finished run would trim the jobs of every scan, running ones included.
  const jobOptions = scanJobOptions(config.queue);
  for (const [id, { repeat, sourceId }] of wanted) {
    const current = existing.get(id);
    const pending = await hasPendingRun(queue, id, current?.next);
    const overdue = pending && current!.next! <= Date.now();
    // New job options (retries from `queue`, or those of an older version) wait while the pending
    // run is overdue: applying them now would drop the catch-up run. A later sync applies them.
    if (sameRun(current, repeat, sourceId) && pending && (overdue || sameOptions(current!, jobOptions))) {
      kept.push(sourceId);
      continue;
    }
    // A new timing replaces the pending run with the new one's next run, computed from now: an
    // overdue run (everything was down past it) would be lost, so the new cron runs once at once, then
    // on its own times (BullMQ keeps `immediately` out of the stored schedule). An `every` scheduler
    // runs its first job at once anyway.
    const timing = overdue && 'pattern' in repeat ? { ...repeat, immediately: true } : repeat;
    await queue.upsertJobScheduler(id, timing, {
      name: 'scheduled-scan',
      data: { sourceId } satisfies ScheduledScanData,
      opts: jobOptions,
    });
    upserted.push(sourceId);
  }
  return { upserted, unchanged: kept, removed };
}

/** Every source's schedule and next run, for the API and the CLI. */
export async function listSchedules(queue: Queue, config: Config): Promise<ScheduleView[]> {
  const schedulers = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  return config.sources.map((source) => {
    const scheduler = schedulers.get(`${PREFIX}${source.id}`);
    return {
      sourceId: source.id,
      every: source.schedule?.every ?? null,
      cron: source.schedule?.cron ?? null,
      timezone: source.schedule?.cron ? config.contract.timezone : null,
      nextRun: scheduler?.next ? new Date(scheduler.next).toISOString() : null,
    };
  });
}
