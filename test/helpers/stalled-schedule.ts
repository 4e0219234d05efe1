/**
 * Puts a job scheduler in the state a worker that failed to add its next run leaves behind: BullMQ
 * adds a schedule's next run when a worker takes one, and a run whose add keeps failing ends failed.
 * The scheduler then records a run that has finished (or, once retention removed it, is gone), with
 * no run after it in the queue.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SCAN_QUEUE } from '../../core/queue/jobs.js';

/**
 * Makes scheduler `schedulerId` of the scan queue under `prefix` record the run due at `recordedMs`
 * and removes the run it recorded before. Its next run is computed from the recorded one.
 */
export async function stallSchedule(
  queue: Queue,
  redis: Redis,
  prefix: string,
  schedulerId: string,
  recordedMs: number,
): Promise<void> {
  const before = await queue.getJobScheduler(schedulerId);
  // The recorded run first: BullMQ refuses to remove the run a scheduler records.
  await redis.zadd(`${prefix}:${SCAN_QUEUE}:repeat`, recordedMs, schedulerId);
  if (before?.next !== undefined && before.next !== recordedMs) {
    await queue.remove(`repeat:${schedulerId}:${before.next}`);
  }
}
