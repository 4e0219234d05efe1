/**
 * One run of a source's schedule (a `scheduled-scan` job): start a scan of the source unless one is
 * still running, close a scan abandoned long ago, and, when the run is retried, finish what its
 * earlier attempt started instead of starting a second scan.
 */
import type { FlowProducer, Job, Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import { scanJobOptions } from '../core/queue/connection.js';
import { isLastAttempt, jobIds, type ScheduledScanData } from '../core/queue/jobs.js';
import { startScan } from '../core/scan/start-scan.js';
import type { Store } from '../core/store/store.js';

/** What a scheduled run needs: the config, the store, and the queue and flow producer of the scans. */
export interface ScheduledRunContext {
  config: Pick<Config, 'sources' | 'scan' | 'queue'>;
  store: Store;
  queue: Queue;
  flows: FlowProducer;
}

/** The outcome: the scan the run started (or finished starting), or why it started none. */
export type ScheduledRunResult =
  { scanId: string; skipped?: string } | { skipped: string; scanId?: undefined };

/**
 * Runs a scheduled scan job. The scan id derives from the job id, so every attempt of one run works
 * on one scan. Throws when the scan's flow could not be queued; the scan stays `running` for the
 * next attempt then, and is closed as `failed` only on the run's last attempt.
 */
export async function runScheduledScan(context: ScheduledRunContext, job: Job): Promise<ScheduledRunResult> {
  const { config, store, queue, flows } = context;
  const { sourceId } = job.data as ScheduledScanData;
  // A worker started before the source was added (or after it was removed) cannot scan it.
  if (!config.sources.some((s) => s.id === sourceId))
    return { skipped: `source ${sourceId} is not in this worker's configuration` };
  const scanId = jobIds.scheduledScan(job.id!);
  const own = await store.getScan(scanId);
  if (own && own.status !== 'running') return { skipped: `scan ${scanId} of this run has ended`, scanId };
  // With its own scan running, an earlier attempt of this run recorded it and stopped (a crash, a
  // failed queueing) before or after queueing its flow (one atomic add): queue it unless it is there.
  if (own && (await finalizerOf(queue, scanId))) return { scanId };
  // A run left over from a schedule removed since (syncSchedules removes the run too, but a run
  // taken meanwhile, or a sync by an older version, leaves one): Redis, not this worker's config,
  // which may predate the change, tells whether the source is still scheduled.
  if (!own && job.repeatJobKey !== undefined && !(await queue.getJobScheduler(job.repeatJobKey)))
    return { skipped: `the schedule of ${sourceId} has been removed` };
  const current = own
    ? undefined
    : (await store.listScans({ source: sourceId, status: 'running', limit: 1 }))[0];
  if (current) {
    const age = Date.now() - Date.parse(current.startedAt);
    // A scan still running covers this slot; starting a second would only double the load. A slow
    // scan whose jobs are still queued is running, however long it takes.
    if (age <= config.scan.abandonedAfterHours * 3_600_000 || (await flowAlive(queue, current.id)))
      return { skipped: `scan ${current.id} of ${sourceId} is still running` };
    // Nothing is left to end it (a lost flow, a wiped Redis, a run that stopped before queueing its
    // flow): close it so the source is scanned again.
    await store.addScanError(
      current.id,
      `abandoned: still running after ${config.scan.abandonedAfterHours} h, with no queued job left to end it`,
    );
    await store.finishScan(current.id, 'failed', new Date());
  }
  return {
    scanId: await startScan(store, flows, {
      sources: [sourceId],
      trigger: 'schedule',
      scanId,
      // A retry judges by the time the scan recorded, as the first attempt would have.
      now: own ? new Date(own.judgedAt) : undefined,
      jobOptions: scanJobOptions(config.queue),
      // While the run has attempts left, a retry queues the flow: the scan must stay open for it.
      closeOnQueueFailure: isLastAttempt(job),
    }),
  };
}

/** The scan's `finalize-scan` job: there when its flow was queued (one atomic add), until removed. */
function finalizerOf(queue: Queue, scanId: string): Promise<Job | undefined> {
  return queue.getJob(jobIds.finalize(scanId));
}

/** Whether the scan's flow can still end it: its finalizer is in the queue and has not finished. */
async function flowAlive(queue: Queue, scanId: string): Promise<boolean> {
  const finalizer = await finalizerOf(queue, scanId);
  if (!finalizer) return false;
  const state = await finalizer.getState();
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}

/**
 * For a scheduled run that has failed for good: closes the scan it recorded as `failed`, with the
 * reason, when the run never queued its flow, since nothing else would end that scan before
 * `abandonedAfterHours` (its last attempt may have failed before it could close the scan itself:
 * the store or Redis failing). Returns whether it closed one; a scan with a queued flow is left to
 * its jobs.
 */
export async function closeScanOfFailedRun(
  context: Pick<ScheduledRunContext, 'store' | 'queue'>,
  jobId: string,
  reason: string,
): Promise<boolean> {
  const scanId = jobIds.scheduledScan(jobId);
  const scan = await context.store.getScan(scanId);
  if (scan?.status !== 'running' || (await finalizerOf(context.queue, scanId))) return false;
  await context.store.addScanError(scanId, `the scheduled run failed: ${reason.slice(0, 300)}`);
  await context.store.finishScan(scanId, 'failed', new Date());
  return true;
}
