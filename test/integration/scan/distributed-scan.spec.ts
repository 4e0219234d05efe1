/**
 * Scans as distributed work: key-range shards learned from the last scan, a source job that runs
 * again, and two worker processes sharing one scan. The end state must equal a clean scan's, with no
 * duplicate findings. Lost workers and failing servers are in scan-faults.spec.ts.
 */
import { expect } from 'chai';
import { jobIds } from '../../../core/queue/jobs.js';
import { runScan } from '../../../bin/commands/scan.command.js';
import type { DiscoveryResult } from '../../../core/scan/source-discovery.js';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/database.js';
import {
  BULK_BUCKET,
  BULK_ENV,
  bucketJobsPerWorker,
  bulkKey,
  fingerprint,
  queueBulkScan,
  startBulkWorld,
  waitForScanEnd,
  type BulkWorld,
} from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { startWorkerProcess, type WorkerProcess } from '../../helpers/worker-process.js';

const OBJECTS = 240;

describe('distributed scans', function () {
  this.timeout(180_000);
  let world: BulkWorld;
  let reference: string[];

  before(async () => {
    world = await startBulkWorld(OBJECTS);
    // The reference: a clean, uninterrupted scan in its own schema.
    const db = await openTestStore('postgres');
    const { config } = await world.config();
    const runtime = await openTestRuntime(config, db.store);
    const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
    expect(outcome.scan.status).to.equal('completed');
    reference = fingerprint(outcome.findings);
    expect(reference.length).to.equal(OBJECTS / 3);
    await runtime.dispose();
    await db.cleanup();
  });

  after(async () => world?.close());

  describe('key-range shards', () => {
    let db: TestStore;
    before(async () => (db = await openTestStore('postgres')));
    after(async () => db?.cleanup());

    it('splits a known bucket into shards of shardSize keys and aggregates them into one result', async () => {
      const { config } = await world.config({ source: '\n    shardSize: 100' });
      const runtime = await openTestRuntime(config, db.store);
      try {
        const first = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
        expect(first.scan.buckets.map((b) => b.shard)).to.deep.equal([0]);
        const second = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
        expect(second.scan.status).to.equal('completed');
        expect(second.scan.buckets.map((b) => b.shard)).to.deep.equal([0, 1, 2]);
        expect(second.scan.buckets.map((b) => b.listed)).to.deep.equal([100, 100, 40]);
        expect(second.scan.objectsListed).to.equal(OBJECTS);
        expect(second.scan.objectsEvaluated).to.equal(OBJECTS);
        expect(fingerprint(second.findings)).to.deep.equal(reference);
        expect((await db.store.listFindings({ limit: 1000 })).items.length).to.equal(reference.length);
      } finally {
        await runtime.dispose();
      }
    });
  });

  describe('a source job that runs again after saving its plan', () => {
    let db: TestStore;
    let runtime: Awaited<ReturnType<typeof openTestRuntime>>;
    beforeEach(async () => {
      db = await openTestStore('postgres');
      runtime = await openTestRuntime((await world.config()).config, db.store);
    });
    afterEach(async () => {
      await runtime?.dispose();
      await db?.cleanup();
    });

    /**
     * Queues a scan whose source job looks as if a worker had saved this plan and died before or
     * while adding its children: two shards cut at a key a fresh discovery of this small bucket
     * would never cut at (it plans one shard). Returns the scan id and the source job.
     */
    async function scanWithSavedPlan(cut: string) {
      const scanId = await queueBulkScan(world, db.store, runtime);
      const job = (await runtime.queue.getJob(jobIds.source(scanId, 'edge-bulk')))!;
      const discovery: DiscoveryResult = {
        buckets: [
          {
            bucket: BULK_BUCKET,
            declared: true,
            testLike: false,
            testWords: [],
            shards: [
              { startAfter: null, endAt: cut },
              { startAfter: cut, endAt: null },
            ],
            anonymousProbes: [],
            lifecycle: { supported: true, expirationDays: [1] },
            versioning: { state: 'unsupported' },
            undetermined: [],
          },
        ],
        listBucketsError: null,
        notes: [],
        errors: [],
      };
      await job.updateData({ ...job.data, step: 'children', discovery });
      return { scanId, job };
    }
    const cut = () => Array.from({ length: OBJECTS }, (_, i) => bulkKey(i)).sort()[49]!;

    it('adds the bucket jobs of the saved plan, not of a new discovery', async () => {
      const { scanId } = await scanWithSavedPlan(cut());
      const workers = await startScanWorkers(runtime, { concurrency: 2 });
      const scan = await waitForScanEnd(db.store, scanId).finally(() => workers.close());
      expect(scan.status, scan.errors.join('\n')).to.equal('completed');
      expect(scan.buckets.map((b) => [b.shard, b.listed])).to.deep.equal([
        [0, 50],
        [1, OBJECTS - 50],
      ]);
      expect(fingerprint(await db.store.findingsOfScan(scanId))).to.deep.equal(reference);
    });

    it('does not add again a bucket job that was added and has failed for good', async () => {
      const { scanId, job } = await scanWithSavedPlan(cut());
      // The first attempt added shard 0, which then failed for good (its source is unknown to the
      // workers) before the source job ran again; LIFO makes the worker take it first.
      await runtime.queue.add(
        'scan-bucket',
        { scanId, sourceId: 'no-such-source', bucket: BULK_BUCKET, shard: 0 },
        {
          jobId: jobIds.bucket(scanId, 'edge-bulk', BULK_BUCKET, 0),
          parent: { id: job.id!, queue: job.queueQualifiedName },
          ignoreDependencyOnFailure: true,
          attempts: 1,
          lifo: true,
        },
      );
      const workers = await startScanWorkers(runtime, { concurrency: 1 });
      // Added again, the failed job would be a dependency once more, and the scan would never end.
      const ended = waitForScanEnd(db.store, scanId);
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error('the scan did not end: its source job waits for a failed job')),
          20_000,
        ),
      );
      const scan = await Promise.race([ended, timeout]).finally(() => workers.close());
      expect(scan.status).to.equal('incomplete');
      expect(scan.errors.join('\n')).to.match(/no-such-source/);
      expect(scan.buckets.map((b) => [b.shard, b.listed])).to.deep.equal([[1, OBJECTS - 50]]);
    });
  });

  describe('worker processes', () => {
    let db: TestStore;
    let workers: WorkerProcess[] = [];
    const env = () => ({ ...BULK_ENV, DATABASE_URL: TEST_DATABASE_URL });

    beforeEach(async () => (db = await openTestStore('postgres')));
    afterEach(async () => {
      for (const worker of workers) await worker.kill('SIGKILL');
      workers = [];
      world.stack.gateway.setFaults({ failRate: 0 });
      await db.cleanup();
    });

    /**
     * Learns the bucket's shards (one in-process scan), forgets what was read so both processes do
     * real reads, then runs one scan through two worker processes, each of which must get bucket
     * jobs. `beforeScan` runs once the workers are up. Returns the scan and its findings.
     */
    async function scanWithTwoWorkers(source: string, beforeScan = (): void => undefined) {
      const { path, config } = await world.config({
        source,
        top: 'queue: { lockDurationMs: 5000, stalledIntervalMs: 1000 }',
        schema: db.reopenOptions!.schema!,
      });
      const runtime = await openTestRuntime(config, db.store, world.prefix);
      try {
        await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
        await db.db.exec("UPDATE objects SET etag = 'forgotten'");
        workers = [startWorkerProcess(path, env()), startWorkerProcess(path, env())];
        await Promise.all(workers.map((w) => w.ready));
        beforeScan();
        const scanId = await queueBulkScan(world, db.store, runtime);
        const scan = await waitForScanEnd(db.store, scanId);
        expect(scan.status, scan.errors.join('\n')).to.equal('completed');
        const bucketJobs = bucketJobsPerWorker(workers, scanId);
        expect(
          bucketJobs.every((n) => n > 0),
          `bucket jobs per worker: ${bucketJobs.join(', ')}`,
        ).to.equal(true);
        return { scan, findings: await db.store.findingsOfScan(scanId) };
      } finally {
        await runtime.dispose();
      }
    }

    it('lets two worker processes share one scan: each object listed and read once, the findings of a clean scan', async () => {
      // A slow source (80 requests/s) and shards of 100 keys, so both processes get bucket work.
      const { scan, findings } = await scanWithTwoWorkers(
        '\n    shardSize: 100\n    requestsPerSecond: 80',
        () => world.stack.gateway.resetCounts(),
      );
      // No work done twice: shards that overlapped, or a job run by both processes, would list and
      // read some objects twice. (The store cannot hold a finding twice: its identity is unique.)
      expect(world.stack.gateway.counts().servedSignedGets).to.equal(OBJECTS);
      expect([scan.objectsListed, scan.objectsEvaluated]).to.deep.equal([OBJECTS, OBJECTS]);
      expect(scan.buckets.reduce((n, b) => n + b.listed, 0)).to.equal(OBJECTS);
      expect(fingerprint(findings)).to.deep.equal(reference);
      expect((await db.store.listFindings({ limit: 1000 })).items.length).to.equal(reference.length);
    });

    it('keeps a source’s concurrency one budget for both processes, not one each', async () => {
      // A slow link (each GET takes 25 ms more), a budget of 3 reads in flight, and shards of 100 keys
      // so both processes read the bucket at the same time.
      const { findings } = await scanWithTwoWorkers('\n    shardSize: 100\n    concurrency: 3', () => {
        world.stack.gateway.setFaults({ failRate: 0, delayMs: 25 });
        world.stack.gateway.resetCounts();
      });
      const counts = world.stack.gateway.counts();
      expect(counts.servedSignedGets).to.equal(OBJECTS);
      // One process alone keeps 3 in flight; two with a budget each would reach 6.
      expect(counts.peakGetsInFlight[BULK_BUCKET]).to.equal(3);
      expect(fingerprint(findings)).to.deep.equal(reference);
    });
  });
});
