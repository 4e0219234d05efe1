/**
 * The first scan of a large bucket, before any key of it is known, is cut into key ranges at the
 * bucket's folders: the ranges together read every object once, end in the findings of a one-shard
 * scan, and let two worker processes share the first scan.
 */
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/database.js';
import {
  BULK_BUCKET,
  BULK_ENV,
  bucketJobsPerWorker,
  fingerprint,
  queueBulkScan,
  startBulkWorld,
  waitForScanEnd,
  type BulkWorld,
} from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { startWorkerProcess, type WorkerProcess } from '../../helpers/worker-process.js';

const OBJECTS = 240;
const CAMERAS = 4;
/** Pages of 20 keys, so the bucket holds more than a page: large enough to cut. */
const SMALL_PAGES = 'scan: { listPageSize: 20 }';

describe('first scans cut at folders', function () {
  this.timeout(180_000);
  let world: BulkWorld;
  let reference: string[];
  let db: TestStore;

  before(async () => {
    // Camera folders with the images directly in them (s3rver's delimiter listing reports a folder
    // only when objects sit directly in it; S3 and MinIO report every folder).
    world = await startBulkWorld(
      OBJECTS,
      (i) => `cam-${String(i % CAMERAS).padStart(2, '0')}/${String(i).padStart(5, '0')}.jpg`,
    );
    const ref = await openTestStore('postgres');
    const { config } = await world.config({ source: '\n    firstScanShards: 1', top: SMALL_PAGES });
    const runtime = await openTestRuntime(config, ref.store);
    const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
    expect(outcome.scan.buckets.map((b) => b.shard)).to.deep.equal([0]);
    reference = fingerprint(outcome.findings);
    expect(reference.length).to.equal(OBJECTS / 3);
    await runtime.dispose();
    await ref.cleanup();
  });
  after(async () => world?.close());
  beforeEach(async () => {
    db = await openTestStore('postgres');
    world.stack.gateway.resetCounts();
  });
  afterEach(async () => {
    world.stack.gateway.setFaults({ failRate: 0 });
    await db?.cleanup();
  });

  it('reads every object once in ranges that begin at the folders, and learns the keys for the next scan', async () => {
    const { config } = await world.config({ top: SMALL_PAGES });
    const runtime = await openTestRuntime(config, db.store);
    try {
      const first = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(first.scan.status, first.scan.errors.join('\n')).to.equal('completed');
      expect(first.scan.buckets.map((b) => [b.shard, b.listed])).to.deep.equal([
        [0, 60],
        [1, 60],
        [2, 60],
        [3, 60],
      ]);
      expect(first.scan.objectsEvaluated).to.equal(OBJECTS);
      expect(fingerprint(first.findings)).to.deep.equal(reference);
      const counts = world.stack.gateway.counts();
      expect(counts.signedGets).to.equal(OBJECTS);
      // Listings: the anonymous probe's and discovery's first page; the folders of the root and of
      // the four camera folders; three pages of 20 per range, and one page past the end of each of
      // the first three.
      expect(counts.byBucket[BULK_BUCKET]!['list-objects']).to.equal(2 + 5 + 4 * 3 + 3);

      // The next scan knows the keys: one shard (fewer than shardSize), and no object is read again.
      world.stack.gateway.resetCounts();
      const second = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(second.scan.status).to.equal('completed');
      expect(second.scan.buckets.map((b) => b.shard)).to.deep.equal([0]);
      expect(world.stack.gateway.counts()).to.include({ signedGets: 0, 'head-object': 0 });
      expect(fingerprint(second.findings)).to.deep.equal(reference);
    } finally {
      await runtime.dispose();
    }
  });

  it('does not cut a bucket that one listing page holds', async () => {
    const { config } = await world.config();
    const runtime = await openTestRuntime(config, db.store);
    try {
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(outcome.scan.buckets.map((b) => [b.shard, b.listed])).to.deep.equal([[0, OBJECTS]]);
      expect(fingerprint(outcome.findings)).to.deep.equal(reference);
    } finally {
      await runtime.dispose();
    }
  });

  it('scans the bucket as one shard, with a note, when its folders cannot be listed', async () => {
    world.stack.gateway.setFaults({ failRate: 0, failFolderListings: true });
    const { config } = await world.config({
      top: 'scan: { listPageSize: 20, requestRetries: 1, retryMinMs: 1, retryMaxMs: 5 }',
    });
    const runtime = await openTestRuntime(config, db.store);
    try {
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal('completed');
      expect(outcome.scan.buckets.map((b) => [b.shard, b.listed])).to.deep.equal([[0, OBJECTS]]);
      expect(outcome.scan.notes.filter((n) => n.includes('could not list its folders'))).to.have.length(1);
      const counts = world.stack.gateway.counts();
      // The root's folder listing, tried twice (requestRetries 1), and nothing after it.
      expect(counts.injectedFaults).to.equal(2);
      expect(counts.signedGets).to.equal(OBJECTS);
      expect(fingerprint(outcome.findings)).to.deep.equal(reference);
    } finally {
      await runtime.dispose();
    }
  });

  it('lets two worker processes share the first scan of a bucket', async () => {
    let workers: WorkerProcess[] = [];
    // A slow source (80 requests/s), so both processes get ranges before the first finishes.
    const { path, config } = await world.config({
      source: '\n    requestsPerSecond: 80',
      top: SMALL_PAGES,
      schema: db.reopenOptions!.schema!,
    });
    const runtime = await openTestRuntime(config, db.store, world.prefix);
    try {
      const env = { ...BULK_ENV, DATABASE_URL: TEST_DATABASE_URL };
      workers = [startWorkerProcess(path, env), startWorkerProcess(path, env)];
      await Promise.all(workers.map((w) => w.ready));
      const scanId = await queueBulkScan(world, db.store, runtime);
      const scan = await waitForScanEnd(db.store, scanId);
      expect(scan.status, scan.errors.join('\n')).to.equal('completed');
      expect(scan.buckets).to.have.length(CAMERAS);
      const bucketJobs = bucketJobsPerWorker(workers, scanId);
      expect(
        bucketJobs.every((n) => n > 0),
        `bucket jobs per worker: ${bucketJobs.join(', ')}`,
      ).to.equal(true);
      expect(world.stack.gateway.counts().signedGets).to.equal(OBJECTS);
      expect(fingerprint(await db.store.findingsOfScan(scanId))).to.deep.equal(reference);
      expect((await db.store.listFindings({ limit: 1000 })).items.length).to.equal(reference.length);
    } finally {
      for (const worker of workers) await worker.kill('SIGKILL');
      await runtime.dispose();
    }
  });
});
