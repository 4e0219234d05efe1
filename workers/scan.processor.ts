/**
 * The BullMQ processor of the scan queue: dispatches by job name to core/scan. Thin on purpose:
 * the only logic here is the step-job pattern that lets `scan-source` wait for its bucket children.
 */
import { UnrecoverableError, WaitingChildrenError, type FlowProducer, type Job, type Queue } from 'bullmq';
import {
  isLastAttempt,
  jobIds,
  JOB_NAMES,
  type FinalizeScanData,
  type JobName,
  type ScanBucketData,
  type ScanBucketResult,
  type ScanSourceData,
  type ScanSourceResult,
} from '../core/queue/jobs.js';
import { scanJobOptions } from '../core/queue/connection.js';
import { scanBucketRange } from '../core/scan/bucket-scan.js';
import { KeyOrderError } from '../core/scan/key-order.js';
import { finalizeScan } from '../core/scan/finalize.js';
import { aggregateSource } from '../core/scan/source-aggregate.js';
import {
  discoverSource,
  type DiscoveredBucket,
  type DiscoveryResult,
} from '../core/scan/source-discovery.js';
import type { ScanDeps } from '../core/scan/scan-deps.js';
import { runScheduledScan } from './scheduled-run.js';

type Handler = (job: Job, token: string | undefined) => Promise<unknown>;

/** Values and failures of a parent's children, in the shapes our jobs return. */
async function childOutcomes<T>(job: Job): Promise<{ values: T[]; failures: string[] }> {
  const values = Object.values(await job.getChildrenValues<T>());
  const ignored = await job.getIgnoredChildrenFailures();
  const failures = Object.entries(ignored).map(
    ([key, reason]) => `job ${key.split(':').pop()} failed: ${reason}`,
  );
  return { values, failures };
}

async function isCancelled(deps: ScanDeps, scanId: string): Promise<boolean> {
  return (await deps.store.getScan(scanId))?.status === 'cancelled';
}

function scanSource(deps: ScanDeps, queue: Queue): Handler {
  return async (job, token) => {
    const data = job.data as ScanSourceData & { discovery?: DiscoveryResult };
    let step = data.step ?? 'discover';
    const rerun = step === 'children';
    if (step === 'discover') {
      // The plan is saved before any child is added: a crash after this adds the children of this
      // plan, never those of a new discovery whose shards, learned from what the first children
      // already stored, would not line up with them.
      await job.updateData({
        ...data,
        step: 'children',
        discovery: await discoverSource(deps, data.sourceId),
      });
      step = 'children';
    }
    if (step === 'children') {
      const planned = job.data as ScanSourceData & { discovery: DiscoveryResult };
      const cancelled = await isCancelled(deps, planned.scanId);
      const children = cancelled
        ? []
        : planned.discovery.buckets.flatMap((bucket) =>
            bucket.shards.map((range, shard) => ({
              name: 'scan-bucket',
              data: {
                scanId: planned.scanId,
                sourceId: planned.sourceId,
                bucket: bucket.bucket,
                judgedAt: planned.judgedAt,
                declared: bucket.declared,
                testLike: bucket.testLike,
                shard,
                range,
              } satisfies ScanBucketData,
              opts: {
                ...scanJobOptions(deps.config.queue),
                jobId: jobIds.bucket(planned.scanId, planned.sourceId, bucket.bucket, shard),
                parent: { id: job.id!, queue: job.queueQualifiedName },
                ignoreDependencyOnFailure: true,
              },
            })),
          );
      // On a re-run only the children not added yet: BullMQ links a re-added child that exists to
      // its parent again, and one that already failed for good would then hold the parent forever.
      const exists = rerun
        ? await Promise.all(
            children.map(async (child) => (await queue.getJob(child.opts.jobId)) !== undefined),
          )
        : children.map(() => false);
      await queue.addBulk(children.filter((_, i) => !exists[i]));
      await job.updateData({ ...planned, step: 'wait' });
      step = 'wait';
    }
    if (step === 'wait') {
      if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
    }
    const current = job.data as ScanSourceData & { discovery: DiscoveryResult };
    const { values, failures } = await childOutcomes<ScanBucketResult>(job);
    const result: ScanSourceResult = await aggregateSource(deps, {
      scanId: current.scanId,
      sourceId: current.sourceId,
      now: new Date(current.judgedAt),
      buckets: current.discovery.buckets as DiscoveredBucket[],
      listBucketsError: current.discovery.listBucketsError ?? null,
      errors: current.discovery.errors,
      notes: current.discovery.notes,
      results: values,
      failures,
    });
    return result;
  };
}

function scanBucket(deps: ScanDeps): Handler {
  return async (job) => {
    const data = job.data as ScanBucketData;
    const scanning = scanBucketRange(deps, {
      ...data,
      now: new Date(data.judgedAt),
      checkpoint: data.checkpoint,
      lastAttempt: isLastAttempt(job),
      retried: job.attemptsStarted > 1,
      matchRegister: deps.registerMatcher(data.sourceId),
      onCheckpoint: async (checkpoint) => {
        await job.updateData({ ...(job.data as ScanBucketData), checkpoint });
      },
      shouldStop: () => isCancelled(deps, data.scanId),
    });
    // A listing out of order comes back the same on a retry: fail the bucket at once.
    return scanning.catch((error: unknown) => {
      throw error instanceof KeyOrderError ? new UnrecoverableError(error.message) : error;
    });
  };
}

function finalize(deps: ScanDeps): Handler {
  return async (job) => {
    const data = job.data as FinalizeScanData;
    const { values, failures } = await childOutcomes<ScanSourceResult>(job);
    return finalizeScan(
      deps.store,
      data.scanId,
      data.sources ?? values.map((v) => v.sourceId),
      values,
      failures,
      new Date(),
    );
  };
}

/**
 * Builds the processor for a worker. Refuses to build when a job name has no handler, so a worker
 * never starts that would fail jobs it does not know.
 */
export function createScanProcessor(
  deps: ScanDeps,
  queue: Queue,
  flows: FlowProducer,
): (job: Job, token?: string) => Promise<unknown> {
  const handlers: Record<JobName, Handler> = {
    'scheduled-scan': (job) =>
      runScheduledScan({ config: deps.config, store: deps.store, queue, flows }, job),
    'finalize-scan': finalize(deps),
    'scan-source': scanSource(deps, queue),
    'scan-bucket': scanBucket(deps),
  };
  for (const name of JOB_NAMES) if (!handlers[name]) throw new Error(`no processor for job ${name}`);
  return (job, token) => {
    const handler = handlers[job.name as JobName];
    if (!handler) throw new Error(`unknown job name "${job.name}"`);
    return handler(job, token);
  };
}
