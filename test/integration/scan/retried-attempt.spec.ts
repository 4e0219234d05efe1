/**
 * A bucket job's failed attempt stores the findings of what it read; when an object it judged is
 * deleted before the retry lists it again, the scan must not count that finding as seen: the
 * complete scan finds the object gone and remediates the finding.
 */
import { expect } from 'chai';
import { jobIds } from '../../../core/queue/jobs.js';
import { s3Sink } from '../../../fixtures/s3-sink.js';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import {
  BULK_BUCKET,
  bulkKey,
  queueBulkScan,
  useBulkWorld,
  waitForScanEnd,
} from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

const OBJECTS = 60;

describe('an object judged by a failed attempt and deleted before the retry', function () {
  this.timeout(120_000);
  const bulk = useBulkWorld(OBJECTS);
  const sorted = Array.from({ length: OBJECTS }, (_, i) => bulkKey(i)).sort();
  // Objects i with i % 3 === 0 are 60 h old and have an edge-retention finding (see bulk-world).
  const withFinding = new Set(
    Array.from({ length: OBJECTS }, (_, i) => i)
      .filter((i) => i % 3 === 0)
      .map(bulkKey),
  );
  // On the second page of 20 keys: one that keeps failing, and one with a finding, deleted later.
  const failing = sorted.slice(20, 40).find((k) => !withFinding.has(k))!;
  const deleted = sorted.slice(20, 40).find((k) => withFinding.has(k))!;

  it('is not counted as seen by the scan, which remediates its finding', async () => {
    const { config } = await bulk.world.config({
      source: '\n    firstScanShards: 1',
      top:
        'queue: { attempts: 2, backoffMs: 3000 }\n' +
        'scan: { listPageSize: 20, requestRetries: 0, retryMinMs: 10, retryMaxMs: 20 }',
    });
    const runtime = await openTestRuntime(config, bulk.db.store, bulk.world.prefix);
    const workers = await startScanWorkers(runtime, { concurrency: 2 });
    try {
      bulk.world.stack.gateway.setFaults({ failRate: 0, failStatus: 500, failKeys: [failing] });
      const scanId = await queueBulkScan(bulk.world, bulk.db.store, runtime);
      // The first attempt fails on the second page, having stored what it read of it.
      const jobId = jobIds.bucket(scanId, 'edge-bulk', BULK_BUCKET, 0);
      for (;;) {
        const job = await runtime.queue.getJob(jobId);
        if (job && (await job.getState()) === 'delayed') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const judged = await bulk.db.store.findingsOfScan(scanId);
      expect(judged.map((f) => f.key)).to.include(deleted);
      // Before the retry: the object is deleted, and the failing one is served again.
      const sink = s3Sink(bulk.world.stack);
      await sink.storage.removeObject(BULK_BUCKET, deleted);
      sink.close();
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      const scan = await waitForScanEnd(bulk.db.store, scanId);
      expect(scan.status, scan.errors.join('\n')).to.equal('completed');
      expect(scan.objectsListed).to.equal(OBJECTS - 1);
      const seen = (await bulk.db.store.findingsOfScan(scanId)).map((f) => f.key);
      expect(seen).not.to.include(deleted);
      expect(seen).to.have.length(withFinding.size - 1);
      const gone = (await bulk.db.store.listFindings({ limit: 1000 })).items.find((f) => f.key === deleted);
      expect(gone?.status).to.equal('remediated');
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      await workers.close();
      await runtime.dispose();
    }
  });
});
