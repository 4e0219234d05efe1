/**
 * Keys are evidence: a scan must list, read and record every object under the exact key it has,
 * whatever the key looks like. minio's own listing parser turned keys that look like numbers into
 * numbers (`000123` became `123`) and trimmed spaces, so such objects were asked for under keys that
 * do not exist, counted as deleted, and the scan still ended `completed`.
 */
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import { jobIds } from '../../../core/queue/jobs.js';
import { BULK_BUCKET, useBulkWorld } from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

/** Keys a parser could mistake for numbers, or change by trimming or decoding. */
const KEYS = [
  '000123',
  '0x1F',
  '1.50',
  '00',
  '1e5',
  ' leading-space.jpg',
  'trailing-space.jpg ',
  'a+b.jpg',
  'a&b <c>.jpg',
  'straße/ü-camera.jpg',
  "'s-Hertogenbosch/o'clock.jpg",
  'cam/2026/11/23/ok.jpg',
];

describe('scanning keys a parser could rewrite', function () {
  this.timeout(120_000);
  const bulk = useBulkWorld(KEYS.length, (i) => KEYS[i]!);

  it('lists, reads and records every object under its own key, and completes', async () => {
    const { config } = await bulk.world.config();
    const runtime = await openTestRuntime(config, bulk.db.store);
    try {
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.errors).to.deep.equal([]);
      expect(outcome.scan.status).to.equal('completed');
      expect(outcome.scan.objectsListed).to.equal(KEYS.length);
      expect(outcome.scan.objectsEvaluated).to.equal(KEYS.length);
      const states = await bulk.db.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 100);
      expect(states.map((s) => s.key).sort()).to.deep.equal([...KEYS].sort());
      // Each was read (an image with its EXIF capture time), not judged from a failed GET.
      for (const state of states) {
        expect(state.readError, state.key).to.equal(null);
        expect(state.captureTime, state.key).to.be.an.instanceOf(Date);
      }
    } finally {
      await runtime.dispose();
    }
  });
});

describe('a server that lists keys out of order', function () {
  this.timeout(120_000);
  // s3rver walks its folders in name order, so `cam/` (the folder "cam") comes before `cam-2/`,
  // although S3 orders `-` (0x2d) before `/` (0x2f). Paging on, it would skip `cam-2/` for good.
  const bulk = useBulkWorld(4, (i) => ['cam/a.jpg', 'cam/b.jpg', 'cam-2/a.jpg', 'cam-2/b.jpg'][i]!);

  it('makes the scan incomplete with the reason, never completed, failing the bucket at once', async () => {
    const { config } = await bulk.world.config({ top: 'queue: { attempts: 3, backoffMs: 5000 }' });
    const runtime = await openTestRuntime(config, bulk.db.store);
    try {
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.status).to.equal('incomplete');
      expect(outcome.scan.errors.join('\n')).to.match(
        /listing edge-bulk\/bulk-camera is out of order: key "cam-2\/a\.jpg" follows "cam\/b\.jpg"/,
      );
      // No retry: the same listing would come back (three attempts would take 15 s of backoff).
      const job = await runtime.queue.getJob(jobIds.bucket(outcome.scan.id, 'edge-bulk', BULK_BUCKET, 0));
      expect([await job!.getState(), job!.attemptsMade]).to.deep.equal(['failed', 1]);
    } finally {
      await runtime.dispose();
    }
  });
});
