/**
 * A job that fails for good, end to end through a running worker (workers/scan-workers.ts): the
 * worker's `failed` handler closes the scan of a finalizer or scheduled run that is out of attempts,
 * which would otherwise stay `running` and block its source until `abandonedAfterHours`. The store
 * fails as a database that is down for a while does: a few calls of one method throw.
 */
import { expect } from 'chai';
import {
  jobIds,
  SCAN_QUEUE,
  type FinalizeScanData,
  type ScheduledScanData,
} from '../../../core/queue/jobs.js';
import type { Scan } from '../../../core/model.js';
import type { Store } from '../../../core/store/store.js';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { recordBulkScan, startBulkWorld, type BulkWorld } from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

/**
 * The real store, except that each call of `method` first awaits `before`, given the call's
 * arguments (it may throw, or wait).
 */
function interceptedStore(
  store: Store,
  method: keyof Store,
  before: (...args: unknown[]) => Promise<void>,
): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const call = value as (...args: unknown[]) => unknown;
      if (property !== method) return call.bind(target);
      return async (...args: unknown[]) => {
        await before(...args);
        return call.apply(target, args);
      };
    },
  });
}

/** Two attempts, the second at once: a retry that finds the database back. */
const twoQuickAttempts = { attempts: 2, backoff: { type: 'fixed', delay: 20 } };

/** Polls the scan until it is no longer `running`, or returns it as it is after `ms`. */
async function scanAfterAtMost(store: Store, scanId: string, ms: number): Promise<Scan> {
  const deadline = Date.now() + ms;
  for (;;) {
    const scan = (await store.getScan(scanId))!;
    if (scan.status !== 'running' || Date.now() > deadline) return scan;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a worker, when a finalizer or scheduled run fails for good', function () {
  this.timeout(60_000);
  let world: BulkWorld;
  let db: TestStore;
  /** Calls of `getScan` still to fail, for the workers' store only. */
  const outage = { times: 0 };
  let runtime: Awaited<ReturnType<typeof openTestRuntime>>;
  let workers: Awaited<ReturnType<typeof startScanWorkers>>;

  before(async () => {
    world = await startBulkWorld(2);
    db = await openTestStore('postgres');
    const { config } = await world.config();
    const databaseDown = async () => {
      if (outage.times > 0) {
        outage.times -= 1;
        throw new Error('database down');
      }
    };
    runtime = await openTestRuntime(config, interceptedStore(db.store, 'getScan', databaseDown));
    workers = await startScanWorkers(runtime, { concurrency: 2 });
  });
  after(async () => {
    await workers?.close();
    await runtime?.dispose();
    await db?.cleanup();
    await world?.close();
  });

  /** Records a running scan of the bulk source and queues its finalizer alone, with two attempts. */
  async function finalizerOfRecordedScan(scanId: string): Promise<void> {
    await recordBulkScan(world, db.store, { id: scanId, trigger: 'api' });
    const data: FinalizeScanData = { scanId, sources: ['edge-bulk'] };
    await runtime.queue.add('finalize-scan', data, { jobId: jobIds.finalize(scanId), ...twoQuickAttempts });
  }

  it('closes the scan a finalizer could not finalize in any attempt, with the reason', async () => {
    outage.times = 2;
    await finalizerOfRecordedScan('scan-unfinalized');
    const scan = await scanAfterAtMost(db.store, 'scan-unfinalized', 15_000);
    expect(outage.times, 'both attempts reached the store').to.equal(0);
    expect(scan.status).to.equal('failed');
    expect(scan.errors).to.deep.equal(['the scan could not be finalized: database down']);
    expect(scan.finishedAt).to.be.a('string');
  });

  it('leaves the scan open while the finalizer has attempts left, and the retry finalizes it', async () => {
    outage.times = 1;
    await finalizerOfRecordedScan('scan-finalized-late');
    const scan = await scanAfterAtMost(db.store, 'scan-finalized-late', 15_000);
    // Its source never reported (no flow was queued): the retry closes it incomplete, not failed.
    expect(scan.status).to.equal('incomplete');
    expect(scan.errors).to.deep.equal(['source edge-bulk: no result (its job failed or was lost)']);
  });

  it('closes the scan a scheduled run recorded and never queued when its last attempt fails', async () => {
    // An earlier run of this job recorded the scan and stopped (a crash); both attempts left meet
    // the database down.
    const scanId = jobIds.scheduledScan('sched-unqueued');
    await recordBulkScan(world, db.store, { id: scanId, trigger: 'schedule' });
    outage.times = 2;
    const data: ScheduledScanData = { sourceId: 'edge-bulk' };
    await runtime.queue.add('scheduled-scan', data, { jobId: 'sched-unqueued', ...twoQuickAttempts });
    const scan = await scanAfterAtMost(db.store, scanId, 15_000);
    expect(outage.times).to.equal(0);
    expect(scan.status).to.equal('failed');
    expect(scan.errors).to.deep.equal(['the scheduled run failed: database down']);
    expect(await runtime.queue.getJob(jobIds.finalize(scanId))).to.equal(undefined);
  });

  describe('a finalizer whose worker keeps dying while it runs', () => {
    /**
     * A runtime whose store never answers `getScan` until released: each attempt of a finalizer
     * hangs in it, and loses its lock as it starts to hang. A worker killed while it runs a job
     * leaves the job active with a lock nobody renews, which lapses; removing the lock is what the
     * lapse does, without waiting for it. A pickup BullMQ fails at once never reaches the store, so
     * its lock is left alone.
     */
    let stalling: Awaited<ReturnType<typeof openTestRuntime>>;
    let stallingWorkers: Awaited<ReturnType<typeof startScanWorkers>>;
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));

    before(async () => {
      const { config } = await world.config();
      // Frequent stalled checks, so four stalls take seconds, not minutes.
      const quick = { ...config, queue: { ...config.queue, stalledIntervalMs: 500 } };
      stalling = await openTestRuntime(
        quick,
        interceptedStore(db.store, 'getScan', async (scanId) => {
          const finalizer = jobIds.finalize(String(scanId));
          await stalling.redis.del(`${stalling.queueSettings.prefix}:${SCAN_QUEUE}:${finalizer}:lock`);
          return held;
        }),
      );
      // Each hung attempt holds a slot: room for more than maxStalledCount (3) of them.
      stallingWorkers = await startScanWorkers(stalling, { concurrency: 6 });
    });
    after(async () => {
      release();
      await stallingWorkers?.close();
      await stalling?.dispose();
    });

    it('closes its scan as failed once BullMQ fails it for stalling too often, attempts left', async () => {
      await recordBulkScan(world, db.store, { id: 'scan-stalled', trigger: 'api' });
      const jobId = jobIds.finalize('scan-stalled');
      const data: FinalizeScanData = { scanId: 'scan-stalled', sources: ['edge-bulk'] };
      await stalling.queue.add('finalize-scan', data, { jobId, attempts: 3 });
      const scan = await scanAfterAtMost(db.store, 'scan-stalled', 30_000);
      expect(scan.status).to.equal('failed');
      expect(scan.errors).to.deep.equal([
        'the scan could not be finalized: job stalled more than allowable limit',
      ]);
      const job = (await stalling.queue.getJob(jobId))!;
      expect(await job.getState()).to.equal('failed');
      expect(job.attemptsMade).to.be.lessThan(3);
    });
  });
});
