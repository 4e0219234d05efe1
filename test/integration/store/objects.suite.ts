/** Object states: round trip of every field (Dates and nulls), upsert, batches, paging, hashes. */
import { expect } from 'chai';
import type { TestStore } from '../../helpers/database.js';
import { objectState, uid } from './fixtures.js';

export function objectTests(get: () => TestStore): void {
  describe('object states', () => {
    it('round-trips every field, Dates and nulls included', async () => {
      const { store } = get();
      const source = uid('src');
      const full = objectState(source, 'b', 'cam1/full.jpg', { perceptualHash: '0123456789abcdef' });
      const sparse = objectState(source, 'b', 'cam1/broken.jpg', {
        isImage: false,
        readError: 'not a JPEG',
        captureTime: null,
        captureTimeOrigin: null,
        exifCaptureTime: null,
        cameraMake: null,
        cameraModel: null,
        plateHash: null,
        signals: { metadata: null, exif: false },
        perceptualHash: null,
      });
      await store.putObjectStates([full, sparse]);
      const states = await store.getObjectStates(source, 'b', [
        'cam1/full.jpg',
        'cam1/broken.jpg',
        'cam1/unknown.jpg',
      ]);
      expect([...states.keys()].sort()).to.deep.equal(['cam1/broken.jpg', 'cam1/full.jpg']);
      expect(states.get('cam1/full.jpg')).to.deep.equal(full);
      expect(states.get('cam1/broken.jpg')).to.deep.equal(sparse);
      expect(states.get('cam1/full.jpg')?.captureTime).to.be.instanceOf(Date);
      expect(await store.getObjectStates(source, 'other-bucket', ['cam1/full.jpg'])).to.have.property(
        'size',
        0,
      );
      expect(await store.getObjectStates(source, 'b', [])).to.have.property('size', 0);
    });

    it('replaces a state when the object changes', async () => {
      const { store } = get();
      const source = uid('src');
      await store.putObjectStates([objectState(source, 'b', 'k')]);
      const changed = objectState(source, 'b', 'k', {
        etag: 'etag-2',
        size: 7,
        captureTime: null,
        perceptualHash: null,
      });
      await store.putObjectStates([changed, changed]);
      expect((await store.getObjectStates(source, 'b', ['k'])).get('k')).to.deep.equal(changed);
    });

    it('reads and writes more keys than one batch holds', async () => {
      const { store } = get();
      const source = uid('src');
      const keys = Array.from({ length: 2345 }, (_, i) => `img/${i}.jpg`);
      await store.putObjectStates(keys.map((k) => objectState(source, 'b', k, { size: k.length })));
      const states = await store.getObjectStates(source, 'b', [...keys, ...keys.slice(0, 10)]);
      expect(states.size).to.equal(keys.length);
      expect(states.get('img/2344.jpg')?.size).to.equal('img/2344.jpg'.length);
    });

    it('pages through a bucket in byte order', async () => {
      const { store } = get();
      const source = uid('src');
      const keys = ['b', 'B', 'a', 'Z', 'a/1', 'é'];
      await store.putObjectStates(keys.map((k) => objectState(source, 'bkt', k)));
      const walked: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await store.listObjectStates(source, 'bkt', after, 4);
        walked.push(...page.map((s) => s.key));
        if (page.length < 4) break;
        after = page[page.length - 1]!.key;
      }
      const byteOrder = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(walked).to.deep.equal(byteOrder);
    });

    it('stores a perceptual hash only for the version it was computed from', async () => {
      const { store } = get();
      const source = uid('src');
      await store.putObjectStates([objectState(source, 'b', 'k', { etag: 'v2' })]);
      expect(await store.setPerceptualHash(source, 'b', 'k', 'v1', 'ffffffffffffffff')).to.equal(false);
      expect((await store.getObjectStates(source, 'b', ['k'])).get('k')?.perceptualHash).to.equal(null);
      expect(await store.setPerceptualHash(source, 'b', 'k', 'v2', '00000000000000ff')).to.equal(true);
      expect((await store.getObjectStates(source, 'b', ['k'])).get('k')?.perceptualHash).to.equal(
        '00000000000000ff',
      );
    });

    it('keeps what an object copies while its bytes and capture facts stay the same, whatever a writer says', async () => {
      const { store } = get();
      const source = uid('src');
      const copyOf = {
        source: 'prod',
        bucket: 'p',
        key: 'cam/1.jpg',
        by: 'perceptual-hash' as const,
        distance: 3,
      };
      await store.putObjectStates([objectState(source, 'b', 'k', { etag: 'v2' })]);
      expect(await store.setCopyOf({ source, bucket: 'b', key: 'k', etag: 'v1' }, copyOf)).to.equal(false);
      expect((await store.getObjectStates(source, 'b', ['k'])).get('k')?.copyOf).to.equal(null);
      expect(await store.setCopyOf({ source, bucket: 'b', key: 'k', etag: 'v2' }, copyOf)).to.equal(true);
      const stored = (await store.getObjectStates(source, 'b', ['k'])).get('k')!;
      expect(stored.copyOf).to.deep.equal(copyOf);
      const kept = async () => (await store.getObjectStates(source, 'b', ['k'])).get('k')?.copyOf;
      // A writer's state does not say what the object copies (it may predate the copy check): the
      // store keeps it while the bytes and the capture facts stay the same.
      await store.putObjectStates([
        { ...stored, lastModified: new Date('2026-11-21T00:00:00Z'), copyOf: null },
      ]);
      expect(await kept()).to.deep.equal(copyOf);
      const changed: Array<[string, Partial<typeof stored>]> = [
        ['another plate', { plateHash: 'b'.repeat(64) }],
        ['another capture time', { captureTime: new Date('2026-11-20T07:30:09Z') }],
        ['a capture time from LastModified', { captureTimeOrigin: 'last-modified' }],
        ['other bytes', { etag: 'v3' }],
      ];
      for (const [what, change] of changed) {
        await store.putObjectStates([stored]);
        await store.setCopyOf(stored, copyOf);
        expect(await kept(), `before ${what}`).to.deep.equal(copyOf);
        await store.putObjectStates([{ ...stored, ...change }]);
        expect(await kept(), what).to.equal(null);
      }
      await store.putObjectStates([objectState(source, 'b', 'new', { copyOf })]);
      expect((await store.getObjectStates(source, 'b', ['new'])).get('new')?.copyOf, 'a new row').to.equal(
        null,
      );
    });

    describe('copy check look-ups', () => {
      const at = (iso: string) => new Date(iso);
      const T = '2026-11-20T07:30:00.000Z';
      let source: string;
      let other: string;

      beforeEach(async () => {
        const { store } = get();
        source = uid('src');
        other = uid('other');
        const plate = (c: string) => c.repeat(64);
        await store.putObjectStates([
          objectState(source, 'p', 'a-same-second.jpg', {
            etag: 'e1',
            captureTime: at(T),
            plateHash: plate('a'),
          }),
          objectState(source, 'p', 'b-two-seconds.jpg', {
            etag: 'e2',
            captureTime: at('2026-11-20T07:30:02.000Z'),
            plateHash: null,
          }),
          objectState(source, 'p', 'c-three-seconds.jpg', {
            etag: 'e3',
            captureTime: at('2026-11-20T07:30:03.000Z'),
            plateHash: plate('a'),
          }),
          objectState(source, 'p', 'd-other-plate.jpg', {
            etag: 'e4',
            captureTime: at(T),
            plateHash: plate('b'),
          }),
          objectState(source, 'p', 'e-no-exif.jpg', {
            etag: 'e5',
            captureTime: at('2026-11-19T00:00:00.000Z'),
            captureTimeOrigin: 'last-modified',
          }),
          objectState(source, 'p', 'f-unread.jpg', {
            etag: 'e6',
            captureTime: null,
            captureTimeOrigin: null,
          }),
          objectState(source, 'p', 'g-not-image.txt', { etag: 'e1', isImage: false, captureTime: at(T) }),
          objectState(source, 'elsewhere', 'h-not-asked.jpg', { etag: 'e1', captureTime: at(T) }),
          objectState(source, 'elsewhere', 'i-no-exif-elsewhere.jpg', {
            etag: 'e7',
            captureTime: null,
            captureTimeOrigin: null,
          }),
          objectState(source, 'p', 'j-no-exif-not-image.txt', {
            etag: 'e8',
            isImage: false,
            captureTime: null,
            captureTimeOrigin: null,
          }),
          objectState(other, 'q', 'a-same-etag.jpg', {
            etag: 'e1',
            captureTime: at(T),
            plateHash: plate('a'),
          }),
        ]);
      });

      const locations = () => [
        { source, bucket: 'p' },
        { source: other, bucket: 'q' },
      ];

      it('finds one image per ETag, among the given buckets only', async () => {
        const { store } = get();
        const found = await store.findImagesByEtag(locations(), ['e1', 'e5', 'missing']);
        expect([...found.keys()].sort()).to.deep.equal(['e1', 'e5']);
        // The first in the order of the buckets asked, though 'other-…' sorts before 'src-…'.
        expect(found.get('e1')).to.include({ source, bucket: 'p', key: 'a-same-second.jpg' });
        const reversed = await store.findImagesByEtag([...locations()].reverse(), ['e1']);
        expect(reversed.get('e1')).to.include({ source: other, bucket: 'q', key: 'a-same-etag.jpg' });
      });

      it('names the images within a window with an agreeing plate', async () => {
        const { store } = get();
        const window = { from: at('2026-11-20T07:29:58.000Z'), to: at('2026-11-20T07:30:02.000Z') };
        const bucket = { source, bucket: 'p' };
        expect(
          await store.copyCandidateKeys(bucket, [{ ...window, plateHash: 'a'.repeat(64) }]),
        ).to.deep.equal(['a-same-second.jpg', 'b-two-seconds.jpg']);
        const anyPlate = await store.copyCandidateKeys(bucket, [{ ...window, plateHash: null }]);
        expect(anyPlate).to.include('d-other-plate.jpg').and.not.include('c-three-seconds.jpg');
        // Overlapping windows name an image once.
        const twice = await store.copyCandidateKeys(bucket, [
          { ...window, plateHash: null },
          { from: at(T), to: at('2026-11-20T07:30:03.000Z'), plateHash: null },
        ]);
        expect(twice).to.deep.equal([...new Set(twice)].sort());
        expect(twice).to.include.members(['a-same-second.jpg', 'c-three-seconds.jpg', 'd-other-plate.jpg']);
        expect(
          await store.copyCandidateKeys({ source: other, bucket: 'p' }, [{ ...window, plateHash: null }]),
        ).to.deep.equal([]);
      });

      it('pages through the images without an EXIF time, in key order', async () => {
        const { store } = get();
        const bucket = { source, bucket: 'p' };
        const keys = async (after: string | null, limit: number) =>
          (await store.listUntimedImages(bucket, after, limit)).map((state) => state.key);
        expect(await keys(null, 10)).to.deep.equal(['e-no-exif.jpg', 'f-unread.jpg']);
        expect(await keys(null, 1)).to.deep.equal(['e-no-exif.jpg']);
        expect(await keys('e-no-exif.jpg', 1)).to.deep.equal(['f-unread.jpg']);
        expect(await keys('f-unread.jpg', 10)).to.deep.equal([]);
        const [state] = await store.listUntimedImages(bucket, null, 1);
        expect(state).to.include({ source, bucket: 'p', etag: 'e5', captureTimeOrigin: 'last-modified' });
        expect(await store.listUntimedImages({ source: other, bucket: 'q' }, null, 10)).to.deep.equal([]);
      });
    });
  });
}
