import { expect } from 'chai';
import { evaluateObject, isFolderMarker } from '../../../core/scan/evaluate.js';
import { ago, HOUR, makeContext, makeSnapshot } from '../rules/snapshot-factory.js';

describe('evaluateObject', () => {
  const old = ago(100 * 24 * HOUR);
  const zeroByte = (key: string) =>
    makeSnapshot({
      key,
      size: 0,
      isImage: false,
      readError: 'zero-byte object: no image data',
      captureTime: old,
      lastModified: old,
      captureTimeOrigin: 'last-modified',
      signals: { metadata: null, exif: null, register: { matched: false, by: null } },
    });

  it('judges nothing of a folder marker, a zero-byte key ending in "/"', () => {
    for (const role of ['edge', 'vendor'] as const) {
      expect(evaluateObject(zeroByte('2026/11/20/'), makeContext(role))).to.deep.equal({
        findings: [],
        errors: [],
      });
    }
    expect(isFolderMarker({ key: '2026/11/20/', size: 0 })).to.equal(true);
    expect(isFolderMarker({ key: '2026/11/20/', size: 12 })).to.equal(false);
    expect(isFolderMarker({ key: '2026/11/20/empty.jpg', size: 0 })).to.equal(false);
  });

  it('judges any other zero-byte object: unreadable, and kept too long by its LastModified', () => {
    const edge = evaluateObject(zeroByte('2026/11/20/empty.jpg'), makeContext('edge'));
    expect(edge.findings.map((f) => f.rule).sort()).to.deep.equal(['edge-retention', 'unreadable-object']);
    const vendor = evaluateObject(zeroByte('2026/11/20/empty.jpg'), makeContext('vendor'));
    // Not an image, so not an unregistered violation image: unreadable-object says what it is.
    expect(vendor.findings.map((f) => f.rule)).to.not.include('violations-only');
    expect(vendor.findings.map((f) => f.rule)).to.include('unreadable-object');
  });

  it('gives every finding of an object the age the retention rules judged by', () => {
    // Stored 49 h ago by a camera whose clock runs 2 h fast.
    const snapshot = makeSnapshot({ captureTime: ago(47 * HOUR), lastModified: ago(49 * HOUR) });
    const { findings } = evaluateObject(snapshot, makeContext('edge'));
    const retention = findings.find((f) => f.rule === 'edge-retention')!;
    expect(retention.ageHours).to.equal(49);
    expect(retention.details?.['ageHours']).to.equal(49);
    expect(findings.find((f) => f.rule === 'clock-skew')!.ageHours).to.equal(49);
  });
});
