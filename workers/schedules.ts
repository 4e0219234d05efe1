/**
 * Schedules per source through BullMQ job schedulers: the config is the truth, and `syncSchedules`
 * makes Redis match it (added, changed and removed sources). A scheduler keeps one pending job at a
 * time, so runs missed while every worker was down collapse into one catch-up run.
 */
import { isDeepStrictEqual } from 'node:util';
import { getNextMillis, type JobSchedulerJson, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config, SourceConfig } from '../config/load.js';
import pRetry from 'p-retry';
import { scanJobOptions } from '../core/queue/connection.js';
import { withRedisLock } from '../core/queue/redis-lock.js';
import { everyToMs } from '../core/time/every.js';
import type { ScheduledScanData } from '../core/queue/jobs.js';

const PREFIX = 'schedule-';

/** What a source's schedule looks like, as the API and `anpr-audit schedules` show it. */
export interface ScheduleView {
  sourceId: string;
  every: string | null;
  cron: string | null;
  timezone: string | null;
  /**
   * The next run (ISO 8601): the run the scheduler waits for, or the one a worker has just taken.
   * Null when none is to come: no scheduler, or one whose recorded run has finished or gone (the
   * next sync, or the repair `serve` and `anpr-audit worker` run every `queue.scheduleRepairSeconds`,
   * gives it its next run again).
   */
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

/** The states of a job no worker has taken yet. */
const NOT_TAKEN = new Set(['waiting', 'delayed', 'prioritized']);

/** The id BullMQ gives a scheduler's run due at `next` (ms). */
const pendingRunId = (schedulerId: string, next: number) => `repeat:${schedulerId}:${next}`;

/**
 * What became of the run a scheduler records as its next one: `waiting` for its time or a worker,
 * `taken` by a worker, `finished`, or `gone` from the queue. BullMQ adds the run after it when a
 * worker takes it, so a scheduler whose recorded run has finished or gone never runs again by
 * itself: a worker failed to add the next run (BullMQ retries through stall recovery, and a run
 * that keeps failing so ends failed), and the finished run may since have been removed (retention,
 * or a clean of finished jobs). BullMQ refuses to remove or drain a run a scheduler records while it
 * waits.
 */
type RecordedRun = 'waiting' | 'taken' | 'finished' | 'gone';

async function recordedRun(
  queue: Queue,
  schedulerId: string,
  next: number | undefined,
): Promise<RecordedRun> {
  if (next === undefined) return 'gone';
  const run = await queue.getJob(pendingRunId(schedulerId, next));
  if (!run) return 'gone';
  const state = await run.getState();
  if (NOT_TAKEN.has(state)) return 'waiting';
  if (state === 'active') return 'taken';
  return 'finished';
}

const isLive = (run: RecordedRun) => run === 'waiting' || run === 'taken';

/**
 * Whether a scheduler whose recorded run is no longer live has missed a run since: the run after the
 * recorded one, by the scheduler's own timing, was due before `now`. A gone run is taken for a
 * finished one removed since: BullMQ refuses to remove a run its scheduler records while it waits.
 */
function missedRun(scheduler: JobSchedulerJson, now: number): boolean {
  if (scheduler.next === undefined) return false;
  const after =
    scheduler.every !== undefined
      ? scheduler.next + scheduler.every
      : getNextMillis(scheduler.next, { pattern: scheduler.pattern, tz: scheduler.tz });
  return after !== undefined && after <= now;
}

/**
 * Removes a scheduler and its pending run. BullMQ's removeJobScheduler takes the run out of the
 * delayed set only: a run already due sits in `wait` (behind a busy queue, or the first run of an
 * `every` scheduler) and would still start a scan of a source no longer scheduled. A run a worker
 * has taken is locked and stays; it is the last.
 */
async function removeSchedule(queue: Queue, scheduler: JobSchedulerJson): Promise<void> {
  await queue.removeJobScheduler(scheduler.key);
  // Only a run not yet taken: a finished one is history, and an active one is locked anyway.
  if ((await recordedRun(queue, scheduler.key, scheduler.next)) === 'waiting')
    await queue.remove(pendingRunId(scheduler.key, scheduler.next!));
}

/**
 * Syncs and repairs hold this lock, so that two processes never judge and rewrite one scheduler at
 * once (each could add a catch-up run). Outside BullMQ's keys of the queue (`<prefix>:<queue>:*`),
 * where it could meet a job's id. A pass takes milliseconds; the lock outlives a crashed holder by
 * `LOCK_MS` at most.
 */
const lockKey = (queue: Queue) => `${queue.qualifiedName}-schedules-lock`;
const LOCK_MS = 30_000;

/** What a sync did, by source id. */
export interface ScheduleChanges {
  /** Added, changed, or given their next run again. */
  upserted: string[];
  /** Left as they were. */
  unchanged: string[];
  /** Schedulers of sources no longer scheduled, taken away with their pending runs. */
  removed: string[];
  /** Of `upserted`: schedulers that had no run left to come (see RecordedRun), now running again. */
  repaired: string[];
}

/** The schedulers the config asks for, by scheduler id. */
function wantedSchedules(config: Config): Map<string, { repeat: Repeat; sourceId: string }> {
  const wanted = new Map<string, { repeat: Repeat; sourceId: string }>();
  for (const source of config.sources) {
    const repeat = repeatOf(source, config.contract.timezone);
    if (repeat) wanted.set(`${PREFIX}${source.id}`, { repeat, sourceId: source.id });
  }
  return wanted;
}

/**
 * Makes the scheduler `id` run `repeat` for `sourceId` with `jobOptions`, as syncSchedules describes.
 * With `repairOnly`, it touches only a scheduler that already runs `repeat` and has no run to come.
 */
async function syncOne(
  queue: Queue,
  id: string,
  { repeat, sourceId }: { repeat: Repeat; sourceId: string },
  jobOptions: JobsOptions,
  repairOnly: boolean,
): Promise<'unchanged' | 'upserted' | 'repaired'> {
  const current = await queue.getJobScheduler(id);
  const run = current ? await recordedRun(queue, id, current.next) : 'gone';
  const now = Date.now();
  const overdue = run === 'waiting' && current!.next! <= now;
  const same = sameRun(current, repeat, sourceId);
  // New job options (retries from `queue`, or those of an older version) wait while the pending
  // run is overdue: applying them now would drop the catch-up run. A later sync applies them.
  if (same && isLive(run) && (overdue || sameOptions(current!, jobOptions))) return 'unchanged';
  // A scheduler with no live run left would never run again: the upsert below adds its next run,
  // and a run it has missed since its last one is caught up at once, as an overdue run is.
  const stalled = current !== undefined && !isLive(run);
  if (repairOnly && !(stalled && same)) return 'unchanged';
  const catchUp = overdue || (stalled && missedRun(current, now));
  // A worker that took the recorded run meanwhile (maybe finished it, so it looked stalled) has
  // moved the scheduler on: judge it anew.
  if ((await queue.getJobScheduler(id))?.next !== current?.next)
    return syncOne(queue, id, { repeat, sourceId }, jobOptions, repairOnly);
  // A new timing replaces the pending run with the new one's next run, computed from now: an
  // overdue run (everything was down past it) would be lost, so the new cron runs once at once, then
  // on its own times (BullMQ keeps `immediately` out of the stored schedule). A new or changed
  // `every` scheduler runs its first job at once anyway; an unchanged one counts from the run it
  // records, so one that missed a run starts anew.
  const startAnew = stalled && catchUp && 'every' in repeat && same;
  if (startAnew) await queue.removeJobScheduler(id);
  const timing = catchUp && 'pattern' in repeat ? { ...repeat, immediately: true } : repeat;
  const template = {
    name: 'scheduled-scan',
    data: { sourceId } satisfies ScheduledScanData,
    // A repair keeps the options the scheduler has: another process's config may have set them.
    opts: repairOnly ? (current!.template?.opts ?? jobOptions) : jobOptions,
  };
  // Removed, the scheduler must come back: a failed add would lose it until the next sync.
  await pRetry(() => queue.upsertJobScheduler(id, timing, template), { retries: startAnew ? 4 : 0 });
  return stalled ? 'repaired' : 'upserted';
}

/**
 * Makes the queue's job schedulers match the config: adds and updates the schedulers of scheduled
 * sources and removes those of sources no longer scheduled. A scheduler that already matches is not
 * touched while its recorded run is waiting or taken, so an overdue run survives a restart; one
 * whose job options alone changed is updated only once its pending run is not overdue. A scheduler
 * whose recorded run has finished or gone gets its next run again. Returns the source ids by what
 * happened to them.
 */
export async function syncSchedules(queue: Queue, redis: Redis, config: Config): Promise<ScheduleChanges> {
  const locked = await withRedisLock(redis, lockKey(queue), { ttlMs: LOCK_MS, waitMs: LOCK_MS }, () =>
    syncLocked(queue, config),
  );
  if (!locked) throw new Error(`another process has been changing the schedules for ${LOCK_MS / 1000} s`);
  return locked.value;
}

async function syncLocked(queue: Queue, config: Config): Promise<ScheduleChanges> {
  const wanted = wantedSchedules(config);
  const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  const changes: ScheduleChanges = { upserted: [], unchanged: [], removed: [], repaired: [] };
  for (const key of existing.keys()) {
    if (key.startsWith(PREFIX) && !wanted.has(key)) {
      await removeSchedule(queue, existing.get(key)!);
      changes.removed.push(key.slice(PREFIX.length));
    }
  }
  // A scheduled run's job options are every scan job's: retries as the config's `queue` says, kept for
  // days by age. Never a count limit: BullMQ applies one to the queue's whole completed or failed
  // set, so each finished run would trim the jobs of every scan, running ones included.
  const jobOptions = scanJobOptions(config.queue);
  for (const [id, want] of wanted) {
    const outcome = await syncOne(queue, id, want, jobOptions, false);
    if (outcome === 'unchanged') changes.unchanged.push(want.sourceId);
    else changes.upserted.push(want.sourceId);
    if (outcome === 'repaired') changes.repaired.push(want.sourceId);
  }
  return changes;
}

/**
 * Gives the schedulers of the config that have no run to come their next run again, and changes
 * nothing else (their timing, data and job options stay): safe to run every minute from every
 * `serve` and `anpr-audit worker` process (workers/schedule-repairs.ts), even from processes whose
 * configs differ for a while (a rolling change), since a scheduler another config set differently is
 * left alone. A repair, and a sync, holds a lock in Redis: returns the source ids repaired, or null
 * when another process held the lock.
 */
export async function repairSchedules(queue: Queue, redis: Redis, config: Config): Promise<string[] | null> {
  const locked = await withRedisLock(redis, lockKey(queue), { ttlMs: LOCK_MS }, async () => {
    const jobOptions = scanJobOptions(config.queue);
    const repaired: string[] = [];
    for (const [id, want] of wantedSchedules(config)) {
      if ((await syncOne(queue, id, want, jobOptions, true)) === 'repaired') repaired.push(want.sourceId);
    }
    return repaired;
  });
  return locked?.value ?? null;
}

/** Every source's schedule and next run, for the API and the CLI. */
export async function listSchedules(queue: Queue, config: Config): Promise<ScheduleView[]> {
  const schedulers = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
  return Promise.all(
    config.sources.map(async (source) => {
      const id = `${PREFIX}${source.id}`;
      const scheduler = schedulers.get(id);
      // A scheduler whose recorded run has finished or gone has no next run, whatever it records.
      const live = scheduler?.next !== undefined && isLive(await recordedRun(queue, id, scheduler.next));
      return {
        sourceId: source.id,
        every: source.schedule?.every ?? null,
        cron: source.schedule?.cron ?? null,
        timezone: source.schedule?.cron ? config.contract.timezone : null,
        nextRun: live ? new Date(scheduler!.next!).toISOString() : null,
      };
    }),
  );
}
