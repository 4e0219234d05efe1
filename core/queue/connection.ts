/**
 * Redis connections and the scan queue, flow producer and worker factories (bullmq + ioredis).
 */
import { Redis } from 'ioredis';
import {
  FlowProducer,
  Queue,
  QueueEvents,
  Worker,
  type JobsOptions,
  type Processor,
  type WorkerOptions,
} from 'bullmq';
import { SCAN_QUEUE } from './jobs.js';
import { endpointOf, reasonOf, StartupError } from '../startup-errors.js';

/** Where the queue lives (a Redis URL and a key prefix; tests use a unique one) and its job policy. */
export interface QueueSettings {
  url: string;
  prefix: string;
  attempts?: number;
  backoffMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** A Redis connection as BullMQ needs it (blocking commands must not give up). */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/** How long a process waits at start for Redis to answer before it gives up. */
export const REDIS_STARTUP_TIMEOUT_MS = 10_000;

/**
 * {@link createRedis}, once Redis has answered: a wrong or down Redis stops a process at start with
 * one line instead of reconnecting forever.
 * @throws StartupError naming host and port (never credentials) and the last reason.
 */
export async function connectRedis(url: string, timeoutMs = REDIS_STARTUP_TIMEOUT_MS): Promise<Redis> {
  const redis = createRedis(url);
  let lastError: unknown;
  // ioredis reconnects and reports each failure as an 'error' event: keep the last for the message.
  const onError = (error: unknown) => (lastError = error);
  redis.on('error', onError);
  try {
    await within(redis.ping(), timeoutMs, 'Redis');
    return redis;
  } catch (error) {
    redis.disconnect();
    const reason = reasonOf(lastError ?? error);
    throw new StartupError(`Redis at ${endpointOf(url)} does not answer (${reason})`, {
      cause: lastError ?? error,
    });
  } finally {
    redis.off('error', onError);
  }
}

/**
 * The retry policy of scan jobs: transient S3 trouble is retried with exponential backoff. Takes the
 * config's `queue` section (no default, so that no caller forgets it); unset fields fall back to 5
 * attempts and 1 s.
 */
export function scanJobOptions(settings: Pick<QueueSettings, 'attempts' | 'backoffMs'>): JobsOptions {
  return {
    attempts: settings.attempts ?? 5,
    backoff: { type: 'exponential', delay: settings.backoffMs ?? 1000 },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

export function createScanQueue(settings: QueueSettings, connection: Redis): Queue {
  return new Queue(SCAN_QUEUE, {
    connection,
    prefix: settings.prefix,
    defaultJobOptions: scanJobOptions(settings),
  });
}

export function createFlowProducer(settings: QueueSettings, connection: Redis): FlowProducer {
  return new FlowProducer({ connection, prefix: settings.prefix });
}

export function createQueueEvents(settings: QueueSettings): QueueEvents {
  return new QueueEvents(SCAN_QUEUE, { connection: createRedis(settings.url), prefix: settings.prefix });
}

/**
 * A worker over the scan queue. BullMQ does not close a connection it was given: the caller owns
 * `connection` and quits it after `worker.close()`.
 */
export function createScanWorker(
  settings: QueueSettings,
  connection: Redis,
  processor: Processor,
  opts: Partial<WorkerOptions> = {},
): Worker {
  return new Worker(SCAN_QUEUE, processor, {
    connection,
    prefix: settings.prefix,
    concurrency: 4,
    // A SIGKILLed worker's job is picked up again once its lock lapses and the stalled check runs.
    lockDuration: settings.lockDurationMs ?? 30_000,
    stalledInterval: settings.stalledIntervalMs ?? 15_000,
    maxStalledCount: 3,
    ...opts,
  });
}

/** `promise`, or a rejection after `ms` (a Redis that does not answer); the timer does not outlive the answer. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
