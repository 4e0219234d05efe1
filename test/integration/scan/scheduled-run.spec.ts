/**
 * A scheduled run attempt by attempt (workers/scheduled-run.ts), as BullMQ hands it over: a run whose
 * flow could not be queued keeps its scan for the next attempt or closes it on the last; a run whose
 * flow is queued adds nothing again; a slow scan whose jobs are queued is not taken for abandoned.
 */
import { expect } from 'chai';
import { FlowProducer, Job } from 'bullmq';
import { createRedis, scanJobOptions } from '../../../core/queue/connection.js';
import { jobIds } from '../../../core/queue/jobs.js';
import { startScan } from '../../../core/scan/start-scan.js';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import {
  closeScanOfFailedRun,
  runScheduledScan,
  type ScheduledRunContext,
} from '../../../workers/scheduled-run.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { recordBulkScan, startBulkWorld, waitForScanEnd, type BulkWorld } from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

type TestRuntime = Awaited<ReturnType<typeof openTestRuntime>>;

describe('a scheduled run, attempt by attempt', function () {
  this.timeout(60_000);
  let world: BulkWorld;
  let db: TestStore;
  /** A runtime whose workers run every flow queued on it. */
  let runtime: TestRuntime;
  let workers: Awaited<ReturnType<typeof startScanWorkers>>;
  /** A runtime without workers: a flow queued on it stays as queued until a test starts some. */
  let idle: TestRuntime;
  /** A flow producer whose Redis connection has been closed: every add fails, as while Redis is down. */
  let down: FlowProducer;

  before(async () => {
    world = await startBulkWorld(6);
    db = await openTestStore('postgres');
    const { config } = await world.config();
    runtime = await openTestRuntime(config, db.store);
    workers = await startScanWorkers(runtime, { concurrency: 2 });
    idle = await openTestRuntime(config, db.store);
    const closed = createRedis(runtime.queueSettings.url);
    await closed.quit();
    down = new FlowProducer({ connection: closed, prefix: runtime.queueSettings.prefix });
  });
  after(async () => {
    await down?.close();
    await workers?.close();
    await idle?.dispose();
    await runtime?.dispose();
    await db?.cleanup();
    await world?.close();
  });
  // A scan a failed assertion leaves running would make every later run of the source skip.
  afterEach(async () => {
    for (const scan of await db.store.listScans({ source: 'edge-bulk', status: 'running' }))
      await db.store.finishScan(scan.id, 'failed', new Date());
  });

  const on = (target: TestRuntime, flows: FlowProducer = target.flows): ScheduledRunContext => ({
    config: target.config,
    store: db.store,
    queue: target.queue,
    flows,
  });
  /** The run's job as a worker hands it over on attempt `attempt` (from 1) of `attempts`. */
  function attempt(jobId: string, attempt: number, attempts: number): Job {
    const job = new Job(runtime.queue, 'scheduled-scan', { sourceId: 'edge-bulk' }, { attempts }, jobId);
    job.attemptsMade = attempt - 1;
    return job;
  }
  async function failure(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('the run did not fail');
  }
  /** Runs the flows queued on the idle runtime until the scan ends. */
  async function endOnIdle(scanId: string) {
    const idleWorkers = await startScanWorkers(idle, { concurrency: 2 });
    return waitForScanEnd(db.store, scanId).finally(() => idleWorkers.close());
  }

  it('keeps its scan open while attempts are left, and the next attempt queues it', async () => {
    const scanId = jobIds.scheduledScan('sched-flaky');
    const error = await failure(runScheduledScan(on(runtime, down), attempt('sched-flaky', 1, 3)));
    expect(error.message).to.match(/closed/i);
    const open = (await db.store.getScan(scanId))!;
    expect(open.status).to.equal('running');
    expect(open.errors).to.deep.equal([]);
    expect(await runtime.queue.getJob(jobIds.finalize(scanId))).to.equal(undefined);

    expect(await runScheduledScan(on(runtime), attempt('sched-flaky', 2, 3))).to.deep.equal({ scanId });
    // Its jobs judge by the clock the first attempt recorded.
    const source = (await runtime.queue.getJob(jobIds.source(scanId, 'edge-bulk')))!;
    expect(source.data.judgedAt).to.equal(open.judgedAt);
    const scan = await waitForScanEnd(db.store, scanId);
    expect(scan.status, scan.errors.join('\n')).to.equal('completed');
    expect(scan.objectsEvaluated).to.equal(world.objects);
  });

  it('returns the scan whose flow an earlier attempt queued, and queues nothing again', async () => {
    const scanId = jobIds.scheduledScan('sched-queued');
    expect(await runScheduledScan(on(idle), attempt('sched-queued', 1, 3))).to.deep.equal({ scanId });
    const events = `${idle.queueSettings.prefix}:scan:events`;
    const before = await idle.redis.xlen(events);
    expect(before).to.be.greaterThan(0);
    expect(await runScheduledScan(on(idle), attempt('sched-queued', 2, 3))).to.deep.equal({ scanId });
    // Adding the flow again would log a "duplicated" event per job already there.
    expect(await idle.redis.xlen(events)).to.equal(before);
    const scan = await endOnIdle(scanId);
    expect(scan.status, scan.errors.join('\n')).to.equal('completed');
  });

  it('closes its scan as failed, with the reason, on the last attempt', async () => {
    const scanId = jobIds.scheduledScan('sched-doomed');
    const error = await failure(runScheduledScan(on(runtime, down), attempt('sched-doomed', 3, 3)));
    const scan = (await db.store.getScan(scanId))!;
    expect(scan.status).to.equal('failed');
    expect(scan.errors).to.deep.equal([`the scan could not be queued: ${error.message}`]);
    // Closed, it no longer blocks the source: the next run starts a scan.
    const next = await runScheduledScan(on(runtime), attempt('sched-after-doomed', 1, 3));
    expect(next).to.deep.equal({ scanId: jobIds.scheduledScan('sched-after-doomed') });
    expect((await waitForScanEnd(db.store, next.scanId!)).status).to.equal('completed');
  });

  it('does not take a scan older than abandonedAfterHours for abandoned while its jobs are queued', async () => {
    // A slow scan: started 25 h ago, its flow still queued.
    await recordBulkScan(world, db.store, { id: 'scan-slow', trigger: 'api', startedHoursAgo: 25 });
    await startScan(db.store, idle.flows, {
      sources: ['edge-bulk'],
      trigger: 'api',
      scanId: 'scan-slow',
      now: world.now,
      jobOptions: scanJobOptions(idle.config.queue),
    });
    expect(await runScheduledScan(on(idle), attempt('sched-beside-slow', 1, 3))).to.deep.equal({
      skipped: 'scan scan-slow of edge-bulk is still running',
    });
    expect(await db.store.getScan(jobIds.scheduledScan('sched-beside-slow'))).to.equal(null);
    const slow = await endOnIdle('scan-slow');
    expect(slow.status, slow.errors.join('\n')).to.equal('completed');
  });

  it('after failing for good, closes the scan it recorded when it never queued the flow, and only then', async () => {
    // The last attempt failed before it could queue the flow or close the scan (say, the store failed).
    const unqueued = jobIds.scheduledScan('sched-failed');
    await recordBulkScan(world, db.store, { id: unqueued, trigger: 'schedule' });
    expect(await closeScanOfFailedRun(on(runtime), 'sched-failed', 'Connection is closed.')).to.equal(true);
    const closed = (await db.store.getScan(unqueued))!;
    expect(closed.status).to.equal('failed');
    expect(closed.errors).to.deep.equal(['the scheduled run failed: Connection is closed.']);
    // Ended already, or never recorded: nothing to close.
    expect(await closeScanOfFailedRun(on(runtime), 'sched-failed', 'again')).to.equal(false);
    expect((await db.store.getScan(unqueued))!.errors).to.have.length(1);
    expect(await closeScanOfFailedRun(on(runtime), 'sched-never', 'no scan')).to.equal(false);

    // A run that queued its flow and failed afterwards leaves its scan to the flow.
    const queued = jobIds.scheduledScan('sched-failed-late');
    expect(await runScheduledScan(on(idle), attempt('sched-failed-late', 1, 1))).to.deep.equal({
      scanId: queued,
    });
    expect(await closeScanOfFailedRun(on(idle), 'sched-failed-late', 'late')).to.equal(false);
    const scan = await endOnIdle(queued);
    expect(scan.status, scan.errors.join('\n')).to.equal('completed');
  });
});
