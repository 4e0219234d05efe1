/**
 * An object the storage refuses to serve (a policy denying it, an archived object) must not hide
 * the rest of its bucket: the scan judges it as unreadable, reads every other object, and ends
 * `incomplete` with the reason; once the object can be read, the next scan reads it and completes.
 */
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import { jobIds } from '../../../core/queue/jobs.js';
import { BULK_BUCKET, bulkKey, startBulkWorld, type BulkWorld } from '../../helpers/bulk-world.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { openTestRuntime } from '../../helpers/runtime.js';

const OBJECTS = 60;

describe('an object the storage refuses to serve', function () {
  this.timeout(120_000);
  let world: BulkWorld;
  let db: TestStore;
  const keys = Array.from({ length: OBJECTS }, (_, i) => bulkKey(i)).sort();
  // On the second of three pages of 20 keys.
  const denied = keys[25]!;

  before(async () => {
    world = await startBulkWorld(OBJECTS);
    db = await openTestStore('postgres');
  });
  after(async () => {
    await db?.cleanup();
    await world?.close();
  });

  it('is judged unreadable while every other object is read, and the scan ends incomplete', async () => {
    const { config } = await world.config({
      source: '\n    firstScanShards: 1',
      top: 'scan: { listPageSize: 20 }',
    });
    const runtime = await openTestRuntime(config, db.store);
    try {
      world.stack.gateway.setFaults({ failRate: 0, denyKeys: [denied] });
      world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
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
      const stored = (await db.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 1000)).map(
        (s) => s.key,
      );
      expect(stored.sort()).to.deep.equal(keys.filter((k) => k !== denied));
      expect(world.stack.gateway.counts().servedSignedGets).to.equal(OBJECTS - 1);
    } finally {
      await runtime.dispose();
    }
  });

  it('is read by the next scan once it is served, which completes and remediates the finding', async () => {
    const { config } = await world.config({ top: 'scan: { listPageSize: 20 }' });
    const runtime = await openTestRuntime(config, db.store);
    try {
      world.stack.gateway.setFaults({ failRate: 0 });
      world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: world.now, pollMs: 50 });
      expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal('completed');
      // Only the object refused before is fetched: its refusal was not kept as what it holds.
      expect(world.stack.gateway.counts().servedSignedGets).to.equal(1);
      const findings = (await db.store.listFindings({ limit: 1000 })).items;
      const refusal = findings.find((f) => f.key === denied && f.rule === 'unreadable-object');
      expect(refusal?.status).to.equal('remediated');
    } finally {
      await runtime.dispose();
    }
  });
});
