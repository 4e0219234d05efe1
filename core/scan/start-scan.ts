/**
 * Starts a scan: records it, then adds one BullMQ flow, a `finalize-scan` parent with a
 * `scan-source` child per source. Used by the CLI, the API and the scheduler alike.
 */
import { randomUUID } from 'node:crypto';
import type { FlowProducer } from 'bullmq';
import { jobIds, SCAN_QUEUE, type FinalizeScanData, type ScanSourceData } from '../queue/jobs.js';
import type { JobsOptions } from 'bullmq';
import type { Scan } from '../model.js';
import type { Store } from '../store/store.js';

export interface StartScanRequest {
  sources: string[];
  trigger: Scan['trigger'];
  /** The clock the rules judge by; defaults to the start time. */
  now?: Date;
  scanId?: string;
  /**
   * Retry policy of the scan's jobs: `scanJobOptions(config.queue)`. Required, so that no trigger
   * can forget the configured attempts and backoff.
   */
  jobOptions: JobsOptions;
  /**
   * Whether a failure to queue the flow closes the scan as `failed` (default true: nothing else
   * would). False when the caller retries with the same `scanId` and queues it then.
   */
  closeOnQueueFailure?: boolean;
}

/** Records the scan and queues its flow. Returns the scan id. */
export async function startScan(
  store: Store,
  flows: FlowProducer,
  request: StartScanRequest,
): Promise<string> {
  if (request.sources.length === 0) throw new Error('a scan needs at least one source');
  const scanId =
    request.scanId ??
    `scan-${new Date().toISOString().replace(/[:.]/g, '').toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const judgedAt = request.now ?? new Date();
  await store.createScan({ id: scanId, sources: request.sources, trigger: request.trigger, judgedAt });
  const finalize: FinalizeScanData = { scanId };
  try {
    await flows.add({
      name: 'finalize-scan',
      queueName: SCAN_QUEUE,
      data: { ...finalize, sources: request.sources },
      opts: { ...request.jobOptions, jobId: jobIds.finalize(scanId) },
      children: request.sources.map((sourceId) => ({
        name: 'scan-source',
        queueName: SCAN_QUEUE,
        data: { scanId, sourceId, judgedAt: judgedAt.toISOString() } satisfies ScanSourceData,
        // A source whose job fails for good still lets the finalizer run and mark the scan incomplete.
        opts: {
          ...request.jobOptions,
          jobId: jobIds.source(scanId, sourceId),
          ignoreDependencyOnFailure: true,
        },
      })),
    });
  } catch (error) {
    if (request.closeOnQueueFailure === false) throw error;
    // No job will ever close this scan: close it now, or it would block its sources as "running".
    await store
      .addScanError(scanId, `the scan could not be queued: ${(error as Error).message}`)
      .catch(() => undefined);
    await store.finishScan(scanId, 'failed', new Date()).catch(() => undefined);
    throw error;
  }
  return scanId;
}
