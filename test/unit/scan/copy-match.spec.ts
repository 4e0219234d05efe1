import { expect } from 'chai';
import type { CopyMatch } from '../../../core/model.js';
import { captureWindow, corroborated, storedMatchHolds } from '../../../core/scan/copy-match.js';
import type { ObjectState } from '../../../core/store/store.js';

/** An image taken at 07:30:00Z with plate 'a…', as its EXIF says; `over` replaces any field. */
const image = (over: Partial<ObjectState>): ObjectState => ({
  source: 'edge-1',
  bucket: 'cam-prod',
  key: 'img.jpg',
  etag: 'e1',
  size: 350_000,
  lastModified: new Date('2026-11-20T07:30:05Z'),
  isImage: true,
  readError: null,
  captureTime: new Date('2026-11-20T07:30:00Z'),
  captureTimeOrigin: 'exif-offset',
  exifCaptureTime: '2026:11:20 08:30:00 +01:00',
  cameraMake: 'Acme',
  cameraModel: 'ANPR-9',
  plateHash: 'a'.repeat(64),
  signals: { metadata: null, exif: null },
  perceptualHash: null,
  readSettings: 'r1',
  copyOf: null,
  ...over,
});
const secondsLater = (s: number) => new Date(Date.parse('2026-11-20T07:30:00Z') + s * 1000);

describe('corroborated: whether EXIF leaves an original possible for a copy', () => {
  it('allows the same capture: within 2 s, the same plate', () => {
    expect(corroborated(image({}), image({ captureTime: secondsLater(2) }))).to.equal(true);
    expect(corroborated(image({ captureTime: secondsLater(-2) }), image({}))).to.equal(true);
  });

  it('rules out another capture time or another plate when both images carry one', () => {
    expect(corroborated(image({}), image({ captureTime: secondsLater(3) }))).to.equal(false);
    expect(corroborated(image({}), image({ plateHash: 'b'.repeat(64) }))).to.equal(false);
  });

  it('leaves the hash to decide where either image lacks the fact', () => {
    const untimed = { captureTime: secondsLater(3600), captureTimeOrigin: 'last-modified' as const };
    expect(corroborated(image(untimed), image({}))).to.equal(true);
    expect(corroborated(image({}), image(untimed))).to.equal(true);
    expect(corroborated(image({ plateHash: null }), image({ plateHash: 'b'.repeat(64) }))).to.equal(true);
    expect(corroborated(image({ captureTime: null, captureTimeOrigin: null }), image({}))).to.equal(true);
  });
});

describe('captureWindow: where the originals of a copy with an EXIF time lie', () => {
  it("spans 2 s either side of the capture, with the copy's plate", () => {
    expect(captureWindow(image({}))).to.deep.equal({
      from: secondsLater(-2),
      to: secondsLater(2),
      plateHash: 'a'.repeat(64),
    });
  });

  it('refuses an image whose time is only its LastModified', () => {
    expect(() => captureWindow(image({ captureTimeOrigin: 'last-modified' }))).to.throw(
      'cam-prod/img.jpg has no EXIF capture time',
    );
  });
});

describe('storedMatchHolds: whether a copy found by an earlier scan still counts', () => {
  const production = [
    { source: 'edge-1', bucket: 'cam-prod' },
    { source: 'vendor', bucket: 'violations' },
  ];
  const match = (over: Partial<CopyMatch>): CopyMatch => ({
    source: 'edge-1',
    bucket: 'cam-prod',
    key: '2026/11/20/img.jpg',
    by: 'perceptual-hash',
    distance: 6,
    ...over,
  });

  it('holds while the original is in production and within the distance', () => {
    expect(storedMatchHolds(match({}), production, 6)).to.equal(true);
    expect(storedMatchHolds(match({ by: 'etag', distance: 0 }), production, 0)).to.equal(true);
  });

  it('lapses when copyMaxDistance was lowered below it (an ETag match stays)', () => {
    expect(storedMatchHolds(match({}), production, 5)).to.equal(false);
    expect(storedMatchHolds(match({ by: 'etag', distance: 0 }), production, 5)).to.equal(true);
  });

  it("lapses when the original's bucket or source is no longer production", () => {
    expect(storedMatchHolds(match({ bucket: 'cam-prod-old' }), production, 10)).to.equal(false);
    expect(storedMatchHolds(match({ source: 'edge-2' }), production, 10)).to.equal(false);
    expect(storedMatchHolds(match({ by: 'etag', distance: 0 }), [], 10)).to.equal(false);
  });
});
