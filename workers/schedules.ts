/**
 * Schedules per source through BullMQ job schedulers: the config is the truth, and `syncSchedules`
 * makes Redis match it (added, changed and removed sources). A scheduler keeps one pending job at a
 * time, so runs missed while every worker was down collapse into one catch-up run.
 */
import type { Queue } from 'bullmq';
import type { Config, SourceConfig } from '../config/load.js';
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

/** Makes the queue's job schedulers match the config. Returns what changed. */
export async function syncSchedules(
  queue: Queue,
  config: Config,
): Promise<{ upserted: string[]; removed: string[] }> {
  const wanted = new Map<string, { repeat: NonNullable<ReturnType<typeof repeatOf>>; sourceId: string }>();
  for (const source of config.sources) {
    const repeat = repeatOf(source, config.contract.timezone);
    if (repeat) wanted.set(`${PREFIX}${source.id}`, { repeat, sourceId: source.id });
  }
  const removed: string[] = [];
  for (const existing of await queue.getJobSchedulers(0, -1)) {
    if (existing.key.startsWith(PREFIX) && !wanted.has(existing.key)) {
      await queue.removeJobScheduler(existing.key);
      removed.push(existing.key.slice(PREFIX.length));
    }
  }
  const upserted: string[] = [];
  for (const [id, { repeat, sourceId }] of wanted) {
    // Upserting an unchanged scheduler is harmless; a changed one is replaced with its new timing.
    await queue.upsertJobScheduler(id, repeat, {
      name: 'scheduled-scan',
      data: { sourceId } satisfies ScheduledScanData,
      opts: {
        attempts: 3,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: 100,
        removeOnFail: 500,
      },
    });
    upserted.push(sourceId);
  }
  return { upserted, removed };
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
