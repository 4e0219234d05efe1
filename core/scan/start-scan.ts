/**
 * Starts a scan: records it, then adds one BullMQ flow, a `finalize-scan` parent with a
 * `scan-source` child per source. Used by the CLI, the API and the scheduler alike.
 */
import { randomUUID } from 'node:crypto';
import type { FlowProducer } from 'bullmq';
import { jobIds, SCAN_QUEUE, type FinalizeScanData, type ScanSourceData } from '../queue/jobs.js';
import { SCAN_JOB_OPTIONS } from '../queue/connection.js';
import type { Scan } from '../model.js';
import type { Store } from '../store/store.js';

export interface StartScanRequest {
  sources: string[];
  trigger: Scan['trigger'];
  /** The clock the rules judge by; defaults to the start time. */
  now?: Date;
  scanId?: string;
}

/** Records the scan and queues its flow. Returns the scan id. */
export async function startScan(store: Store, flows: FlowProducer, request: StartScanRequest): Promise<string> {
  if (request.sources.length === 0) throw new Error('a scan needs at least one source');
  const scanId = request.scanId ?? `scan-${new Date().toISOString().replace(/[:.]/g, '').toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const judgedAt = request.now ?? new Date();
  await store.createScan({ id: scanId, sources: request.sources, trigger: request.trigger, judgedAt });
  const finalize: FinalizeScanData = { scanId };
  await flows.add({
    name: 'finalize-scan',
    queueName: SCAN_QUEUE,
    data: { ...finalize, sources: request.sources },
    opts: { ...SCAN_JOB_OPTIONS, jobId: jobIds.finalize(scanId) },
    children: request.sources.map((sourceId) => ({
      name: 'scan-source',
      queueName: SCAN_QUEUE,
      data: { scanId, sourceId, judgedAt: judgedAt.toISOString() } satisfies ScanSourceData,
      // A source whose job fails for good still lets the finalizer run and mark the scan incomplete.
      opts: { ...SCAN_JOB_OPTIONS, jobId: jobIds.source(scanId, sourceId), ignoreDependencyOnFailure: true },
    })),
  });
  return scanId;
}
