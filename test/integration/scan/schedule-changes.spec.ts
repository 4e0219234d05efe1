/**
 * Schedules changed or removed while runs are pending: a removed schedule starts no more scans, a
 * cron changed while everything was down still gets its one catch-up run, and a scheduled run's
 * retention leaves the jobs of every other scan alone.
 */
import { expect } from 'chai';
import { Worker, type Job } from 'bullmq';
import { parseConfig, type Config } from '../../../config/load.js';
import { scanJobOptions } from '../../../core/queue/connection.js';
import { SCAN_QUEUE } from '../../../core/queue/jobs.js';
import { listSchedules, repairSchedules, syncSchedules } from '../../../workers/schedules.js';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/database.js';
import { BULK_ENV, startBulkWorld, type BulkWorld } from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { stallSchedule } from '../../helpers/stalled-schedule.js';
import { startWorkerProcess } from '../../helpers/worker-process.js';

type TestRuntime = Awaited<ReturnType<typeof openTestRuntime>>;

const SCHEDULER = 'schedule-edge-bulk';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The scheduled runs not yet taken by a worker. */
async function pendingRuns(runtime: TestRuntime): Promise<Job[]> {
  const jobs = await runtime.queue.getJobs(['wait', 'delayed', 'prioritized']);
  return jobs.filter((j) => j.name === 'scheduled-scan');
}

/** When a job becomes due (ms since the epoch). */
const dueAt = (job: Job) => job.timestamp + (job.delay ?? 0);

/** Waits until `jobId` has completed and returns what it returned. */
async function completed(runtime: TestRuntime, jobId: string): Promise<unknown> {
  for (;;) {
    const job = await runtime.queue.getJob(jobId);
    const state = await job?.getState();
    if (state === 'completed') return job!.returnvalue;
    if (state === 'failed') throw new Error(`${jobId} failed: ${job!.failedReason}`);
    await sleep(50);
  }
}

/** The run time BullMQ encodes in a scheduled run's id (`repeat:<scheduler id>:<ms>`). */
const runTime = (jobId: string) => Number(jobId.split(':').at(-1));

