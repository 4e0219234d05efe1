/**
 * Runs scan workers in this process: one BullMQ Worker over the scan queue, with the processor
 * built from core/scan. Closing waits for in-flight jobs (graceful shutdown).
 */
import type { Worker } from 'bullmq';
import { createRedis, createScanWorker } from '../core/queue/connection.js';
import type { Logger } from '../core/log.js';
import type { Runtime } from '../core/runtime.js';
import { ScanDeps } from '../core/scan/scan-deps.js';
import { createScanProcessor } from './scan.processor.js';

export interface ScanWorkers {
  worker: Worker;
  /** Stops taking jobs, lets the running ones finish, and releases connections. */
  close(): Promise<void>;
}

/** Starts a worker that processes up to `concurrency` bucket/source jobs at once. */
export async function startScanWorkers(
  runtime: Runtime,
  opts: { concurrency?: number; logger?: Logger } = {},
): Promise<ScanWorkers> {
  const deps = new ScanDeps(runtime.config, runtime.store);
  const processor = createScanProcessor(deps, runtime.queue, runtime.flows);
  const connection = createRedis(runtime.queueSettings.url);
  const worker = createScanWorker(runtime.queueSettings, connection, processor, {
    concurrency: opts.concurrency ?? 4,
  });
  worker.on('failed', (job, error) => {
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
      deps.close();
    },
  };
}
