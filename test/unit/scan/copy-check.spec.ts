import { expect } from 'chai';
import type { CopyMatch } from '../../../core/model.js';
import { storedMatchHolds } from '../../../core/scan/copy-check.js';

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
