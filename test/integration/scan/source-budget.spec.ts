/**
 * A source's `concurrency` bounds every request in flight against it, not only the object reads:
 * the listings of several shards and the discovery requests count too (an edge device behind a slow
 * mobile link pays for a listing page as for a read). Counted at the S3 side, all kinds together.
 */
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import { BULK_BUCKET, fingerprint, useBulkWorld } from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

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
});
