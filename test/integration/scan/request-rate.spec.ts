/**
 * A source's `requestsPerSecond` holds for every request the auditor makes to it: discovery, listings,
 * reads and the retries of failed requests, counted where they arrive (at the S3 gateway).
 */
import { expect } from 'chai';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { queueBulkScan, startBulkWorld, waitForScanEnd, type BulkWorld } from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { mostWithin } from '../../helpers/request-times.js';

const OBJECTS = 120;
const RATE = 40;

describe('a source’s request rate', function () {
  this.timeout(60_000);
  let world: BulkWorld;
  let db: TestStore;
  before(async () => {
    world = await startBulkWorld(OBJECTS);
    db = await openTestStore('postgres');
  });
  after(async () => {
    await db?.cleanup();
    await world?.close();
  });

  it('paces every request to the source, retries included', async () => {
    const { config } = await world.config({
      source: `\n    requestsPerSecond: ${RATE}\n    concurrency: 8`,
      // Every other read fails with 503 and is tried again at once (backoff 10-20 ms).
      top: 'scan: { requestRetries: 10, retryMinMs: 10, retryMaxMs: 20 }',
    });
    const runtime = await openTestRuntime(config, db.store);
    const workers = await startScanWorkers(runtime, { concurrency: 2 });
    const gateway = world.stack.gateway;
    try {
      gateway.setFaults({ failRate: 0.5 });
      gateway.resetCounts();
      const scan = await waitForScanEnd(db.store, await queueBulkScan(world, db.store, runtime));
      expect(scan.status, scan.errors.join('\n')).to.equal('completed');
      expect(scan.objectsEvaluated).to.equal(OBJECTS);
      expect(gateway.counts().injectedFaults).to.be.greaterThan(OBJECTS / 3);

      // The anonymous probes of the bucket (unsigned) are counted too; that they are paced is
      // tested in anonymous-probe.spec.ts (two requests are lost in this bound's slack).
      expect(gateway.counts().unsigned, 'unsigned requests').to.be.greaterThan(0);
      const times = gateway.requestTimes();
      const seconds = (times.at(-1)! - times[0]!) / 1000;
      // Requests start at least 1 / RATE s apart, so any second holds at most RATE + 1 of them (one
      // more for the way to the gateway, which can bring two a little closer). Unpaced retries would
      // add about one request for every paced one.
      const most = mostWithin(times, 1000);
      expect(
        most,
        `most requests within a second, of ${times.length} in ${seconds.toFixed(2)} s`,
      ).to.be.at.most(RATE + 2);
      expect(times.length / seconds).to.be.at.most(RATE * 1.05);
    } finally {
      gateway.setFaults({ failRate: 0 });
      await workers.close();
      await runtime.dispose();
    }
  });
});
