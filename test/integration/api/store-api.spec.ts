/**
 * What the API added to the store, on PostgreSQL and PGlite: suppressions applied at upsert, the
 * remediating scan and the delta, status changes that expect a status, cancelling, the audit trail,
 * the compliance counts and the metrics reads.
 */
import { expect } from 'chai';
import { FindingStatusConflictError } from '../../../core/store/api-errors.js';
import { InvalidCursorError } from '../../../core/store/errors.js';
import { openTestStore, TEST_STORE_KINDS, type TestStore } from '../../helpers/database.js';
import { expectRejection } from '../store/scans.suite.js';
import { input, seedFindings, type Seeded } from './seed.js';

const HOUR = 3_600_000;

for (const kind of TEST_STORE_KINDS) {
  describe(`store additions for the API on ${kind}`, function () {
    this.timeout(60_000);
    let t: TestStore;
    let seeded: Seeded;
    const now = new Date();

    before(async () => {
      t = await openTestStore(kind);
      seeded = await seedFindings(t.store, now, 'store');
    });

    after(async () => {
      await t?.cleanup();
    });

    it('records the scan that found a finding gone and gives each scan its delta', async () => {
      const delta = await t.store.scanDelta(seeded.scan2);
      expect(delta).to.deep.equal({
        new: { total: 1, byRule: { 'clock-skew': 1 } },
        'still-open': {
          total: 3,
          byRule: { 'edge-retention': 1, 'violations-only': 1, 'unreadable-object': 1 },
        },
        remediated: { total: 1, byRule: { 'vendor-retention': 1 } },
      });
      expect((await t.store.scanDelta(seeded.scan1))?.new.total).to.equal(5);
      expect(await t.store.scanDelta('no-such-scan')).to.equal(null);
      const remediated = await t.store.listFindings({ scanId: seeded.scan2, delta: 'remediated' });
      expect(remediated.items.map((f) => f.id)).to.deep.equal([seeded.findings.archived.id]);
      const fresh = await t.store.listFindings({ scanId: seeded.scan2, delta: 'new' });
      expect(fresh.items.map((f) => f.id)).to.deep.equal([seeded.findings.fresh.id]);
      expect(
        (await t.store.listFindings({ scanId: seeded.scan2, delta: 'still-open' })).items,
      ).to.have.length(3);
      await expectRejection(t.store.listFindings({ delta: 'new' }), RangeError);
    });

    it('marks findings a suppression matches at their next sighting, and unmarks them once it is revoked', async () => {
      const suppression = await t.store.createSuppression({
        source: 'edge-a',
        keyPrefix: '2026/11/20/cam2/',
        reason: 'camera 2 is being replaced',
        expiresAt: new Date(now.getTime() + 24 * HOUR),
        createdBy: 'admin-token',
      });
      expect(suppression).to.include({
        source: 'edge-a',
        rule: null,
        active: true,
        findings: 0,
        createdBy: 'admin-token',
      });
      const scan = `scan-suppress-${kind}`;
      await t.store.createScan({ id: scan, sources: ['edge-a'], trigger: 'api', judgedAt: now });
      const fresh = seeded.findings.fresh;
      const other = seeded.findings.plateEdge;
      const again = [fresh, other].map((f) =>
        input({ source: f.source, bucket: f.bucket, key: f.key, rule: f.rule }),
      );
      await t.store.upsertFindings(scan, again, now);
      expect((await t.store.getFinding(fresh.id))?.suppressedBy).to.equal(suppression.id);
      expect((await t.store.getFinding(other.id))?.suppressedBy).to.equal(null);
      expect((await t.store.getSuppression(suppression.id))?.findings).to.equal(1);
      expect((await t.store.listFindings({ suppressed: true })).items.map((f) => f.id)).to.deep.equal([
        fresh.id,
      ]);

      const revoked = await t.store.revokeSuppression(suppression.id, 'admin-token', now);
      expect(revoked).to.include({ active: false, revokedBy: 'admin-token' });
      expect(await t.store.listSuppressions({ active: true })).to.deep.equal([]);
      expect((await t.store.listSuppressions({ active: false })).map((s) => s.id)).to.include(suppression.id);
      await t.store.upsertFindings(scan, again, new Date(now.getTime() + 1000));
      expect((await t.store.getFinding(fresh.id))?.suppressedBy).to.equal(null);
      expect(await t.store.revokeSuppression('nope', 'x', now)).to.equal(null);
    });

    it('ignores a suppression that has expired at the sighting', async () => {
      const suppression = await t.store.createSuppression({
        rule: 'edge-retention',
        reason: 'expires before the scan judges',
        expiresAt: new Date(now.getTime() + HOUR),
        createdBy: 'admin-token',
      });
      const scan = `scan-expired-${kind}`;
      await t.store.createScan({ id: scan, sources: ['edge-a'], trigger: 'api', judgedAt: now });
      const f = seeded.findings.plateEdge;
      await t.store.upsertFindings(
        scan,
        [input({ source: f.source, bucket: f.bucket, key: f.key, rule: f.rule })],
        new Date(now.getTime() + 2 * HOUR),
      );
      expect((await t.store.getFinding(f.id))?.suppressedBy).to.equal(null);
      await t.store.revokeSuppression(suppression.id, 'admin-token', now);
    });

    it('refuses a suppression without criteria or reason', async () => {
      const base = { reason: 'x', expiresAt: new Date(now.getTime() + HOUR), createdBy: 'a' };
      await expectRejection(t.store.createSuppression(base), RangeError);
      await expectRejection(t.store.createSuppression({ ...base, keyPrefix: '' }), RangeError);
      await expectRejection(
        t.store.createSuppression({ ...base, rule: 'clock-skew', reason: ' ' }),
        RangeError,
      );
    });

    it('changes a status only from an expected one, under the row lock', async () => {
      const id = seeded.findings.plateVendor.id;
      await t.store.setFindingStatus(id, {
        status: 'acknowledged',
        actor: 'a',
        comment: 'seen',
        expectFrom: ['open'],
      });
      const error = await t.store
        .setFindingStatus(id, { status: 'acknowledged', actor: 'b', comment: 'me too', expectFrom: ['open'] })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(FindingStatusConflictError);
      expect((error as FindingStatusConflictError).current).to.equal('acknowledged');
      expect((await t.store.findingHistory(id)).map((h) => h.actor)).to.deep.equal(['a']);
    });

    it('cancels a running scan once and leaves a finished one alone', async () => {
      const id = `scan-cancel-${kind}`;
      await t.store.createScan({ id, sources: ['edge-a'], trigger: 'api', judgedAt: now });
      const first = await t.store.cancelScan(id, now);
      expect(first?.changed).to.equal(true);
      expect(first?.scan.status).to.equal('cancelled');
      expect(first?.scan.finishedAt).to.equal(now.toISOString());
      expect((await t.store.cancelScan(id, now))?.changed).to.equal(false);
      expect((await t.store.cancelScan(seeded.scan1, now))?.changed).to.equal(false);
      expect(await t.store.cancelScan('no-such-scan', now)).to.equal(null);
    });

    it('lists finished scans after a position, oldest first', async () => {
      const all = await t.store.scansFinishedAfter(null, 1000);
      const ids = all.map((s) => s.id);
      expect(ids.indexOf(seeded.scan1)).to.be.lessThan(ids.indexOf(seeded.scan2));
      const first = all[0]!;
      const rest = await t.store.scansFinishedAfter({ finishedAt: first.finishedAt, id: first.id }, 1000);
      expect(rest.map((s) => s.id)).to.deep.equal(ids.slice(1));
      expect(first.finishedAt.getTime()).to.be.greaterThan(first.startedAt.getTime());
    });

    it('counts findings for metrics, without the remediated ones', async () => {
      const counts = await t.store.countFindings();
      expect(counts.every((c) => c.status !== 'remediated' && c.count > 0)).to.equal(true);
      expect(counts.find((c) => c.rule === 'undeclared-bucket')).to.include({
        severity: 'critical',
        status: 'open',
        count: 1,
      });
    });

    it('summarises compliance for a period per source and rule', async () => {
      const data = await t.store.complianceSummary({ from: new Date(now.getTime() - 24 * HOUR), to: now });
      const edge = data.findings.find((f) => f.source === 'edge-a' && f.rule === 'edge-retention');
      expect(edge).to.include({ present: 1, newInPeriod: 1, remediated: 0 });
      const archived = data.findings.find((f) => f.source === 'vendor-b' && f.rule === 'vendor-retention');
      expect(archived).to.include({ present: 1, remediated: 1, remediatedInPeriod: 1 });
      expect(data.scans.find((s) => s.source === 'vendor-b')).to.deep.include({ scans: 2, completed: 2 });
      const only = await t.store.complianceSummary({
        from: new Date(now.getTime() - 24 * HOUR),
        to: now,
        sources: ['edge-a'],
      });
      expect(new Set(only.findings.map((f) => f.source))).to.deep.equal(new Set(['edge-a']));
      const before = await t.store.complianceSummary({
        from: new Date(0),
        to: new Date(now.getTime() - 10 * HOUR),
      });
      expect(before.findings).to.deep.equal([]);
      await expectRejection(t.store.complianceSummary({ from: now, to: new Date(0) }), RangeError);
    });

    it('writes, completes, filters and pages the audit trail, newest first', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(
          await t.store.recordAccess({
            requestId: `req-${i}`,
            actor: i % 2 === 0 ? 'officer-token' : null,
            role: i % 2 === 0 ? 'officer' : null,
            method: 'GET',
            route: '/api/v1/findings/:id',
            params: { id: `f-${i}` },
            query: { q: '**-***-*' },
            client: '127.0.0.1',
          }),
        );
      }
      await t.store.completeAccess(ids[0]!, 200, 12.5);
      await t.store.completeAccess(ids[0]!, 500, 1);
      const first = await t.store.listAccess({ limit: 2, route: '/api/v1/findings/:id' });
      expect(first.items.map((e) => e.requestId)).to.deep.equal(['req-4', 'req-3']);
      const second = await t.store.listAccess({
        limit: 2,
        route: '/api/v1/findings/:id',
        cursor: first.nextCursor!,
      });
      expect(second.items.map((e) => e.requestId)).to.deep.equal(['req-2', 'req-1']);
      const mine = await t.store.listAccess({ actor: 'officer-token' });
      expect(mine.items.map((e) => e.requestId)).to.deep.equal(['req-4', 'req-2', 'req-0']);
      expect(mine.items[2]).to.deep.include({
        status: 200,
        durationMs: 12.5,
        params: { id: 'f-0' },
        query: { q: '**-***-*' },
      });
      expect((await t.store.listAccess({ status: 200 })).items.map((e) => e.requestId)).to.deep.equal([
        'req-0',
      ]);
      await expectRejection(t.store.listAccess({ cursor: 'bm9wZQ' }), InvalidCursorError);
    });
  });
}
