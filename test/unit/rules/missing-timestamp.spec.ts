import { expect } from 'chai';
import { rule } from '../../../core/rules/missing-timestamp/missing-timestamp.rule.js';
import { makeContext, makeSnapshot } from './snapshot-factory.js';

describe('missing-timestamp', () => {
  const lastModified = new Date('2026-11-20T06:00:00Z');

  it('flags an image whose capture time fell back to LastModified, on any role', () => {
    for (const role of ['edge', 'vendor'] as const) {
      const snapshot = makeSnapshot({
        captureTimeOrigin: 'last-modified',
        captureTime: lastModified,
        lastModified,
      });
      const [finding] = rule.evaluate(snapshot, makeContext(role));
      expect(finding).to.include({ rule: 'missing-timestamp', severity: 'medium' });
      expect(finding?.reason).to.contain('LastModified 2026-11-20 07:00:00 +01:00 (Europe/Amsterdam)');
      expect(finding?.reason).to.contain('retention cannot be proven');
    }
  });

  it('passes images with an EXIF capture time', () => {
    expect(rule.evaluate(makeSnapshot({ captureTimeOrigin: 'exif-local' }), makeContext())).to.deep.equal([]);
    expect(rule.evaluate(makeSnapshot({ captureTimeOrigin: 'exif-offset' }), makeContext())).to.deep.equal(
      [],
    );
  });

  it('leaves objects that are not images to unreadable-object', () => {
    const snapshot = makeSnapshot({
      isImage: false,
      readError: 'not an image',
      captureTimeOrigin: 'last-modified',
    });
    expect(rule.evaluate(snapshot, makeContext())).to.deep.equal([]);
  });

  it('keeps the read error as evidence', () => {
    const snapshot = makeSnapshot({
      captureTimeOrigin: 'last-modified',
      readError: 'EXIF parse error: bad IFD',
    });
    expect(rule.evaluate(snapshot, makeContext())[0]?.details).to.include({
      readError: 'EXIF parse error: bad IFD',
    });
  });
});
