/** listFindings: every filter, every sort in both orders, keyset pages that neither skip nor repeat. */
import { expect } from 'chai';
import { SEVERITIES, type Finding, type Severity } from '../../../core/model.js';
import { InvalidCursorError } from '../../../core/store/errors.js';
import type { FindingFilter, FindingInput } from '../../../core/store/store.js';
import type { TestStore } from '../../helpers/database.js';
import { at, finding, newScan, uid } from './fixtures.js';
import { expectRejection } from './scans.suite.js';

type Sort = NonNullable<FindingFilter['sort']>;
const SORTS: Sort[] = ['severity', 'firstSeen', 'lastSeen', 'ageHours'];
const ORDERS = ['asc', 'desc'] as const;

/** The sort key as the contract defines it, comparable as a number. */
function sortKey(f: Finding, sort: Sort): number {
  switch (sort) {
    case 'severity':
      return SEVERITIES.length - SEVERITIES.indexOf(f.severity);
    case 'firstSeen':
      return Date.parse(f.firstSeen);
    case 'lastSeen':
      return Date.parse(f.lastSeen);
    case 'ageHours':
      return f.ageHours ?? Number.NEGATIVE_INFINITY;
  }
}

function expectSorted(items: Finding[], sort: Sort, order: 'asc' | 'desc'): void {
  for (let i = 1; i < items.length; i++) {
    const [a, b] = order === 'asc' ? [items[i - 1]!, items[i]!] : [items[i]!, items[i - 1]!];
    const [ka, kb] = [sortKey(a, sort), sortKey(b, sort)];
    expect(ka <= kb, `${sort} ${order} at ${i}`).to.equal(true);
    if (ka === kb) expect(a.id < b.id, `id tie-break ${sort} ${order} at ${i}`).to.equal(true);
  }
}

