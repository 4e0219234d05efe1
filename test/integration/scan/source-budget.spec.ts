/**
 * A source's `concurrency` bounds every request in flight against it, not only the object reads:
 * the listings of several shards and the discovery requests count too (an edge device behind a slow
 * mobile link pays for a listing page as for a read). Counted at the S3 side, all kinds together.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import {
  BULK_BUCKET,
  BULK_ENV,
  fingerprint,
  queueBulkScan,
  useBulkWorld,
  waitForScanEnd,
} from '../../helpers/bulk-world.js';
import { TEST_DATABASE_URL } from '../../helpers/database.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { startWorkerProcess, type WorkerProcess } from '../../helpers/worker-process.js';

const OBJECTS = 300;

describe("a source's concurrency budget", function () {
  this.timeout(120_000);
  const bulk = useBulkWorld(OBJECTS);

  for (const concurrency of [1, 3]) {
    it(`keeps every request in flight, listings of shards read at once included, within ${concurrency}`, async () => {
      // Shards of 100 keys learned from a first scan, listed 20 keys a page: several bucket jobs list
      // and read at once. Each listing and each GET takes 20 ms more at the server, as over a slow link.
      const { config } = await bulk.world.config({
        source: `\n    shardSize: 100\n    concurrency: ${concurrency}`,
        top: 'scan: { listPageSize: 20 }',
      });
      const runtime = await openTestRuntime(config, bulk.db.store);
      try {
        const reference = fingerprint(
          (await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 })).findings,
        );
        await bulk.db.db.exec("UPDATE objects SET etag = 'forgotten'");
        bulk.world.stack.gateway.setFaults({ failRate: 0, delayMs: 20, listDelayMs: 20 });
        bulk.world.stack.gateway.resetCounts();
        const outcome = await runScan(runtime, {
          sources: ['edge-bulk'],
          now: bulk.world.now,
          pollMs: 50,
          concurrency: 4,
        });
        expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal('completed');
        expect(outcome.scan.buckets.length, 'bucket jobs').to.be.greaterThan(2);
        const counts = bulk.world.stack.gateway.counts();
        expect(counts.byBucket[BULK_BUCKET]!['list-objects']).to.be.greaterThan(OBJECTS / 20);
        expect(counts.peakRequestsInFlight[BULK_BUCKET]).to.equal(concurrency);
        expect(fingerprint(outcome.findings)).to.deep.equal(reference);
      } finally {
        bulk.world.stack.gateway.setFaults({ failRate: 0 });
        await runtime.dispose();
      }
    });
  }

  it('stops a worker process that froze past its lease from reading beside the one that took over', async () => {
    const { path, config } = await bulk.world.config({
      source: '\n    concurrency: 1\n    shardSize: 100',
      schema: bulk.db.reopenOptions!.schema!,
    });
    const runtime = await openTestRuntime(config, bulk.db.store, bulk.world.prefix);
    let workers: WorkerProcess[] = [];
    try {
      const reference = fingerprint(
        (await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 })).findings,
      );
      await bulk.db.db.exec("UPDATE objects SET etag = 'forgotten'");
      const env = { ...BULK_ENV, DATABASE_URL: TEST_DATABASE_URL };
      workers = [startWorkerProcess(path, env, 2), startWorkerProcess(path, env, 2)];
      await Promise.all(workers.map((w) => w.ready));
      bulk.world.stack.gateway.setFaults({ failRate: 0, delayMs: 60 });
      const scanId = await queueBulkScan(bulk.world, bulk.db.store, runtime);
      // Both processes hold a lease on the source's budget of 1: the first reads, the second waits.
      const members = async () => runtime.redis.zrange(`${bulk.world.prefix}:share:edge-bulk`, 0, -1);
      while ((await members()).length < 2) await sleep(50);
      const readerPid = Number((await members())[0]!.split(':')[2]);
      const reader = workers.find((w) => w.child.pid === readerPid)!;
      // The reader freezes for longer than its lease (3 s): the other takes the budget over.
      reader.child.kill('SIGSTOP');
      await sleep(5000);
      reader.child.kill('SIGCONT');
      // What the frozen process had already started goes out as it wakes; then it must find its
      // lease gone and wait, instead of reading beside the other for as long as both have work.
      await sleep(600);
      bulk.world.stack.gateway.resetCounts();
      await sleep(3000);
      expect(bulk.world.stack.gateway.counts().peakRequestsInFlight[BULK_BUCKET]).to.equal(1);
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      const scan = await waitForScanEnd(bulk.db.store, scanId);
      expect(scan.status, scan.errors.join('\n')).to.equal('completed');
      expect(fingerprint(await bulk.db.store.findingsOfScan(scanId))).to.deep.equal(reference);
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      for (const worker of workers) {
        worker.child.kill('SIGCONT');
        await worker.kill('SIGKILL');
      }
      await runtime.dispose();
    }
  });
});
