/**
 * A stopping `anpr-audit worker` (SIGTERM) lets its jobs run on for `queue.shutdownTimeoutSeconds`,
 * then stops them and exits: a bucket job may run for hours (or wait for its share of a source's
 * concurrency while other processes read it). Its job goes back to the queue when its lock lapses,
 * and another worker finishes the scan with the findings of a clean one.
 */
import { expect } from 'chai';
import { jobIds } from '../../../core/queue/jobs.js';
import { runScan } from '../../../bin/commands/scan.command.js';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../../helpers/database.js';
import {
  BULK_BUCKET,
  BULK_ENV,
  fingerprint,
  queueBulkScan,
  startBulkWorld,
  waitForScanEnd,
  type BulkWorld,
} from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { startWorkerProcess } from '../../helpers/worker-process.js';

const OBJECTS = 60;

describe('a worker process asked to stop', function () {
  this.timeout(120_000);
  let world: BulkWorld;
  let db: TestStore;
  let reference: string[];

  before(async () => {
    world = await startBulkWorld(OBJECTS);
    const clean = await openTestStore('postgres');
    const runtime = await openTestRuntime((await world.config()).config, clean.store);
    reference = fingerprint(
      (await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 })).findings,
    );
    await runtime.dispose();
    await clean.cleanup();
    db = await openTestStore('postgres');
  });
  after(async () => {
    world?.stack.gateway.setFaults({ failRate: 0 });
    await db?.cleanup();
    await world?.close();
  });

  it('exits within its shutdown time although its job is not done, and another worker completes the scan', async () => {
    const { path, config } = await world.config({
      source: '\n    concurrency: 2\n    firstScanShards: 1',
      top: 'queue: { lockDurationMs: 2000, stalledIntervalMs: 500, shutdownTimeoutSeconds: 1 }',
      schema: db.reopenOptions!.schema!,
    });
    const env = { ...BULK_ENV, DATABASE_URL: TEST_DATABASE_URL };
    const runtime = await openTestRuntime(config, db.store, world.prefix);
    const first = startWorkerProcess(path, env, 2);
    let second: ReturnType<typeof startWorkerProcess> | undefined;
    try {
      await first.ready;
      // Every object GET hangs for 20 s, as over a link that has stalled: the bucket job cannot end.
      world.stack.gateway.setFaults({ failRate: 0, delayMs: 20_000 });
      world.stack.gateway.resetCounts();
      const scanId = await queueBulkScan(world, db.store, runtime);
      while (world.stack.gateway.counts().peakGetsInFlight['bulk-camera'] === undefined) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const stopping = Date.now();
      await first.kill('SIGTERM');
      const stoppedInMs = Date.now() - stopping;
      // The jobs were abandoned; the store and the queue still closed in their own time.
      const forced = first
        .log()
        .split('\n')
        .filter((line) => line.includes('shutdown step overran its time'))
        .map((line) => (JSON.parse(line) as { step: string }).step);
      expect(forced).to.deep.equal(['scan workers']);
      // One second for the jobs, then closing the store and the queue; far from the 20 s a GET hangs.
      expect(stoppedInMs).to.be.below(8_000);
      expect(first.child.exitCode).to.equal(0);

      world.stack.gateway.setFaults({ failRate: 0 });
      second = startWorkerProcess(path, env, 2);
      await second.ready;
      const scan = await waitForScanEnd(db.store, scanId);
      expect(scan.status, scan.errors.join('\n')).to.equal('completed');
      expect(fingerprint(await db.store.findingsOfScan(scanId))).to.deep.equal(reference);
      const job = await runtime.queue.getJob(jobIds.bucket(scanId, 'edge-bulk', BULK_BUCKET, 0));
      // The abandoned run came back as stalled and cost no attempt: one attempt made (the one that
      // completed), one stall.
      expect([job!.attemptsMade, job!.stalledCounter]).to.deep.equal([1, 1]);
    } finally {
      await first.kill('SIGKILL');
      await second?.kill('SIGKILL');
      await runtime.dispose();
    }
  });
});
