/**
 * Scans that lose a worker or meet a failing server: a worker SIGKILLed mid-bucket resumes from its
 * checkpoint, and an S3 server that fails requests ends in a complete scan through retries or an
 * `incomplete` one naming what failed, never a `completed` scan with objects missing.
 */
import { expect } from 'chai';
import { jobIds, type ScanBucketData } from '../../../core/queue/jobs.js';
import { runScan } from '../../../bin/commands/scan.command.js';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/database.js';
import {
  BULK_BUCKET,
  BULK_ENV,
  bulkKey,
  fingerprint,
  queueBulkScan,
  startBulkWorld,
  waitForScanEnd,
  type BulkWorld,
} from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { startWorkerProcess } from '../../helpers/worker-process.js';

const OBJECTS = 240;

describe('scans that lose a worker or meet a failing server', function () {
  this.timeout(180_000);
  let world: BulkWorld;
  let reference: string[];
  let db: TestStore;
  const env = () => ({ ...BULK_ENV, DATABASE_URL: TEST_DATABASE_URL });

  before(async () => {
    world = await startBulkWorld(OBJECTS);
    const ref = await openTestStore('postgres');
    const runtime = await openTestRuntime((await world.config()).config, ref.store);
    reference = fingerprint(
      (await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 })).findings,
    );
    await runtime.dispose();
    await ref.cleanup();
  });
  after(async () => world?.close());
  beforeEach(async () => {
    db = await openTestStore('postgres');
    world.stack.gateway.setFaults({ failRate: 0 });
    world.stack.gateway.resetCounts();
  });
  afterEach(async () => db?.cleanup());

  it('resumes a SIGKILLed worker’s bucket from its checkpoint and ends with the findings of a clean scan', async () => {
    const { path, config } = await world.config({
      // One shard (no cut at folders), so the listings below count one job's pages.
      source: '\n    requestsPerSecond: 60\n    concurrency: 4\n    firstScanShards: 1',
      top: 'queue: { lockDurationMs: 3000, stalledIntervalMs: 1000 }\nscan: { listPageSize: 20 }',
      schema: db.reopenOptions!.schema!,
    });
    const runtime = await openTestRuntime(config, db.store, world.prefix);
    const first = startWorkerProcess(path, env(), 2);
    let second: ReturnType<typeof startWorkerProcess> | undefined;
    try {
      await first.ready;
      const scanId = await queueBulkScan(world, db.store, runtime);
      for (;;) {
        const scan = (await db.store.getScan(scanId))!;
        if (scan.buckets.reduce((n, b) => n + b.evaluated, 0) >= 100) break;
        expect(scan.status).to.equal('running');
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.kill('SIGKILL');
      second = startWorkerProcess(path, env(), 2);
      await second.ready;
      const scan = await waitForScanEnd(db.store, scanId);
      expect(scan.status, scan.errors.join('\n')).to.equal('completed');
      expect(scan.objectsListed).to.equal(OBJECTS);
      expect(fingerprint(await db.store.findingsOfScan(scanId))).to.deep.equal(reference);
      expect((await db.store.listFindings({ limit: 1000 })).items.length).to.equal(reference.length);
      // 12 pages of 20 keys, one discovery listing, and what the killed worker had past its last
      // checkpoint listed again: the page being stored, the page being read, the page whose reads
      // queued behind it and the one listed ahead (pipelining): at most 17. A restart from scratch
      // lists >= 19. The page being stored (killed before its states were written) and the two
      // pages being read may be read again.
      const lists = world.stack.gateway.counts().byBucket[BULK_BUCKET]!['list-objects'];
      expect(lists).to.be.at.most(12 + 1 + 4);
      expect(world.stack.gateway.counts().signedGets).to.be.at.most(OBJECTS + 3 * 20);
    } finally {
      await first.kill('SIGKILL');
      await second?.kill('SIGKILL');
      await runtime.dispose();
    }
  });

  it('completes through retries when the server fails a share of requests', async () => {
    const { config } = await world.config({
      top: 'queue: { backoffMs: 50 }\nscan: { retryMinMs: 10, retryMaxMs: 100 }',
    });
    const runtime = await openTestRuntime(config, db.store);
    try {
      // One page of 240 keys: at 0.3, one of its objects outlasts its five tries in about half the
      // jobs' first attempts. The job's retry must then fetch only what was not read, not the page.
      world.stack.gateway.setFaults({ failRate: 0.3, failStatus: 503, seed: 7 });
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      const counts = world.stack.gateway.counts();
      expect(counts.injectedFaults).to.be.greaterThan(20);
      expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal('completed');
      expect([outcome.scan.objectsListed, outcome.scan.objectsEvaluated]).to.deep.equal([OBJECTS, OBJECTS]);
      expect(fingerprint(outcome.findings)).to.deep.equal(reference);
      expect(counts.servedSignedGets, 'objects fetched').to.equal(OBJECTS);
    } finally {
      await runtime.dispose();
    }
  });

  it('keeps what it read without fetching it twice when one object keeps failing, and its last attempt reports that object and scans the rest', async () => {
    const keys = Array.from({ length: OBJECTS }, (_, i) => bulkKey(i)).sort();
    // On the fifth page of 20 keys; the sixth page is listed and its reads queued meanwhile.
    const failing = keys[95]!;
    const { config } = await world.config({
      source: '\n    firstScanShards: 1',
      top:
        'queue: { backoffMs: 20, attempts: 2 }\n' +
        'scan: { listPageSize: 20, requestRetries: 1, retryMinMs: 10, retryMaxMs: 20 }',
    });
    const runtime = await openTestRuntime(config, db.store);
    try {
      world.stack.gateway.setFaults({ failRate: 0, failStatus: 500, failKeys: [failing] });
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(outcome.scan.status).to.equal('incomplete');
      // The first attempt fails on the fifth page, keeping what it read of it and of the sixth. The
      // second and last resumes after the fourth (a checkpoint past the fifth would have skipped the
      // failing object), reports that object and scans the rest of the bucket.
      expect(outcome.scan.errors.join('\n')).to.include(
        `1 object(s) of bulk-camera could not be read: ${failing}: cannot read object: `,
      );
      const stored = (await db.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 1000)).map(
        (s) => s.key,
      );
      expect(stored.sort()).to.deep.equal(keys.filter((k) => k !== failing));
      // Every object fetched once: the retry read none of what the first attempt kept.
      expect(world.stack.gateway.counts().servedSignedGets, 'objects fetched').to.equal(stored.length);
      // The findings of a clean scan, but for the object never read.
      expect(fingerprint(outcome.findings)).to.deep.equal(
        reference.filter((line) => !line.startsWith(`${BULK_BUCKET}/${failing}#`)),
      );
      const job = await runtime.queue.getJob(jobIds.bucket(outcome.scan.id, 'edge-bulk', BULK_BUCKET, 0));
      expect(await job!.getState()).to.equal('completed');
      const checkpoint = (job!.data as ScanBucketData).checkpoint!;
      expect(checkpoint.lastKey).to.equal(keys.at(-1));
      expect([checkpoint.listed, checkpoint.evaluated]).to.deep.equal([OBJECTS, OBJECTS - 1]);
    } finally {
      world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
    }
  });

  it('ends incomplete, with the bucket and the objects it could not read, never completed, when every object read fails', async () => {
    const { config } = await world.config({
      top: 'queue: { backoffMs: 20, attempts: 2 }\nscan: { retryMinMs: 10, retryMaxMs: 50 }',
    });
    const runtime = await openTestRuntime(config, db.store);
    try {
      // Discovery and listings work; every object GET fails, whatever attempt.
      const keys = Array.from({ length: OBJECTS }, (_, i) => bulkKey(i));
      world.stack.gateway.setFaults({ failRate: 0, failStatus: 500, failKeys: keys });
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(outcome.scan.status).to.equal('incomplete');
      expect(outcome.exitCode).to.equal(3);
      const counts = world.stack.gateway.counts();
      expect(counts['list-objects'], 'the bucket was listed').to.be.greaterThan(0);
      expect(counts.servedSignedGets).to.equal(0);
      expect(outcome.scan.objectsEvaluated).to.equal(0);
      // The bucket job failed on the first page at every attempt, naming the page's objects and why.
      expect(outcome.scan.errors.join('\n')).to.include(
        `${OBJECTS} object(s) of ${BULK_BUCKET} could not be read: `,
      );
      expect(outcome.scan.errors.join('\n')).to.include('the server answered HTTP 500 Internal Server Error');
      expect(outcome.scan.errors).to.include(`edge-bulk: bucket ${BULK_BUCKET} was not scanned completely`);
    } finally {
      world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
    }
  });

  it('ends incomplete, naming what failed, when the server fails every request', async () => {
    const { config } = await world.config({
      top: 'queue: { backoffMs: 20, attempts: 2 }\nscan: { retryMinMs: 10, retryMaxMs: 50 }',
    });
    const runtime = await openTestRuntime(config, db.store);
    try {
      world.stack.gateway.setFaults({ failRate: 1, failStatus: 500 });
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(outcome.scan.status).to.equal('incomplete');
      expect(outcome.exitCode).to.equal(3);
      // Discovery itself fails: the source's buckets could not even be found.
      expect(outcome.scan.errors.join('\n')).to.match(/ListBuckets failed .*none of its buckets was scanned/);
      expect(outcome.scan.errors.join('\n')).to.include(BULK_BUCKET);
    } finally {
      world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
    }
  });
});
