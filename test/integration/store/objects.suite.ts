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
  });
}