/** A worker that takes scheduled runs and does nothing with them (the scan itself is not the point). */
function idleWorker(runtime: TestRuntime) {
  const connection = runtime.redis.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(SCAN_QUEUE, async () => 'taken', {
    connection,
    prefix: runtime.queueSettings.prefix,
  });
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

/**
 * Syncs `config`, lets an idle worker take and finish the scheduler's first run, then leaves the
 * scheduler as a worker that failed to add the run after it leaves it (BullMQ adds it once a worker
 * has taken a run): recording the finished run, with no run after it in the queue. Returns the
 * finished run's id.
 */
async function runFirstThenLoseNext(runtime: TestRuntime, config: Config): Promise<string> {
  await syncSchedules(runtime.queue, runtime.redis, config);
  const [first] = await pendingRuns(runtime);
  const finished = first!.id!;
  const taker = idleWorker(runtime);
  try {
    await completed(runtime, finished);
  } finally {
    await taker.close();
  }
  const [scheduler] = await runtime.queue.getJobSchedulers(0, -1);
  expect(scheduler!.next, 'BullMQ added the next run').to.be.above(runTime(finished));
  await stallSchedule(
    runtime.queue,
    runtime.redis,
    runtime.queueSettings.prefix,
    SCHEDULER,
    runTime(finished),
  );
  expect((await runtime.queue.getJobSchedulers(0, -1))[0]!.next).to.equal(runTime(finished));
  return finished;
}

describe('schedules changed while runs are pending', function () {
  this.timeout(60_000);
  let world: BulkWorld;
  let db: TestStore;
  let scheduledEveryHour: Config;
  let unscheduled: Config;
  before(async () => {
    world = await startBulkWorld(6);
    db = await openTestStore('postgres');
    scheduledEveryHour = (await world.config({ source: '\n    schedule: { every: 1h }' })).config;
    unscheduled = (await world.config()).config;
  });
  after(async () => {
    await world?.close();
    await db?.cleanup();
  });

  /** A cron once a minute, at the second `secondsAhead` from now (UTC seconds field). */
  const cronConfig = async (secondsAhead: number) => {
    const second = new Date(Date.now() + secondsAhead * 1000).getUTCSeconds();
    return (await world.config({ source: `\n    schedule: { cron: '${second} * * * * *' }` })).config;
  };

  it('removing a schedule takes away its run that is already due', async () => {
    const runtime = await openTestRuntime(scheduledEveryHour, db.store);
    try {
      // An `every` scheduler's first run is due at once: with no worker up, it waits in `wait`,
      // where BullMQ's removeJobScheduler does not look.
      await syncSchedules(runtime.queue, runtime.redis, scheduledEveryHour);
      expect((await pendingRuns(runtime)).length).to.equal(1);
      expect(await syncSchedules(runtime.queue, runtime.redis, unscheduled)).to.deep.include({
        removed: ['edge-bulk'],
      });
      expect(await runtime.queue.getJobSchedulers(0, -1)).to.deep.equal([]);
      expect(await pendingRuns(runtime)).to.deep.equal([]);
    } finally {
      await runtime.dispose();
    }
  });

  it('a run left over from a removed schedule starts no scan, whatever the worker was configured with', async () => {
    const runtime = await openTestRuntime(scheduledEveryHour, db.store);
    try {
      await syncSchedules(runtime.queue, runtime.redis, scheduledEveryHour);
      const [run] = await pendingRuns(runtime);
      // The scheduler alone goes, as an older version's sync (or BullMQ's own call) leaves it.
      await runtime.queue.removeJobScheduler(SCHEDULER);
      // Workers started with the config that still schedules the source.
      const workers = await startScanWorkers(runtime, { concurrency: 2 });
      try {
        expect(await completed(runtime, run!.id!)).to.deep.equal({
          skipped: 'the schedule of edge-bulk has been removed',
        });
      } finally {
        await workers.close();
      }
      expect(await db.store.listScans({ source: 'edge-bulk' })).to.deep.equal([]);
    } finally {
      await runtime.dispose();
    }
  });

  it("a run of a source missing from the worker's configuration starts no scan and says so", async () => {
    const runtime = await openTestRuntime(scheduledEveryHour, db.store);
    const other = parseConfig(
      `sources:\n  - { id: edge-other, role: edge, endpoint: 'http://127.0.0.1:9', accessKeyEnv: CAM_ACCESS_KEY, secretKeyEnv: CAM_SECRET_KEY, buckets: [camera] }`,
      '/other.yaml',
      BULK_ENV,
    );
    // Workers on the same queue, started with a config that does not know the source.
    const stale = await openTestRuntime(other, db.store, runtime.queueSettings.prefix);
    try {
      await syncSchedules(runtime.queue, runtime.redis, scheduledEveryHour);
      const [run] = await pendingRuns(runtime);
      const workers = await startScanWorkers(stale, { concurrency: 2 });
      try {
        expect(await completed(runtime, run!.id!)).to.deep.equal({
          skipped: "source edge-bulk is not in this worker's configuration",
        });
      } finally {
        await workers.close();
      }
      expect(await db.store.listScans({ source: 'edge-bulk' })).to.deep.equal([]);
    } finally {
      await stale.close();
      await runtime.dispose();
    }
  });

  it('a cron changed while everything was down runs once at once, then at its new times', async () => {
    const before = await cronConfig(2);
    const runtime = await openTestRuntime(before, db.store);
    try {
      await syncSchedules(runtime.queue, runtime.redis, before);
      const [scheduler] = await runtime.queue.getJobSchedulers(0, -1);
      // Everything is down past the run's time; then the restart comes with another cron.
      await sleep(scheduler!.next! - Date.now() + 1200);
      const changed = await cronConfig(32);
      const newPattern = changed.sources[0]!.schedule!.cron!;
      expect(await syncSchedules(runtime.queue, runtime.redis, changed)).to.deep.include({
        upserted: ['edge-bulk'],
      });
      const runs = await pendingRuns(runtime);
      expect(runs.length, 'one catch-up run').to.equal(1);
      expect(dueAt(runs[0]!)).to.be.at.most(Date.now());
      const taker = idleWorker(runtime);
      try {
        await completed(runtime, runs[0]!.id!);
      } finally {
        await taker.close();
      }
      // The catch-up run is not part of the schedule: the next one follows the new cron.
      const [after] = await runtime.queue.getJobSchedulers(0, -1);
      expect(after!.pattern).to.equal(newPattern);
      expect(after!.next!).to.be.above(Date.now());
      expect(new Date(after!.next!).getUTCSeconds()).to.equal(Number(newPattern.split(' ')[0]));
    } finally {
      await runtime.dispose();
    }
  });

  it('an interval changed to a cron while everything was down keeps its overdue run', async () => {
    const runtime = await openTestRuntime(scheduledEveryHour, db.store);
    try {
      await syncSchedules(runtime.queue, runtime.redis, scheduledEveryHour);
      await sleep(20);
      const daily = (await world.config({ source: "\n    schedule: { cron: '0 3 * * *' }" })).config;
      expect(await syncSchedules(runtime.queue, runtime.redis, daily)).to.deep.include({
        upserted: ['edge-bulk'],
      });
      const runs = await pendingRuns(runtime);
      expect(runs.length).to.equal(1);
      expect(dueAt(runs[0]!)).to.be.at.most(Date.now());
    } finally {
      await runtime.dispose();
    }
  });

  it('a cron changed ahead of its run moves the run to the new time', async () => {
    const before = await cronConfig(30);
    const runtime = await openTestRuntime(before, db.store);
    try {
      await syncSchedules(runtime.queue, runtime.redis, before);
      const changed = await cronConfig(45);
      await syncSchedules(runtime.queue, runtime.redis, changed);
      const runs = await pendingRuns(runtime);
      expect(runs.length).to.equal(1);
      expect(dueAt(runs[0]!)).to.be.above(Date.now() + 10_000);
    } finally {
      await runtime.dispose();
    }
  });

  it('a finished scheduled run leaves the finished jobs of every scan in the queue', async () => {
    const runtime = await openTestRuntime(scheduledEveryHour, db.store);
    const taker = idleWorker(runtime);
    try {
      // More than the 100 a count limit kept: the jobs of earlier (or running) scans, kept for days.
      for (let i = 0; i < 120; i += 1)
        await runtime.queue.add(
          'scan-bucket',
          { i },
          { ...scanJobOptions(scheduledEveryHour.queue), jobId: `b-${i}` },
        );
      while ((await runtime.queue.getCompletedCount()) < 120) await sleep(50);
      await syncSchedules(runtime.queue, runtime.redis, scheduledEveryHour);
      // The scheduler's first run is due at once; the idle worker may take it (and BullMQ record the
      // next) before we look, so wait for it among the completed jobs.
      while (!(await runtime.queue.getCompleted()).some((j) => j.name === 'scheduled-scan')) await sleep(50);
      const [scheduler] = await runtime.queue.getJobSchedulers(0, -1);
      expect(await runtime.queue.getCompletedCount()).to.equal(121);
      expect(scheduler!.template?.opts).to.deep.include({
        removeOnComplete: scanJobOptions(scheduledEveryHour.queue).removeOnComplete,
        removeOnFail: scanJobOptions(scheduledEveryHour.queue).removeOnFail,
      });
    } finally {
      await taker.close();
      await runtime.dispose();
    }
  });
  /**
   * A schedule every 4 s (a cron, or an interval): its first run is taken and finishes, then the
   * scheduler is left with no run after it. `missed`: the sync comes after the run that should have
   * followed; `gone`: the finished run is removed too, as retention does once it is old.
   */
  async function expectNextRunRestored(
    mode: 'next' | 'missed' | 'gone',
    schedule = "{ cron: '*/4 * * * * *' }",
  ) {
    const config = (await world.config({ source: `\n    schedule: ${schedule}` })).config;
    const runtime = await openTestRuntime(config, db.store);
    try {
      const first = await runFirstThenLoseNext(runtime, config);
      if (mode === 'gone') {
        expect(await runtime.queue.clean(0, 10, 'completed')).to.deep.equal([first]);
      }
      expect((await listSchedules(runtime.queue, config))[0]!.nextRun, 'no next run to show').to.equal(null);
      expect(await pendingRuns(runtime)).to.deep.equal([]);
      if (mode === 'missed') await sleep(runTime(first) + 4500 - Date.now());
      expect(await syncSchedules(runtime.queue, runtime.redis, config)).to.deep.include({
        upserted: ['edge-bulk'],
        repaired: ['edge-bulk'],
      });
      const runs = await pendingRuns(runtime);
      expect(runs.length, 'one next run').to.equal(1);
      if (mode === 'missed') {
        expect(dueAt(runs[0]!), 'a catch-up run, at once').to.be.at.most(Date.now());
      } else {
        expect(dueAt(runs[0]!), 'the run after the finished one').to.equal(runTime(first) + 4000);
      }
      const [view] = await listSchedules(runtime.queue, config);
      expect(view!.nextRun).to.equal(new Date(runTime(runs[0]!.id!)).toISOString());
    } finally {
      await runtime.dispose();
    }
  }

  it('a schedule left with no run after a finished one gets its next run at the next sync', () =>
    expectNextRunRestored('next'));

  it('a schedule left with no run after a finished one, past its next time, runs once at once', () =>
    expectNextRunRestored('missed'));

  it('an interval left with no run after a finished one, past its next time, runs once at once', () =>
    expectNextRunRestored('missed', '{ every: 4s }'));

  it('a schedule whose finished run is gone too (retention) gets the run after it', () =>
    expectNextRunRestored('gone'));
  it('repairs only what it is sure of, keeps the options it found, and waits for no one', async () => {
    const cron = "\n    schedule: { cron: '*/4 * * * * *' }";
    // Registered by a process whose config retries twice; the repairing process's config says 5.
    const registering = (await world.config({ source: cron, top: 'queue: { attempts: 2, backoffMs: 200 }' }))
      .config;
    const config = (await world.config({ source: cron })).config;
    const runtime = await openTestRuntime(config, db.store);
    try {
      const first = await runFirstThenLoseNext(runtime, registering);
      // A process still on a config with another timing (a rolling change) leaves the scheduler be.
      const otherTiming = (await world.config({ source: "\n    schedule: { cron: '*/5 * * * * *' }" }))
        .config;
      expect(await repairSchedules(runtime.queue, runtime.redis, otherTiming)).to.deep.equal([]);
      expect(await pendingRuns(runtime)).to.deep.equal([]);
      // While another process syncs or repairs (its lock held), a repair does nothing and a sync waits.
      const lock = `${runtime.queueSettings.prefix}:${SCAN_QUEUE}-schedules-lock`;
      await runtime.redis.set(lock, 'another process', 'PX', 5000);
      expect(await repairSchedules(runtime.queue, runtime.redis, config)).to.equal(null);
      expect(await pendingRuns(runtime)).to.deep.equal([]);
      await runtime.redis.del(lock);
      expect(await repairSchedules(runtime.queue, runtime.redis, config)).to.deep.equal(['edge-bulk']);
      const runs = await pendingRuns(runtime);
      expect(runs.map(dueAt)).to.deep.equal([runTime(first) + 4000]);
      const [repaired] = await runtime.queue.getJobSchedulers(0, -1);
      expect(repaired!.template?.opts?.attempts, 'the options it found').to.equal(2);
      // Once repaired, nothing is left to repair, and the lock is released.
      expect(await repairSchedules(runtime.queue, runtime.redis, config)).to.deep.equal([]);
      expect(await runtime.redis.exists(lock)).to.equal(0);
      await runtime.redis.set(lock, 'another process', 'PX', 5000);
      const started = Date.now();
      setTimeout(() => void runtime.redis.del(lock), 300);
      await syncSchedules(runtime.queue, runtime.redis, config);
      expect(Date.now() - started, 'the sync waited for the lock').to.be.at.least(250);
    } finally {
      await runtime.dispose();
    }
  });

  it('an `anpr-audit worker` process repairs such a schedule by itself, with no API process up', async () => {
    // Far ahead, so the worker takes no run meanwhile: the repair is the only thing it can do here.
    const { path, config } = await world.config({
      source: "\n    schedule: { cron: '0 3 1 1 *' }",
      top: 'queue: { scheduleRepairSeconds: 0.2 }',
      schema: db.reopenOptions!.schema!,
    });
    // The worker's prefix: the config's, not one of the test's own.
    const runtime = await openTestRuntime(config, db.store, world.prefix);
    const worker = startWorkerProcess(path, { ...BULK_ENV, DATABASE_URL: TEST_DATABASE_URL });
    try {
      await syncSchedules(runtime.queue, runtime.redis, config);
      const nextRun = async () => (await listSchedules(runtime.queue, config))[0]!.nextRun;
      const planned = await nextRun();
      expect(planned).to.be.a('string');
      await worker.ready;
      await stallSchedule(
        runtime.queue,
        runtime.redis,
        runtime.queueSettings.prefix,
        SCHEDULER,
        Date.now() - 60_000,
      );
      const deadline = Date.now() + 10_000;
      // The log line comes after the lock's release (and, from a child process, through a pipe).
      const repairLogged = () => worker.log().includes('schedules had no run to come');
      while (((await nextRun()) === null || !repairLogged()) && Date.now() < deadline) await sleep(50);
      expect(await nextRun(), 'the run after the last one, as planned').to.equal(planned);
      expect(worker.log()).to.include('schedules had no run to come');
    } finally {
      await worker.kill();
      await runtime.dispose();
    }
  });
});
