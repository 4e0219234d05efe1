/**
 * An object the storage refuses to serve (a policy denying it, an archived object) must not hide
 * the rest of its bucket: the scan judges it as unreadable, reads every other object, and ends
 * `incomplete` with the reason; once the object can be read, the next scan reads it and completes.
 * A source that fails every read, though, is not read on through by a job's last attempt, and a
 * storage that refuses every read is asked only for a sample once it has refused 20 in a row.
 */
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import { jobIds } from '../../../core/queue/jobs.js';
import { BULK_BUCKET, bulkKey, useBulkWorld } from '../../helpers/bulk-world.js';
import { openTestStore } from '../../helpers/database.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { s3Sink } from '../../../fixtures/s3-sink.js';

const OBJECTS = 120;

describe('an object the storage refuses to serve', function () {
  this.timeout(120_000);
  const bulk = useBulkWorld(OBJECTS);
  const keys = Array.from({ length: OBJECTS }, (_, i) => bulkKey(i)).sort();
  // On the second of six pages of 20 keys.
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
      // page listed ahead are dropped): the last does not go on asking for the other 100 objects.
      expect(bulk.world.stack.gateway.counts().byBucket[BULK_BUCKET]!['get-object']).to.be.at.most(2 * 40);
      const job = await runtime.queue.getJob(jobIds.bucket(outcome.scan.id, 'edge-bulk', BULK_BUCKET, 0));
      expect(await job!.getState()).to.equal('failed');
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
      await fresh.cleanup();
    }
  });

  /** Scans with a fresh store, one read at a time (so the refusals come in key order), `denied` refused. */
  async function scanRefusing(denied: string[], now = bulk.world.now, top = '') {
    const { config } = await bulk.world.config({
      source: '\n    concurrency: 1\n    firstScanShards: 1',
      top,
    });
    const fresh = await openTestStore('postgres');
    const runtime = await openTestRuntime(config, fresh.store);
    try {
      bulk.world.stack.gateway.setFaults({ failRate: 0, denyKeys: denied });
      bulk.world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now, pollMs: 50 });
      // Signed: the anonymous probe of an object (public-access) is no read of the scan's.
      const gets = bulk.world.stack.gateway.counts().signedGets;
      const stored = (await fresh.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 1000)).map(
        (s) => s.key,
      );
      return {
        outcome,
        gets,
        stored,
        unreadable: outcome.findings.filter((f) => f.rule === 'unreadable-object'),
      };
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
      await fresh.cleanup();
    }
  }

  it('keeps the first 50 refusals of a bucket as errors and counts the rest', async () => {
    // Every other object: never 20 refusals in a row, so every object is asked for and judged.
    const { outcome, unreadable } = await scanRefusing(keys.filter((_, i) => i % 2 === 0));
    expect(outcome.scan.status).to.equal('incomplete');
    const refusals = outcome.scan.errors.filter((e) => e.includes('cannot read object: AccessDenied'));
    expect(refusals).to.have.length(50);
    expect(outcome.scan.errors).to.include(`edge-bulk: and ${OBJECTS / 2 - 50} more error(s)`);
    expect(unreadable).to.have.length(OBJECTS / 2);
    expect([outcome.scan.objectsListed, outcome.scan.objectsEvaluated]).to.deep.equal([OBJECTS, OBJECTS]);
  });

  it('asks a storage that refuses every read only for a sample once 20 were refused in a row', async () => {
    // Folder markers (zero bytes, never asked for) after every tenth image: they neither take a
    // sample nor count as a read served, or they would keep the gate open.
    const markers = keys.filter((_, i) => i % 10 === 9).map((k) => `${k}.marker`);
    const sink = s3Sink(bulk.world.stack);
    try {
      for (const marker of markers) await sink.putObject(BULK_BUCKET, marker, Buffer.alloc(0), {});
      const { outcome, gets, unreadable } = await scanRefusing(keys);
      expect(outcome.scan.status).to.equal('incomplete');
      // The first 20, then of the other 100 the 1st, 2nd, 4th, 8th, 16th, 32nd, 64th and 100th.
      const sampled = [1, 2, 4, 8, 16, 32, 64, 100].map((n) => keys[19 + n]!);
      expect(gets).to.equal(28);
      // Every object is still judged: those not asked for from their listing, said so.
      const total = OBJECTS + markers.length;
      expect([outcome.scan.objectsListed, outcome.scan.objectsEvaluated]).to.deep.equal([total, total]);
      expect(unreadable).to.have.length(total);
      const refused = unreadable.filter((f) => f.reason.includes('the storage refused to serve it'));
      expect(refused.map((f) => f.key).sort()).to.deep.equal([...keys.slice(0, 20), ...sampled].sort());
      const notRead = unreadable.filter((f) => f.reason.includes('it was not read, since the storage had'));
      expect(notRead).to.have.length(OBJECTS - 28);
      expect(outcome.scan.errors).to.include(
        `edge-bulk: the storage refused 20 reads of ${BULK_BUCKET} in a row, the last of ${keys[19]} ` +
          `(cannot read object: AccessDenied: Access Denied): of the new or changed objects after it, one in 100 ` +
          `is read until one is served, and the others are judged from their listing alone; check the ` +
          `auditor's credentials, the bucket's policy and whether its objects were archived`,
      );
      // One error per refusal; none per object not asked for.
      expect(outcome.scan.errors.filter((e) => /^edge-bulk: \S+: cannot read object/.test(e))).to.have.length(
        28,
      );
      expect(outcome.scan.errors.filter((e) => e.includes(': not read: '))).to.deep.equal([]);
    } finally {
      for (const marker of markers) await sink.storage.removeObject(BULK_BUCKET, marker);
      sink.close();
    }
  });

  it('reads on in full from the first sampled object that is served', async () => {
    // The first 30 refused: the gate closes at the 20th; of the next, the 1st, 2nd, 4th and 8th
    // sampled are refused, the 16th (the 36th object) is served and opens it again.
    const { outcome, gets, unreadable } = await scanRefusing(keys.slice(0, 30));
    const notAsked = [22, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34].map((i) => keys[i]!);
    expect(gets).to.equal(OBJECTS - notAsked.length);
    const refused = unreadable.filter((f) => f.reason.includes('the storage refused to serve it'));
    expect(refused.map((f) => f.key).sort()).to.deep.equal(
      [...keys.slice(0, 22), keys[23]!, keys[27]!].sort(),
    );
    const notRead = unreadable.filter((f) => f.reason.includes('it was not read'));
    expect(notRead.map((f) => f.key).sort()).to.deep.equal(notAsked);
    expect([outcome.scan.objectsListed, outcome.scan.objectsEvaluated]).to.deep.equal([OBJECTS, OBJECTS]);
    expect(outcome.scan.status).to.equal('incomplete');
  });

  it('judges the objects it does not ask for by their LastModified, and keeps no state of them', async () => {
    // Three days on, every object's LastModified (its upload) is past the edge limit.
    const later = new Date(bulk.world.now.getTime() + 72 * 3_600_000);
    const { outcome, stored } = await scanRefusing(keys.slice(0, 30), later);
    const notAsked = [22, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34].map((i) => keys[i]!);
    const byLastModified = outcome.findings.filter(
      (f) => f.rule === 'edge-retention' && f.captureTimeOrigin === 'last-modified',
    );
    // Every object refused or not asked for (some others carry no EXIF time and fall back too).
    const judged = new Set(byLastModified.map((f) => f.key));
    expect(keys.slice(0, 30).filter((k) => !judged.has(k))).to.deep.equal([]);
    // Nothing is stored of an object not served (refused, or not asked for: keys 30-34 would have
    // been served): the next scan asks for it again.
    const unserved = new Set([...keys.slice(0, 30), ...notAsked]);
    expect(stored.sort()).to.deep.equal(keys.filter((k) => !unserved.has(k)));
    const notRead = outcome.findings.filter(
      (f) => f.rule === 'unreadable-object' && f.reason.includes('not read'),
    );
    expect(notRead.map((f) => f.key).sort()).to.deep.equal(notAsked);
  });

  it('keeps no finding of an object not served by an attempt that failed, whose retry reads it', async () => {
    const { config } = await bulk.world.config({
      source: '\n    concurrency: 1\n    firstScanShards: 1',
      top: 'queue: { backoffMs: 3000, attempts: 2 }\nscan: { requestRetries: 0 }',
    });
    const fresh = await openTestStore('postgres');
    const runtime = await openTestRuntime(config, fresh.store);
    try {
      // The first 30 refused (the gate closes at the 20th), and the 16th object offered after it
      // (the 36th, a sample) fails with a 500: the page, all 120 objects, fails its first attempt,
      // which keeps what it read. The retry, with every fault gone, reads every object.
      bulk.world.stack.gateway.setFaults({
        failRate: 0,
        denyKeys: keys.slice(0, 30),
        failKeys: [keys[35]!],
        failStatus: 500,
      });
      bulk.world.stack.gateway.resetCounts();
      let ended = false;
      const scanning = runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      void scanning.finally(() => (ended = true)).catch(() => undefined);
      const deadline = Date.now() + 60_000;
      while ((await runtime.queue.getDelayedCount()) === 0) {
        // A scan that ended (or failed) first says more than a time-out would.
        if (ended) await scanning;
        if (ended || Date.now() > deadline) throw new Error('the bucket job never failed its first attempt');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Asked: keys 0-21 (the 20 that closed the gate, then its 1st and 2nd samples), its 4th, 8th
      // and 16th samples (keys 23, 27, 35), its 32nd (key 51, served: it opened the gate), and the
      // 68 keys after it.
      expect(bulk.world.stack.gateway.counts().signedGets).to.equal(22 + 3 + 69);
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      bulk.world.stack.gateway.resetCounts();
      const outcome = await scanning;
      expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal('completed');
      const job = await runtime.queue.getJob(jobIds.bucket(outcome.scan.id, 'edge-bulk', BULK_BUCKET, 0));
      expect(job!.attemptsMade).to.equal(2);
      // The first attempt's findings of the objects it was refused or did not ask for would stay
      // linked to this scan, as if seen in it, though the retry read every one of them.
      expect(outcome.findings.filter((f) => f.rule === 'unreadable-object')).to.deep.equal([]);
      // What the first attempt did read was kept and not fetched twice: the 32nd object offered
      // after the gate closed (the 52nd) was served and opened it, and every object after it read.
      expect(bulk.world.stack.gateway.counts().signedGets).to.equal(51);
      const stored = await fresh.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 1000);
      expect(stored).to.have.length(OBJECTS);
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
      await runtime.dispose();
      await fresh.cleanup();
    }
  });

  it('keeps the error that says why past the cap of 50 errors', async () => {
    // Every other one of the first 100 refused, on five pages of 20 (50 errors: the cap), then the
    // last 20 in a row, on the sixth.
    const denied = keys.filter((_, i) => i >= 100 || i % 2 === 0);
    const { outcome, gets } = await scanRefusing(denied, bulk.world.now, 'scan: { listPageSize: 20 }');
    expect(gets).to.equal(OBJECTS);
    expect(outcome.scan.errors.filter((e) => /^edge-bulk: \S+: cannot read object/.test(e))).to.have.length(
      50,
    );
    expect(outcome.scan.errors).to.include('edge-bulk: and 20 more error(s)');
    expect(outcome.scan.errors.some((e) => e.includes(`in a row, the last of ${keys[119]} `))).to.equal(true);
    expect(outcome.scan.status).to.equal('incomplete');
  });
});
