/**
 * An object the storage refuses to serve (a policy denying it, an archived object) must not hide
 * the rest of its bucket: the scan judges it as unreadable, reads every other object, and ends
 * `incomplete` with the reason; once the object can be read, the next scan reads it and completes.
 * A source that fails every read, though, is not read on through by a job's last attempt.
 */
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import { jobIds } from '../../../core/queue/jobs.js';
import { BULK_BUCKET, bulkKey, useBulkWorld } from '../../helpers/bulk-world.js';
import { openTestStore } from '../../helpers/database.js';
import { openTestRuntime } from '../../helpers/runtime.js';

const OBJECTS = 60;

describe('an object the storage refuses to serve', function () {
  this.timeout(120_000);
  const bulk = useBulkWorld(OBJECTS);
  const keys = Array.from({ length: OBJECTS }, (_, i) => bulkKey(i)).sort();
  // On the second of three pages of 20 keys.
  const denied = keys[25]!;

  it('is judged unreadable while every other object is read, and the scan ends incomplete', async () => {
    const { config } = await bulk.world.config({
      source: '\n    firstScanShards: 1',
      top: 'scan: { listPageSize: 20 }',
    });
    const runtime = await openTestRuntime(config, bulk.db.store);
    try {
      bulk.world.stack.gateway.setFaults({ failRate: 0, denyKeys: [denied] });
      bulk.world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.status).to.equal('incomplete');
      expect(outcome.scan.errors).to.include(
        `edge-bulk: ${denied}: cannot read object: AccessDenied: Access Denied`,
      );
      expect([outcome.scan.objectsListed, outcome.scan.objectsEvaluated]).to.deep.equal([OBJECTS, OBJECTS]);
      const refusal = outcome.findings.find((f) => f.key === denied && f.rule === 'unreadable-object');
      expect(refusal?.reason).to.equal(
        'This object cannot be checked as a camera image: the storage refused to serve it (AccessDenied: Access Denied).',
      );
      // One attempt read the whole bucket: the refusal did not fail the job.
      const job = await runtime.queue.getJob(jobIds.bucket(outcome.scan.id, 'edge-bulk', BULK_BUCKET, 0));
      expect(await job!.getState()).to.equal('completed');
      const stored = (await bulk.db.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 1000)).map(
        (s) => s.key,
      );
      expect(stored.sort()).to.deep.equal(keys.filter((k) => k !== denied));
      expect(bulk.world.stack.gateway.counts().servedSignedGets).to.equal(OBJECTS - 1);
    } finally {
      await runtime.dispose();
    }
  });

  it('is read by the next scan once it is served, which completes and remediates the finding', async () => {
    const { config } = await bulk.world.config({ top: 'scan: { listPageSize: 20 }' });
    const runtime = await openTestRuntime(config, bulk.db.store);
    try {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      bulk.world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal('completed');
      // Only the object refused before is fetched: its refusal was not kept as what it holds.
      expect(bulk.world.stack.gateway.counts().servedSignedGets).to.equal(1);
      const findings = (await bulk.db.store.listFindings({ limit: 1000 })).items;
      const refusal = findings.find((f) => f.key === denied && f.rule === 'unreadable-object');
      expect(refusal?.status).to.equal('remediated');
    } finally {
      await runtime.dispose();
    }
  });

  it('is told apart from a source that fails every read, which the last attempt does not read on through', async () => {
    const { config } = await bulk.world.config({
      source: '\n    firstScanShards: 1',
      top:
        'queue: { backoffMs: 20, attempts: 2 }\n' +
        'scan: { listPageSize: 20, requestRetries: 0, retryMinMs: 10, retryMaxMs: 20 }',
    });
    // A store of its own: in the one above every object is known, and would not be read.
    const fresh = await openTestStore('postgres');
    const runtime = await openTestRuntime(config, fresh.store);
    try {
      // Every object read fails with a 500; listings and discovery still answer.
      bulk.world.stack.gateway.setFaults({ failRate: 0, failStatus: 500, failKeys: keys });
      bulk.world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.status).to.equal('incomplete');
      expect(outcome.scan.errors.join('\n')).to.match(
        /job .*bulk-camera-0 failed: \d+ object\(s\) of bulk-camera could not be read/,
      );
      // Each of the two attempts stops at the first page, whose every read failed (the reads of the
      // page listed ahead are dropped): the last does not go on asking for the other 40 objects.
      expect(bulk.world.stack.gateway.counts().byBucket[BULK_BUCKET]!['get-object']).to.be.below(
        OBJECTS + 20,
      );
      const job = await runtime.queue.getJob(jobIds.bucket(outcome.scan.id, 'edge-bulk', BULK_BUCKET, 0));
      expect(await job!.getState()).to.equal('failed');
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
      await fresh.cleanup();
    }
  });

  it('keeps the first 50 refusals of a bucket as errors and counts the rest', async () => {
    const { config } = await bulk.world.config({ source: '\n    firstScanShards: 1' });
    const fresh = await openTestStore('postgres');
    const runtime = await openTestRuntime(config, fresh.store);
    try {
      bulk.world.stack.gateway.setFaults({ failRate: 0, denyKeys: keys });
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.status).to.equal('incomplete');
      const refusals = outcome.scan.errors.filter((e) => e.includes('cannot read object: AccessDenied'));
      expect(refusals).to.have.length(50);
      expect(outcome.scan.errors).to.include(`edge-bulk: and ${OBJECTS - 50} more error(s)`);
      // Every object is still judged: one finding each.
      const unreadable = outcome.findings.filter((f) => f.rule === 'unreadable-object');
      expect(unreadable).to.have.length(OBJECTS);
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
      await fresh.cleanup();
    }
  });
});
