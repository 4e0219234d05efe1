/**
 * Schedules per source as BullMQ job schedulers: they follow the config (added, changed, removed),
 * show their next run, and runs missed while no worker was up collapse into one catch-up run.
 */
import { expect } from 'chai';
import { Worker } from 'bullmq';
import { parseConfig, type Config } from '../../../config/load.js';
import { listSchedules, syncSchedules } from '../../../workers/schedules.js';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import { jobIds, SCAN_QUEUE } from '../../../core/queue/jobs.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import {
  BULK_ENV,
  recordBulkScan,
  startBulkWorld,
  waitForScanEnd,
  type BulkWorld,
} from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

type TestRuntime = Awaited<ReturnType<typeof openTestRuntime>>;

const source = (id: string, schedule: string) => `
  - id: ${id}
    role: edge
    endpoint: http://127.0.0.1:9
    accessKeyEnv: CAM_ACCESS_KEY
    secretKeyEnv: CAM_SECRET_KEY
    buckets: [camera]
    schedule: ${schedule}`;

describe('scan schedules', function () {
  this.timeout(60_000);
  let db: TestStore;
  before(async () => (db = await openTestStore('postgres')));
  after(async () => db?.cleanup());

  it('register, update and disappear with the config, and show the next run', async () => {
    const configA = parseConfig(
      `sources:${source('edge-a', '{ every: 1h }')}${source('edge-b', "{ cron: '0 3 * * *' }")}${source('edge-c', '{ every: 30m }')}`,
      '/a.yaml',
      BULK_ENV,
    );
    const runtime = await openTestRuntime(configA, db.store);
    try {
      const before = Date.now();
      expect(await syncSchedules(runtime.queue, runtime.redis, configA)).to.deep.equal({
        upserted: ['edge-a', 'edge-b', 'edge-c'],
        unchanged: [],
        removed: [],
        repaired: [],
      });
      // Syncing the same config again touches nothing.
      expect(await syncSchedules(runtime.queue, runtime.redis, configA)).to.deep.equal({
        upserted: [],
        unchanged: ['edge-a', 'edge-b', 'edge-c'],
        removed: [],
        repaired: [],
      });
      // Scheduled runs retry as the config's queue says: a new retry policy updates the schedulers,
      // except one whose pending run is due (BullMQ runs an `every` scheduler's first job at once):
      // replacing it would drop that run, so it keeps its options until a later sync.
      const configA2 = parseConfig(
        `sources:${source('edge-a', '{ every: 1h }')}${source('edge-b', "{ cron: '0 3 * * *' }")}${source('edge-c', '{ every: 30m }')}
queue: { attempts: 2, backoffMs: 200 }`,
        '/a2.yaml',
        BULK_ENV,
      );
      expect(await syncSchedules(runtime.queue, runtime.redis, configA2)).to.deep.equal({
        upserted: ['edge-b'],
        unchanged: ['edge-a', 'edge-c'],
        removed: [],
        repaired: [],
      });
      const retries = async () =>
        Object.fromEntries(
          (await runtime.queue.getJobSchedulers(0, -1)).map((s) => [s.key, s.template?.opts?.attempts]),
        );
      expect(await retries()).to.deep.equal({
        'schedule-edge-a': 5,
        'schedule-edge-b': 2,
        'schedule-edge-c': 5,
      });
      // Once a worker has taken the due runs (one that only takes them, here), their next runs lie
      // ahead, and the next sync gives those schedulers the new options too.
      const takerConnection = runtime.redis.duplicate({ maxRetriesPerRequest: null });
      const taker = new Worker(SCAN_QUEUE, async () => undefined, {
        connection: takerConnection,
        prefix: runtime.queueSettings.prefix,
      });
      try {
        for (;;) {
          const due = (await runtime.queue.getJobSchedulers(0, -1)).filter((s) => s.next! <= Date.now());
          if (due.length === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await taker.close();
        takerConnection.disconnect();
      }
      expect(await syncSchedules(runtime.queue, runtime.redis, configA2)).to.deep.equal({
        upserted: ['edge-a', 'edge-c'],
        unchanged: ['edge-b'],
        removed: [],
        repaired: [],
      });
      expect(await retries()).to.deep.equal({
        'schedule-edge-a': 2,
        'schedule-edge-b': 2,
        'schedule-edge-c': 2,
      });
      await syncSchedules(runtime.queue, runtime.redis, configA);
      let views = await listSchedules(runtime.queue, configA);
      expect(views.map((v) => [v.sourceId, v.every, v.cron])).to.deep.equal([
        ['edge-a', '1h', null],
        ['edge-b', null, '0 3 * * *'],
        ['edge-c', '30m', null],
      ]);
      const nextA = Date.parse(views[0]!.nextRun!);
      expect(nextA).to.be.within(before, before + 3_600_000 + 1000);
      const nextB = new Date(views[1]!.nextRun!);
      // 03:00 in Europe/Amsterdam is 01:00 or 02:00 UTC.
      expect([1, 2]).to.include(nextB.getUTCHours());
      expect(views[1]!.timezone).to.equal('Europe/Amsterdam');

      const configB = parseConfig(
        `sources:${source('edge-a', "{ cron: '*/15 * * * *' }")}${source('edge-c', '{ every: 30m }')}${source('edge-d', '{ every: 2h }')}`,
        '/b.yaml',
        BULK_ENV,
      );
      const changes = await syncSchedules(runtime.queue, runtime.redis, configB);
      expect(changes.removed).to.deep.equal(['edge-b']);
      expect(changes.upserted).to.deep.equal(['edge-a', 'edge-d']);
      expect(changes.unchanged).to.deep.equal(['edge-c']);
      const schedulers = await runtime.queue.getJobSchedulers(0, -1);
      expect(schedulers.map((s) => s.key).sort()).to.deep.equal([
        'schedule-edge-a',
        'schedule-edge-c',
        'schedule-edge-d',
      ]);
      expect(schedulers.find((s) => s.key === 'schedule-edge-a')!.pattern).to.equal('*/15 * * * *');
      views = await listSchedules(runtime.queue, configB);
      expect(views.every((v) => v.nextRun !== null)).to.equal(true);

      const configC = parseConfig(
        `sources:${source('edge-a', '{ every: 1h }').replace(/\n\s+schedule:.*$/, '')}`,
        '/c.yaml',
        BULK_ENV,
      );
      expect((await syncSchedules(runtime.queue, runtime.redis, configC)).removed.sort()).to.deep.equal([
        'edge-a',
        'edge-c',
        'edge-d',
      ]);
      expect(await runtime.queue.getJobSchedulers(0, -1)).to.deep.equal([]);
      expect((await listSchedules(runtime.queue, configC))[0]!.nextRun).to.equal(null);
    } finally {
      await runtime.dispose();
    }
  });

  /**
   * Registers a per-second cron scheduler for edge-a with `register`, lets its run become overdue
   * (no worker takes it, as while everything is down), syncs the config again (the next start) and
   * checks that the overdue run is still the pending one.
   */
  async function expectOverdueRunKept(register: (runtime: TestRuntime, config: Config) => Promise<unknown>) {
    const config = parseConfig(`sources:${source('edge-a', "{ cron: '* * * * * *' }")}`, '/a.yaml', BULK_ENV);
    const runtime = await openTestRuntime(config, db.store);
    try {
      await register(runtime, config);
      const [scheduled] = await runtime.queue.getJobSchedulers(0, -1);
      await new Promise((r) => setTimeout(r, Math.max(0, scheduled!.next! - Date.now()) + 1200));
      expect(await syncSchedules(runtime.queue, runtime.redis, config)).to.deep.include({
        upserted: [],
        unchanged: ['edge-a'],
      });
      const [after] = await runtime.queue.getJobSchedulers(0, -1);
      expect(after!.next).to.equal(scheduled!.next);
      expect(after!.next!).to.be.below(Date.now());
      const pending = await runtime.queue.getJobs(['delayed', 'waiting', 'prioritized']);
      expect(pending.map((j) => j.name)).to.deep.equal(['scheduled-scan']);
    } finally {
      await runtime.queue.removeJobScheduler('schedule-edge-a');
      await runtime.dispose();
    }
  }

  it('keeps a cron run that is overdue when the same config is synced again (a restart)', () =>
    expectOverdueRunKept((runtime, config) => syncSchedules(runtime.queue, runtime.redis, config)));

  it('keeps an overdue cron run when only its job options differ (after an upgrade)', () =>
    // As an earlier version registered it: 3 attempts and a 5 s backoff, where the config says 5 and 1 s.
    expectOverdueRunKept((runtime) =>
      runtime.queue.upsertJobScheduler(
        'schedule-edge-a',
        { pattern: '* * * * * *', tz: 'Europe/Amsterdam' },
        {
          name: 'scheduled-scan',
          data: { sourceId: 'edge-a' },
          opts: {
            attempts: 3,
            backoff: { type: 'exponential', delay: 5000 },
            removeOnComplete: 100,
            removeOnFail: 500,
          },
        },
      ),
    ));

  describe('with a real source', () => {
    let world: BulkWorld;
    before(async () => (world = await startBulkWorld(6)));
    after(async () => world?.close());

    describe('a scheduled run', () => {
      // A store of its own: the other tests leave scans of the source behind.
      let db: TestStore;
      let runtime: Awaited<ReturnType<typeof openTestRuntime>>;
      let workers: Awaited<ReturnType<typeof startScanWorkers>>;
      before(async () => {
        db = await openTestStore('postgres');
        const { config } = await world.config();
        runtime = await openTestRuntime(config, db.store);
        workers = await startScanWorkers(runtime, { concurrency: 2 });
      });
      after(async () => {
        await workers?.close();
        await runtime?.dispose();
        await db?.cleanup();
      });

      /** Adds a scheduled-scan job under `jobId` and returns what it returned. */
      async function run(jobId: string): Promise<{ scanId?: string; skipped?: string }> {
        await runtime.queue.add('scheduled-scan', { sourceId: 'edge-bulk' }, { jobId });
        for (;;) {
          const job = (await runtime.queue.getJob(jobId))!;
          const state = await job.getState();
          if (state === 'completed') return job.returnvalue as { scanId?: string; skipped?: string };
          if (state === 'failed') throw new Error(`${jobId} failed: ${job.failedReason}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const startedHoursAgo = (id: string, hours: number) =>
        recordBulkScan(world, db.store, { id, trigger: 'api', startedHoursAgo: hours });

      it('is skipped while a scan of its source runs, and closes one running beyond abandonedAfterHours', async () => {
        await startedHoursAgo('scan-busy', 1);
        expect((await run('sched-busy')).skipped).to.equal('scan scan-busy of edge-bulk is still running');
        expect(await db.store.getScan(jobIds.scheduledScan('sched-busy'))).to.equal(null);
        await db.store.finishScan('scan-busy', 'completed', new Date());

        await startedHoursAgo('scan-lost', 25);
        const { scanId } = await run('sched-after-lost');
        expect(scanId).to.equal(jobIds.scheduledScan('sched-after-lost'));
        const lost = (await db.store.getScan('scan-lost'))!;
        expect(lost.status).to.equal('failed');
        expect(lost.errors).to.deep.equal([
          'abandoned: still running after 24 h, with no queued job left to end it',
        ]);
        expect((await waitForScanEnd(db.store, scanId!)).status).to.equal('completed');
      });

      it('queues the flow of the scan it recorded before it stopped, when it runs again', async () => {
        // As if the first attempt of the run died between recording its scan and queueing its flow.
        const scanId = jobIds.scheduledScan('sched-crashed');
        await recordBulkScan(world, db.store, { id: scanId, trigger: 'schedule' });
        expect(await run('sched-crashed')).to.deep.equal({ scanId });
        const scan = await waitForScanEnd(db.store, scanId);
        expect(scan.status, scan.errors.join('\n')).to.equal('completed');
        expect(scan.objectsEvaluated).to.equal(world.objects);
        // A run whose scan has ended starts nothing more.
        await runtime.queue.remove('sched-crashed');
        expect((await run('sched-crashed')).skipped).to.equal(`scan ${scanId} of this run has ended`);
      });
    });

    it('collapses runs missed while no worker was up into one catch-up run', async () => {
      const { config } = await world.config({ source: '\n    schedule: { every: 1s }' });
      const runtime = await openTestRuntime(config, db.store);
      try {
        await syncSchedules(runtime.queue, runtime.redis, config);
        // Three periods pass with no worker at all.
        await new Promise((r) => setTimeout(r, 3500));
        const pending = (await runtime.queue.getJobs(['delayed', 'waiting', 'prioritized'])).filter(
          (j) => j.name === 'scheduled-scan',
        );
        expect(pending.length).to.equal(1);
        const started = Date.now();
        const workers = await startScanWorkers(runtime, { concurrency: 2 });
        await new Promise((r) => setTimeout(r, 600));
        await runtime.queue.removeJobScheduler('schedule-edge-bulk');
        await workers.close();
        const scans = (await db.store.listScans({ source: 'edge-bulk' })).filter(
          (s) => Date.parse(s.startedAt) >= started - 1000,
        );
        // One catch-up run (plus at most the regular run of the current period), not one per missed period.
        expect(scans.length).to.be.within(1, 2);
        expect(scans.every((s) => s.trigger === 'schedule')).to.equal(true);
      } finally {
        await runtime.dispose();
      }
    });
  });
});