export function listingTests(get: () => TestStore): void {
  describe('listing findings', () => {
    const source = uid('list');
    const other = uid('list');
    const sources = [source, other];
    let all: Finding[] = [];
    let scan1 = '';
    let scan3 = '';

    before(async () => {
      const { store } = get();
      const severities: Severity[] = ['critical', 'high', 'high', 'medium', 'low', 'info', 'high'];
      const make = (src: string, i: number): FindingInput =>
        finding(
          src,
          i % 3 === 0 ? 'b-one' : 'b-two',
          `cam${i % 2}/IMG_${String(i).padStart(4, '0')}.JPG`,
          ['edge-retention', 'clock-skew', 'missing-timestamp'][i % 3],
          {
            severity: severities[i % severities.length],
            // Ties and nulls on purpose: the cursor must break them by id.
            ageHours: i % 4 === 0 ? null : (i % 5) * 10.5,
          },
        );
      scan1 = await newScan(store, sources);
      await store.upsertFindings(
        scan1,
        Array.from({ length: 8 }, (_, i) => make(source, i)),
        at(1),
      );
      const scan2 = await newScan(store, sources);
      await store.upsertFindings(
        scan2,
        Array.from({ length: 9 }, (_, i) => make(i < 5 ? source : other, i + 8)),
        at(10),
      );
      scan3 = await newScan(store, sources);
      await store.upsertFindings(scan3, [make(source, 0), make(source, 1), make(source, 9)], at(20));
      all = (await store.listFindings({ source: sources, limit: 1000 })).items;
      const statuses = ['acknowledged', 'false-positive', 'resolved'] as const;
      for (const [i, status] of statuses.entries()) {
        await store.setFindingStatus(all[i]!.id, { status, actor: 'officer' });
      }
      all = (await store.listFindings({ source: sources, limit: 1000 })).items;
    });

    it('holds every finding of the fixture once', () => {
      expect(all).to.have.length(17);
      expect(new Set(all.map((f) => f.id)).size).to.equal(17);
    });

    const ids = (items: Finding[]): string[] => items.map((f) => f.id).sort();
    const cases: Array<[string, FindingFilter, (f: Finding) => boolean]> = [
      ['rule', { rule: ['clock-skew', 'missing-timestamp'] }, (f) => f.rule !== 'edge-retention'],
      ['severity', { severity: ['high', 'info'] }, (f) => f.severity === 'high' || f.severity === 'info'],
      ['source', { source: [other] }, (f) => f.source === other],
      ['bucket', { bucket: ['b-one'] }, (f) => f.bucket === 'b-one'],
      ['status', { status: ['open', 'resolved'] }, (f) => f.status === 'open' || f.status === 'resolved'],
      ['since (last seen at or after)', { since: at(10) }, (f) => f.lastSeen >= at(10).toISOString()],
      ['until (first seen at or before)', { until: at(1) }, (f) => f.firstSeen <= at(1).toISOString()],
      [
        'keyContains, case-insensitive',
        { keyContains: 'CAM1/img_00' },
        (f) => f.key.toLowerCase().includes('cam1/img_00'),
      ],
      ['empty lists as no filter', { rule: [], status: [] }, () => true],
    ];
    for (const [name, filter, predicate] of cases) {
      it(`filters by ${name}`, async () => {
        const page = await get().store.listFindings({ source: sources, limit: 1000, ...filter });
        const expected = all.filter(predicate);
        expect(expected.length, 'the fixture exercises this filter').to.be.within(1, all.length);
        expect(ids(page.items)).to.deep.equal(ids(expected));
      });
    }

    it('matches keys case-insensitively beyond ASCII', async () => {
      const { store } = get();
      const src = uid('accents');
      const scan = await newScan(store, [src]);
      await store.upsertFindings(
        scan,
        [finding(src, 'b', 'Straße/ÉCLAIR.jpg'), finding(src, 'b', 'other.jpg')],
        at(1),
      );
      const page = await store.listFindings({ source: [src], keyContains: 'éclair' });
      expect(page.items.map((f) => f.key)).to.deep.equal(['Straße/ÉCLAIR.jpg']);
    });

    it('filters by scan, counting findings a later scan refreshed', async () => {
      const { store } = get();
      const first = await store.listFindings({ source: sources, scanId: scan1, limit: 1000 });
      expect(first.items).to.have.length(8);
      const third = await store.listFindings({ scanId: scan3, limit: 1000 });
      expect(third.items.map((f) => f.key).sort()).to.deep.equal([
        'cam0/IMG_0000.JPG',
        'cam1/IMG_0001.JPG',
        'cam1/IMG_0009.JPG',
      ]);
    });

    it('combines filters with AND', async () => {
      const page = await get().store.listFindings({
        source: [source],
        rule: ['edge-retention'],
        bucket: ['b-one'],
        since: at(10),
        limit: 1000,
      });
      const expected = all.filter(
        (f) =>
          f.source === source &&
          f.rule === 'edge-retention' &&
          f.bucket === 'b-one' &&
          f.lastSeen >= at(10).toISOString(),
      );
      expect(expected.length).to.be.greaterThan(0);
      expect(ids(page.items)).to.deep.equal(ids(expected));
    });

    it('sorts by severity, most severe first by default', async () => {
      const page = await get().store.listFindings({ source: sources, limit: 1000 });
      expect(page.items[0]?.severity).to.equal('critical');
      expectSorted(page.items, 'severity', 'desc');
    });

    for (const sort of SORTS) {
      for (const order of ORDERS) {
        it(`sorts by ${sort} ${order} and pages through it without skipping or repeating`, async () => {
          const { store } = get();
          const whole = (await store.listFindings({ source: sources, sort, order, limit: 1000 })).items;
          expect(whole).to.have.length(17);
          expectSorted(whole, sort, order);
          const walked: Finding[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.listFindings({ source: sources, sort, order, limit: 3, cursor });
            walked.push(...page.items);
            cursor = page.nextCursor ?? undefined;
            pages += 1;
            expect(pages).to.be.below(10);
          } while (cursor);
          expect(pages).to.equal(6);
          expect(walked.map((f) => f.id)).to.deep.equal(whole.map((f) => f.id));
        });
      }
    }

    it('returns 100 per page by default', async () => {
      const { store } = get();
      const src = uid('many');
      const scan = await newScan(store, [src]);
      await store.upsertFindings(
        scan,
        Array.from({ length: 150 }, (_, i) => finding(src, 'b', `k${i}`)),
        at(1),
      );
      const first = await store.listFindings({ source: [src] });
      expect(first.items).to.have.length(100);
      expect(first.nextCursor).to.be.a('string');
      const second = await store.listFindings({ source: [src], cursor: first.nextCursor! });
      expect(second.items).to.have.length(50);
      expect(second.nextCursor).to.equal(null);
    });

    it('refuses a forged cursor or one issued for another sort', async () => {
      const { store } = get();
      const page = await store.listFindings({ source: sources, sort: 'firstSeen', limit: 2 });
      await expectRejection(
        store.listFindings({ source: sources, sort: 'lastSeen', cursor: page.nextCursor! }),
        InvalidCursorError,
      );
      await expectRejection(
        store.listFindings({ source: sources, sort: 'firstSeen', order: 'asc', cursor: page.nextCursor! }),
        InvalidCursorError,
      );
      await expectRejection(store.listFindings({ cursor: 'not-a-cursor' }), InvalidCursorError);
      const forged = Buffer.from(
        JSON.stringify({ s: 'severity', o: 'desc', v: "1'; DROP TABLE findings; --", id: 'x' }),
      ).toString('base64url');
      await expectRejection(store.listFindings({ cursor: forged }), InvalidCursorError);
      // Well-formed but out of the database's range: refused before the query, not a database error.
      const outOfRange = (sort: string, v: string) =>
        Buffer.from(JSON.stringify({ s: sort, o: 'desc', v, id: 'x' })).toString('base64url');
      await expectRejection(
        store.listFindings({
          sort: 'firstSeen',
          cursor: outOfRange('firstSeen', '2026-13-45T99:99:99.000000Z'),
        }),
        InvalidCursorError,
      );
      await expectRejection(
        store.listFindings({ sort: 'ageHours', cursor: outOfRange('ageHours', '1e999') }),
        InvalidCursorError,
      );
    });

    it('takes filter values as parameters, never as SQL', async () => {
      const page = await get().store.listFindings({ source: ["x' OR '1'='1"], keyContains: "%' OR 1=1 --" });
      expect(page.items).to.deep.equal([]);
    });
  });
}
