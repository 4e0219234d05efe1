/** Findings: upsert by identity over rescans, remediation, reopening, shards (officers: findings-status.suite.ts). */
import { expect } from 'chai';
import { ScanNotFoundError } from '../../../core/store/errors.js';
import type { Finding } from '../../../core/model.js';
import type { TestStore } from '../../helpers/database.js';
import { at, finding, newScan, uid } from './fixtures.js';
import { expectRejection } from './scans.suite.js';

function byKey(findings: Finding[]): Map<string, Finding> {
  return new Map(findings.map((f) => [`${f.key}|${f.rule}`, f]));
}

async function ofSource(get: () => TestStore, source: string): Promise<Map<string, Finding>> {
  const page = await get().store.listFindings({ source: [source], limit: 1000 });
  return byKey(page.items);
}

export function findingTests(get: () => TestStore): void {
  describe('findings', () => {
    it('keeps one row per identity over rescans: first seen kept, last seen and evidence refreshed', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(s1, [finding(source, 'b', 'k1'), finding(source, 'b', 'k2')], at(1));
      const s2 = await newScan(store, [source]);
      await store.upsertFindings(
        s2,
        [
          finding(source, 'b', 'k1', 'edge-retention', {
            severity: 'critical',
            etag: 'etag-2',
            size: 5_000_000_000,
            ageHours: 74.5,
            threshold: '72 h',
            reason: 'Changed reason.',
            details: { hoursOver: 26, nested: { a: [1, 2] } },
            lastModified: at(-70),
            captureTime: null,
            captureTimeOrigin: null,
          }),
          finding(source, 'b', 'k2'),
        ],
        at(25),
      );
      const found = await ofSource(get, source);
      expect(found.size).to.equal(2);
      const k1 = found.get('k1|edge-retention')!;
      expect(k1).to.deep.include({
        source,
        bucket: 'b',
        key: 'k1',
        rule: 'edge-retention',
        status: 'open',
        severity: 'critical',
        etag: 'etag-2',
        size: 5_000_000_000,
        ageHours: 74.5,
        threshold: '72 h',
        reason: 'Changed reason.',
        lastModified: at(-70).toISOString(),
        captureTime: null,
        captureTimeOrigin: null,
        scanId: s2,
        firstSeen: at(1).toISOString(),
        lastSeen: at(25).toISOString(),
        remediatedAt: null,
        suppressedBy: null,
      });
      expect(k1.details).to.deep.equal({ hoursOver: 26, nested: { a: [1, 2] } });
      expect(await store.getFinding(k1.id)).to.deep.equal(k1);
      expect(await store.getFinding('no-such-id')).to.equal(null);
      // first_scan_id is kept: the first scan still lists both findings.
      expect((await store.findingsOfScan(s1)).map((f) => f.key)).to.have.members(['k1', 'k2']);
    });

    it('collapses duplicates within a call (last wins) and upserts more than one batch', async () => {
      const { store, db } = get();
      const source = uid('src');
      const scan = await newScan(store, [source]);
      const many = Array.from({ length: 1203 }, (_, i) =>
        finding(source, 'b', `img/${String(i).padStart(5, '0')}.jpg`),
      );
      many.push(finding(source, 'b', 'img/00000.jpg', 'edge-retention', { reason: 'last wins' }));
      await store.upsertFindings(scan, many, at(1));
      await store.upsertFindings(scan, many, at(2));
      const rows = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM findings WHERE source = $1',
        [source],
      );
      expect(rows[0]?.n).to.equal(1203);
      const seen = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM finding_scans WHERE scan_id = $1',
        [scan],
      );
      expect(seen[0]?.n).to.equal(1203);
      const first = await store.listFindings({ source: [source], keyContains: 'img/00000.jpg' });
      expect(first.items.map((f) => f.reason)).to.deep.equal(['last wins']);
      await store.upsertFindings(scan, [], at(3));
    });

    it('survives concurrent upserts of the same findings without duplicates or errors', async () => {
      const { store, db } = get();
      const source = uid('src');
      const scans = await Promise.all(Array.from({ length: 8 }, () => newScan(store, [source])));
      const inputs = Array.from({ length: 100 }, (_, i) => finding(source, 'b', `k${i}`));
      await Promise.all(
        scans.map((scan, i) => store.upsertFindings(scan, [...inputs].reverse().slice(i), at(i))),
      );
      const rows = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM findings WHERE source = $1',
        [source],
      );
      expect(rows[0]?.n).to.equal(100);
    });

    it('rejects findings for an unknown scan', async () => {
      const source = uid('src');
      await expectRejection(
        get().store.upsertFindings(uid('missing'), [finding(source, 'b', 'k')], at(1)),
        ScanNotFoundError,
      );
    });

    it('remediates what a complete scan did not see, object findings only unless asked', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(
        s1,
        [
          finding(source, 'b', 'gone'),
          finding(source, 'b', 'kept'),
          finding(source, 'b', '', 'public-access'),
          finding(source, 'other', 'gone-elsewhere'),
        ],
        at(1),
      );
      const s2 = await newScan(store, [source]);
      await store.upsertFindings(s2, [finding(source, 'b', 'kept')], at(2));
      expect(await store.remediateUnseen(s2, source, 'b', at(3))).to.equal(1);
      let found = await ofSource(get, source);
      expect(found.get('gone|edge-retention')).to.deep.include({
        status: 'remediated',
        remediatedAt: at(3).toISOString(),
      });
      expect(found.get('kept|edge-retention')?.status).to.equal('open');
      expect(found.get('|public-access')?.status).to.equal('open');
      expect(found.get('gone-elsewhere|edge-retention')?.status).to.equal('open');
      // A rule whose evidence the scan could not gather keeps its findings.
      const keep = { includeBucketLevel: true, keepRules: ['public-access', 'lifecycle-not-enforcing'] };
      expect(await store.remediateUnseen(s2, source, 'b', at(4), keep)).to.equal(0);
      expect((await ofSource(get, source)).get('|public-access')?.status).to.equal('open');
      // Already remediated findings are neither counted again nor re-dated.
      expect(await store.remediateUnseen(s2, source, 'b', at(4), { includeBucketLevel: true })).to.equal(1);
      found = await ofSource(get, source);
      expect(found.get('|public-access')).to.deep.include({
        status: 'remediated',
        remediatedAt: at(4).toISOString(),
      });
      expect(found.get('gone|edge-retention')?.remediatedAt).to.equal(at(3).toISOString());
    });

    it('takes back a scan’s sightings of objects a listing proves gone, in the range, keys kept aside', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      const keys = ['a', 'b', 'c', 'd'];
      await store.upsertFindings(
        s1,
        [...keys.map((k) => finding(source, 'b', k)), finding(source, 'b', '', 'public-access')],
        at(1),
      );
      const s2 = await newScan(store, [source]);
      await store.upsertFindings(s2, [finding(source, 'b', 'b')], at(2));
      // The page (a, c] lists c alone: b is gone; a and d lie outside; the bucket-level finding stays.
      expect(await store.unlinkGoneObjectFindings(s1, source, 'b', 'a', 'c', ['c'])).to.equal(1);
      const seen = (await store.findingsOfScan(s1)).map((f) => f.key).sort();
      expect(seen).to.deep.equal(['', 'a', 'c', 'd']);
      // Only that scan's sighting: the later scan still saw b.
      expect((await store.findingsOfScan(s2)).map((f) => f.key)).to.deep.equal(['b']);
      // Open ends: everything of the bucket but the kept keys.
      expect(await store.unlinkGoneObjectFindings(s1, source, 'b', null, null, ['d'])).to.equal(2);
      expect((await store.findingsOfScan(s1)).map((f) => f.key).sort()).to.deep.equal(['', 'd']);
    });

    it('refuses to remediate for an unknown scan, which would have seen nothing', async () => {
      const { store } = get();
      const source = uid('src');
      const scan = await newScan(store, [source]);
      await store.upsertFindings(scan, [finding(source, 'b', 'k')], at(1));
      await expectRejection(store.remediateUnseen(uid('missing'), source, 'b', at(2)), ScanNotFoundError);
      expect((await ofSource(get, source)).get('k|edge-retention')?.status).to.equal('open');
    });

    it('reopens a remediated finding that is seen again', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(s1, [finding(source, 'b', 'k')], at(1));
      const s2 = await newScan(store, [source]);
      expect(await store.remediateUnseen(s2, source, 'b', at(2))).to.equal(1);
      const s3 = await newScan(store, [source]);
      await store.upsertFindings(s3, [finding(source, 'b', 'k')], at(3));
      const k = (await ofSource(get, source)).get('k|edge-retention');
      expect(k).to.deep.include({
        status: 'open',
        remediatedAt: null,
        firstSeen: at(1).toISOString(),
        scanId: s3,
      });
    });

    it('bounds remediation to a shard: keyFrom exclusive, keyTo inclusive, in byte order', async () => {
      const { store } = get();
      const source = uid('src');
      // Byte order: upper case before lower case, so 'Z' < 'a' (a locale collation would disagree).
      const keys = ['A', 'M', 'Z', 'a', 'm', 'z'];
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(
        s1,
        [...keys.map((k) => finding(source, 'b', k)), finding(source, 'b', '', 'public-access')],
        at(1),
      );
      const s2 = await newScan(store, [source]);
      expect(await store.remediateUnseen(s2, source, 'b', at(2), { keyFrom: 'M', keyTo: 'a' })).to.equal(2);
      let found = await ofSource(get, source);
      const remediated = (): string[] =>
        [...found.values()]
          .filter((f) => f.status === 'remediated')
          .map((f) => f.key)
          .sort();
      expect(remediated()).to.deep.equal(['Z', 'a']);
      expect(await store.remediateUnseen(s2, source, 'b', at(3), { keyTo: 'M' })).to.equal(2);
      found = await ofSource(get, source);
      expect(remediated()).to.deep.equal(['A', 'M', 'Z', 'a']);
      expect(
        await store.remediateUnseen(s2, source, 'b', at(4), { keyFrom: 'a', includeBucketLevel: true }),
      ).to.equal(2);
      found = await ofSource(get, source);
      expect(remediated()).to.deep.equal(['A', 'M', 'Z', 'a', 'm', 'z']);
      expect(found.get('|public-access')?.status).to.equal('open');
    });

    it('lists the findings seen in a scan exactly, even after a later scan refreshed them', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(
        s1,
        [
          finding(source, 'b', 'k1', 'edge-retention', { severity: 'low' }),
          finding(source, 'b', 'k2', 'clock-skew', { severity: 'critical' }),
        ],
        at(1),
      );
      const s2 = await newScan(store, [source]);
      await store.upsertFindings(s2, [finding(source, 'b', 'k1'), finding(source, 'b', 'k3')], at(2));
      expect((await store.findingsOfScan(s1)).map((f) => f.key)).to.deep.equal(['k2', 'k1']);
      const second = await store.findingsOfScan(s2);
      expect(second.map((f) => [f.key, f.scanId])).to.deep.equal([
        ['k1', s2],
        ['k3', s2],
      ]);
      expect(await store.findingsOfScan(uid('missing'))).to.deep.equal([]);
    });

    it('names the buckets of a source that still hold findings', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(
        s1,
        [finding(source, 'zeta', 'k'), finding(source, 'alpha', 'k'), finding(source, 'gone', 'k')],
        at(1),
      );
      const s2 = await newScan(store, [source]);
      await store.remediateUnseen(s2, source, 'gone', at(2));
      expect(await store.bucketsWithFindings(source)).to.deep.equal(['alpha', 'zeta']);
      expect(await store.bucketsWithFindings(uid('src'))).to.deep.equal([]);
    });
  });
}
