/** Scans: rows, per-bucket progress, atomic counters, final status and per-rule counts. */
import { expect } from 'chai';
import { ScanNotFoundError } from '../../../core/store/errors.js';
import type { TestStore } from '../../helpers/database.js';
import { at, finding, newScan, T0, uid } from './fixtures.js';

export function scanTests(get: () => TestStore): void {
  describe('scans', () => {
    it('tidies up after a scan: PGlite, without autovacuum, gets statistics of its findings', async () => {
      const { store, db } = get();
      const scan = await newScan(store, ['tidy']);
      await store.upsertFindings(scan, [finding('tidy', 'b', 'k1'), finding('tidy', 'b', 'k2')], at(1));
      await store.finishScan(scan, 'completed', at(2));
      const analyzed = async () =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'findings'`,
          )
        )[0]!.n;
      const before = await analyzed();
      await store.tidyAfterScan();
      if (db.kind === 'pglite') {
        expect(before).to.equal(0);
        expect(await analyzed()).to.be.greaterThan(0);
      } else {
        // PostgreSQL's autovacuum keeps statistics: the store leaves them alone.
        expect(await analyzed()).to.equal(before);
      }
    });

    it('records a running scan and reads it back with ISO times', async () => {
      const { store } = get();
      const id = uid('scan');
      await store.createScan({
        id,
        sources: ['edge-a', 'vendor-b'],
        trigger: 'api',
        judgedAt: at(1),
        startedAt: at(2),
      });
      const scan = await store.getScan(id);
      expect(scan).to.deep.equal({
        id,
        sources: ['edge-a', 'vendor-b'],
        trigger: 'api',
        status: 'running',
        startedAt: at(2).toISOString(),
        finishedAt: null,
        judgedAt: at(1).toISOString(),
        objectsListed: 0,
        objectsEvaluated: 0,
        findingsByRule: {},
        errors: [],
        notes: [],
        buckets: [],
      });
    });

    it('treats creating an existing scan as a no-op and an unknown id as null', async () => {
      const { store } = get();
      const id = uid('scan');
      await store.createScan({ id, sources: ['a'], trigger: 'cli', judgedAt: T0 });
      await store.createScan({ id, sources: ['b'], trigger: 'api', judgedAt: at(5) });
      expect((await store.getScan(id))?.sources).to.deep.equal(['a']);
      expect(await store.getScan(uid('missing'))).to.equal(null);
    });

    it('lists scans newest first, by source, within the limit', async () => {
      const { store } = get();
      const source = uid('src');
      const older = await newScan(store, [source, 'other'], at(1));
      const newer = await newScan(store, [source], at(2));
      const unrelated = await newScan(store, [uid('src')], at(3));
      const listed = await store.listScans({ source });
      expect(listed.map((s) => s.id)).to.deep.equal([newer, older]);
      expect((await store.listScans({ source, limit: 1 })).map((s) => s.id)).to.deep.equal([newer]);
      expect((await store.listScans({ limit: 1000 })).map((s) => s.id)).to.include.members([
        older,
        newer,
        unrelated,
      ]);
    });

    it('replaces the progress of a bucket per shard and rejects an unknown scan', async () => {
      const { store } = get();
      const id = await newScan(store);
      const base = {
        source: 'src',
        bucket: 'b1',
        listed: 10,
        evaluated: 5,
        fetched: 2,
        state: 'running' as const,
      };
      await store.setBucketProgress(id, base);
      await store.setBucketProgress(id, { ...base, listed: 20, evaluated: 20, state: 'completed' });
      await store.setBucketProgress(id, { ...base, shard: 1, listed: 7 });
      await store.setBucketProgress(id, { ...base, bucket: 'a0', listed: 1 });
      const scan = await store.getScan(id);
      expect(scan?.buckets).to.deep.equal([
        { source: 'src', bucket: 'a0', shard: 0, listed: 1, evaluated: 5, fetched: 2, state: 'running' },
        { source: 'src', bucket: 'b1', shard: 0, listed: 20, evaluated: 20, fetched: 2, state: 'completed' },
        { source: 'src', bucket: 'b1', shard: 1, listed: 7, evaluated: 5, fetched: 2, state: 'running' },
      ]);
      await expectRejection(store.setBucketProgress(uid('missing'), base), ScanNotFoundError);
    });

    it('adds counts atomically from 50 concurrent callers', async () => {
      const { store } = get();
      const id = await newScan(store);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.addScanCounts(id, { objectsListed: i + 1, objectsEvaluated: 2 }),
        ),
      );
      const scan = await store.getScan(id);
      expect(scan?.objectsListed).to.equal((50 * 51) / 2);
      expect(scan?.objectsEvaluated).to.equal(100);
      await expectRejection(
        store.addScanCounts(uid('missing'), { objectsListed: 1, objectsEvaluated: 1 }),
        ScanNotFoundError,
      );
    });

    it('appends errors and notes without losing concurrent ones', async () => {
      const { store } = get();
      const id = await newScan(store);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.addScanError(id, `error ${i}`)));
      await store.addScanNote(id, 'first note');
      await store.addScanNote(id, 'second note');
      const scan = await store.getScan(id);
      expect(scan?.errors).to.have.members(Array.from({ length: 20 }, (_, i) => `error ${i}`));
      expect(scan?.notes).to.deep.equal(['first note', 'second note']);
      await expectRejection(store.addScanNote(uid('missing'), 'x'), ScanNotFoundError);
    });

    it('finishes with the status, the time and the findings seen in the scan counted per rule', async () => {
      const { store } = get();
      const source = uid('src');
      const first = await newScan(store, [source]);
      await store.upsertFindings(
        first,
        [
          finding(source, 'b', 'k1'),
          finding(source, 'b', 'k2'),
          finding(source, 'b', 'k1', 'missing-timestamp'),
          finding(source, 'b', '', 'undeclared-bucket'),
        ],
        at(1),
      );
      const second = await newScan(store, [source]);
      // A later scan refreshes last_scan_id of k1; the first scan still saw it.
      await store.upsertFindings(second, [finding(source, 'b', 'k1')], at(2));
      await store.finishScan(first, 'completed', at(3));
      await store.finishScan(second, 'incomplete', at(4));
      const a = await store.getScan(first);
      expect(a?.status).to.equal('completed');
      expect(a?.finishedAt).to.equal(at(3).toISOString());
      expect(a?.findingsByRule).to.deep.equal({
        'edge-retention': 2,
        'missing-timestamp': 1,
        'undeclared-bucket': 1,
      });
      const b = await store.getScan(second);
      expect(b?.status).to.equal('incomplete');
      expect(b?.findingsByRule).to.deep.equal({ 'edge-retention': 1 });
      const empty = await newScan(store, [source]);
      await store.finishScan(empty, 'failed', at(5));
      expect((await store.getScan(empty))?.findingsByRule).to.deep.equal({});
      await expectRejection(store.finishScan(uid('missing'), 'completed', at(5)), ScanNotFoundError);
      // A scan that is no longer running (cancelled, or finished) keeps its status.
      await store.finishScan(first, 'incomplete', at(6));
      expect((await store.getScan(first))?.status).to.equal('completed');
    });
  });
}

/** Asserts that `promise` rejects with an instance of `type`. */
export async function expectRejection(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    return;
  }
  expect.fail(`expected a rejection with ${type.name}`);
}
