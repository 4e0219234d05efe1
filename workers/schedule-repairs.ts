/**
 * The periodic repair of schedules that stopped by themselves, run by every long-lived process that
 * takes scan jobs (`serve` and `anpr-audit worker`): whichever of them is up keeps the schedules
 * going, so a deployment of an API and separate worker processes repairs them too.
 */
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import type { Logger } from '../core/log.js';
import { repairSchedules } from './schedules.js';

/** How long stopping waits for a repair in progress, by default. */
const STOP_WAIT_MS = 2_000;

/** A running repair loop. */
export interface ScheduleRepairs {
  /**
   * Stops the loop; resolves once a repair in progress has ended, or after `maxWaitMs` (default
   * 2 s) if it has not: its failure is then logged, as any repair's.
   */
  stop(maxWaitMs?: number): Promise<void>;
}

/**
 * Every `config.queue.scheduleRepairSeconds`, gives the config's schedules left with no run to come
 * their next run again (workers/schedules.ts `repairSchedules`: same timing only, under a lock in
 * Redis, so any number of processes may run this). One repair at a time in this process; a failed
 * one is logged and the next tick tries again. The timer does not keep the process alive.
 *
 * BullMQ adds a schedule's next run when a worker takes one; when that add keeps failing, stall
 * recovery ends the run failed with no run after it, and the schedule stops, unattended, until
 * something repairs it.
 */
export function startScheduleRepairs(
  deps: { queue: Queue; redis: Redis },
  config: Config,
  logger: Logger,
): ScheduleRepairs {
  let repairing: Promise<void> | null = null;
  const repair = (): Promise<void> =>
    (repairing ??= repairSchedules(deps.queue, deps.redis, config)
      .then((repaired) => {
        if (repaired && repaired.length > 0)
          logger.warn({ repaired }, 'schedules had no run to come: gave them their next run');
      })
      .catch((error: unknown) => logger.error({ err: (error as Error).message }, 'schedule repair failed'))
      .finally(() => {
        repairing = null;
      }));
  let timer: NodeJS.Timeout | null = setInterval(
    () => void repair(),
    config.queue.scheduleRepairSeconds * 1000,
  );
  timer.unref();
  return {
    async stop(maxWaitMs = STOP_WAIT_MS) {
      if (timer) clearInterval(timer);
      timer = null;
      if (!repairing) return;
      // A repair stuck on Redis (or retrying a re-add) must not eat the time the scan workers need
      // to close: past the wait it is left to fail once the queue's connections close.
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([
        repairing,
        new Promise<void>((resolve) => {
          waited = setTimeout(resolve, maxWaitMs);
        }),
      ]);
      clearTimeout(waited);
    },
  };
}
