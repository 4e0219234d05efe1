/**
 * Redis connections and the scan queue, flow producer and worker factories (bullmq + ioredis).
 */
import { Redis } from 'ioredis';
import { FlowProducer, Queue, QueueEvents, Worker, type Processor, type WorkerOptions } from 'bullmq';
import { SCAN_QUEUE } from './jobs.js';

/** Where the queue lives: a Redis URL and a key prefix (tests use a unique one per run). */
export interface QueueSettings {
  url: string;
  prefix: string;
}

/** A Redis connection as BullMQ needs it (blocking commands must not give up). */
export function createRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/** The retry policy of scan jobs: transient S3 trouble is retried with exponential backoff. */
export const SCAN_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const;

export function createScanQueue(settings: QueueSettings, connection: Redis): Queue {
  return new Queue(SCAN_QUEUE, { connection, prefix: settings.prefix, defaultJobOptions: SCAN_JOB_OPTIONS });
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
    // A SIGKILLed worker's job is picked up again after this long without a lock renewal.
    stalledInterval: 15_000,
    maxStalledCount: 3,
    ...opts,
  });
}
