/**
 * Runs scan workers in this process: one BullMQ Worker over the scan queue, with the processor
 * built from core/scan. Closing waits for in-flight jobs (graceful shutdown).
 */
import type { Job, Worker } from 'bullmq';
import { createRedis, createScanWorker } from '../core/queue/connection.js';
import type { FinalizeScanData } from '../core/queue/jobs.js';
import type { Logger } from '../core/log.js';
import type { Runtime } from '../core/runtime.js';
import { sharedConcurrency } from '../core/queue/shared-concurrency.js';
import { sharedRequestPace } from '../core/queue/shared-rate.js';
import { ScanDeps } from '../core/scan/scan-deps.js';
import { createScanProcessor } from './scan.processor.js';
import { closeScanOfFailedRun } from './scheduled-run.js';

/**
 * After a job failed: when it will not be tried again (out of attempts, or failed for good by an
 * UnrecoverableError) and it is a finalizer or a scheduled run, closes its scan as `failed`, or the
 * scan would stay `running` and block its sources until `abandonedAfterHours`.
 */
async function closeScanOfFailedJob(runtime: Runtime, job: Job, reason: string): Promise<void> {
  if (job.name !== 'finalize-scan' && job.name !== 'scheduled-scan') return;
  if (job.attemptsMade < (job.opts.attempts ?? 1) && !(await job.isFailed())) return;
  if (job.name === 'finalize-scan') {
    // E.g. the database was down through every attempt.
    const { scanId } = job.data as FinalizeScanData;
    await runtime.store.addScanError(scanId, `the scan could not be finalized: ${reason.slice(0, 300)}`);
    await runtime.store.finishScan(scanId, 'failed', new Date());
  } else if (job.id) {
    await closeScanOfFailedRun(runtime, job.id, reason);
  }
}

export interface ScanWorkers {
  worker: Worker;
  /** Stops taking jobs, lets the running ones finish, and releases connections. */
  close(): Promise<void>;
  /**
   * Gives the running jobs up, for a process about to exit whose `close()` took too long: drops
   * the worker's Redis connection, so this process neither renews their locks nor finishes them
   * (a job failed by a closing store would lose an attempt). Their locks lapse and another worker
   * takes them over from their checkpoints, as after a crash. BullMQ's own `close(true)` cannot do
   * this once `close()` was called: it returns the pending close, which waits for the jobs.
   */
  abandon(): void;
}

/** Starts a worker that processes up to `concurrency` bucket/source jobs at once. */
export async function startScanWorkers(
  runtime: Runtime,
  opts: { concurrency?: number; logger?: Logger } = {},
): Promise<ScanWorkers> {
  // One rate and one concurrency budget per source for every process on this Redis prefix, not one
  // per process.
  const prefix = runtime.queueSettings.prefix;
  const deps = new ScanDeps(runtime.config, runtime.store, {
    rate: (source) =>
      sharedRequestPace(runtime.redis, {
        prefix,
        sourceId: source.id,
        requestsPerSecond: source.requestsPerSecond,
      }),
    concurrency: (source, requests) =>
      sharedConcurrency(runtime.redis, {
        prefix,
        sourceId: source.id,
        concurrency: source.concurrency,
        onChange: (share) => requests.resize(share),
        inFlight: () => requests.inFlight(),
        onRedisError: (reason) =>
          opts.logger?.warn({ source: source.id, err: reason }, 'concurrency share: Redis did not answer'),
      }),
  });
  const processor = createScanProcessor(deps, runtime.queue, runtime.flows);
  const connection = createRedis(runtime.queueSettings.url);
  const worker = createScanWorker(runtime.queueSettings, connection, processor, {
    concurrency: opts.concurrency ?? 4,
  });
  worker.on('failed', (job, error) => {
    if (job) {
      closeScanOfFailedJob(runtime, job, error.message).catch((reason: Error) =>
        opts.logger?.error({ jobId: job.id, err: reason.message }, 'could not mark the scan failed'),
      );
    }
    opts.logger?.warn(
      { jobId: job?.id, job: job?.name, attempts: job?.attemptsMade, err: error.message.slice(0, 200) },
      'scan job failed',
    );
  });
  worker.on('completed', (job) => {
    opts.logger?.info({ jobId: job.id, job: job.name, pid: process.pid }, 'scan job completed');
  });
  worker.on('error', (error) => opts.logger?.error({ err: error.message }, 'worker error'));
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await worker.close();
      await connection.quit().catch(() => undefined);
      await deps.close();
    },
    abandon() {
      connection.disconnect();
      void worker.close(true).catch(() => undefined);
    },
  };
}
