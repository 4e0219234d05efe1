import { expect } from 'chai';
import { rule as edgeRetention } from '../../../core/rules/edge-retention/edge-retention.rule.js';
import { rule as vendorRetention } from '../../../core/rules/vendor-retention/vendor-retention.rule.js';
import { ago, HOUR, makeContext, makeSnapshot, MINUTE, NOW, SECOND } from './snapshot-factory.js';

const DAY = 24 * HOUR;

describe('edge-retention', () => {
  const edge = makeContext('edge');
  const judge = (
    captureTime: Date,
    ctx = edge,
    origin: 'exif-offset' | 'exif-local' | 'last-modified' = 'exif-offset',
  ) =>
    edgeRetention.evaluate(
      makeSnapshot({ captureTime, lastModified: captureTime, captureTimeOrigin: origin }),
      ctx,
    );

  it('passes an image exactly at the 48 h limit', () => {
    expect(judge(ago(48 * HOUR))).to.deep.equal([]);
  });

  it('flags an image one second over the limit, with its age and the threshold', () => {
    const [finding, ...rest] = judge(ago(48 * HOUR + SECOND));
    expect(rest).to.have.length(0);
    expect(finding).to.include({ rule: 'edge-retention', severity: 'high', threshold: '48 h' });
    expect(finding?.details).to.include({ captureTimeOrigin: 'exif-offset', ageHours: 48 });
  });

  it('judges sub-second capture times to the millisecond', () => {
    expect(judge(ago(48 * HOUR + 1))).to.have.length(1);
    expect(judge(ago(48 * HOUR - 1))).to.have.length(0);
  });

  it('writes the reason in the contract zone with the age in hours', () => {
    const captureTime = new Date('2026-11-17T07:00:00Z');
    const [finding] = judge(captureTime);
    expect(finding?.reason).to.equal(
      'Image captured 2026-11-17 08:00:00 +01:00 (Europe/Amsterdam) is 72.5 h old; ' +
        'edge devices may keep images at most 48 h.',
    );
  });

  it('shows milliseconds of a sub-second capture time', () => {
    const [finding] = judge(new Date('2026-11-17T07:00:00.250Z'));
    expect(finding?.reason).to.contain('2026-11-17 08:00:00.250 +01:00');
  });

  it('adds the grace to the limit and names it in the threshold', () => {
    const ctx = makeContext('edge', { contract: { graceMinutes: 15 } });
    expect(judge(ago(48 * HOUR + 15 * MINUTE), ctx)).to.have.length(0);
    const [finding] = judge(ago(48 * HOUR + 15 * MINUTE + SECOND), ctx);
    expect(finding?.threshold).to.equal('48 h + 15 min grace');
  });

  it('honours a configured limit', () => {
    const ctx = makeContext('edge', { contract: { edgeRetentionHours: 24 } });
    expect(judge(ago(24 * HOUR + SECOND), ctx)).to.have.length(1);
  });

  it('still flags on the LastModified fallback, saying so', () => {
    const [finding] = judge(ago(72 * HOUR), edge, 'last-modified');
    expect(finding?.reason).to.match(
      /^Image stored .* \(LastModified, used because its capture time could not be read/,
    );
    expect(finding?.details).to.include({ captureTimeOrigin: 'last-modified' });
  });

  it('ages an image from its LastModified when a fast camera clock puts the capture after it', () => {
    // Stored 49 h ago by a camera whose clock runs 2 h fast: the capture time says 47 h.
    const snapshot = makeSnapshot({ captureTime: ago(47 * HOUR), lastModified: ago(49 * HOUR) });
    const [finding, ...rest] = edgeRetention.evaluate(snapshot, edge);
    expect(rest).to.have.length(0);
    expect(finding?.reason).to.equal(
      'Image stored 2026-11-18 07:30:00 +01:00 (Europe/Amsterdam) (LastModified, earlier than the capture ' +
        'time 2026-11-18 09:30:00 +01:00 (Europe/Amsterdam) its camera wrote, so the camera clock runs fast; ' +
        'the image is at least this old) is 49 h old; edge devices may keep images at most 48 h.',
    );
    expect(finding?.details).to.include({
      captureTimeOrigin: 'exif-offset',
      agedFrom: 'last-modified',
      ageHours: 49,
    });
    // A capture before LastModified, as every honest one is, is what the age runs from.
    expect(edgeRetention.evaluate(makeSnapshot({ captureTime: ago(47 * HOUR) }), edge)).to.deep.equal([]);
  });

  it('keeps the capture time when it lies after LastModified within the clock-skew tolerance', () => {
    // S3 keeps LastModified in whole seconds: a capture at .600 s is after a write listed at .000 s.
    const lastModified = ago(48 * HOUR + 500);
    const captureTime = new Date(lastModified.getTime() + 600);
    expect(edgeRetention.evaluate(makeSnapshot({ captureTime, lastModified }), edge)).to.deep.equal([]);
    // Stored 48 h 3 min ago: a capture 5 min after that (47 h 58 min ago) is within the tolerance.
    const stored = makeSnapshot({ lastModified: ago(48 * HOUR + 3 * MINUTE) });
    const capturedAfter = (ms: number) => ({
      ...stored,
      captureTime: new Date(stored.lastModified.getTime() + ms),
    });
    expect(edgeRetention.evaluate(capturedAfter(5 * MINUTE), edge)).to.deep.equal([]);
    expect(edgeRetention.evaluate(capturedAfter(5 * MINUTE + 1), edge)).to.have.length(1);
  });

  it('calls an object whose bytes are not an image an object', () => {
    const snapshot = makeSnapshot({
      captureTime: ago(72 * HOUR),
      lastModified: ago(72 * HOUR),
      captureTimeOrigin: 'last-modified',
      isImage: false,
    });
    const [finding] = edgeRetention.evaluate(snapshot, edge);
    expect(finding?.reason).to.match(/^Object stored .* the object is at least this old\) is 72 h old/);
  });

  it('says nothing about vendor sources', () => {
    expect(judge(ago(100 * DAY), makeContext('vendor'))).to.deep.equal([]);
  });

  it('passes an image from the future (that is clock-skew)', () => {
    expect(judge(new Date(NOW.getTime() + HOUR))).to.deep.equal([]);
  });
});

describe('vendor-retention', () => {
  const vendor = makeContext('vendor');
  const judge = (captureTime: Date, ctx = vendor) =>
    vendorRetention.evaluate(makeSnapshot({ captureTime, lastModified: captureTime }), ctx);

  it('passes an image exactly 28 d old', () => {
    expect(judge(ago(28 * DAY))).to.deep.equal([]);
  });

  it('flags an image one second over 28 d', () => {
    const [finding] = judge(ago(28 * DAY + SECOND));
    expect(finding).to.include({ rule: 'vendor-retention', severity: 'high', threshold: '28 d' });
  });

  it('flags one millisecond over and passes one under', () => {
    expect(judge(ago(28 * DAY + 1))).to.have.length(1);
    expect(judge(ago(28 * DAY - 1))).to.have.length(0);
  });

  it('counts 24 h days and adds the grace', () => {
    const ctx = makeContext('vendor', { contract: { vendorRetentionDays: 7, graceMinutes: 15 } });
    expect(judge(ago(7 * DAY + 15 * MINUTE), ctx)).to.have.length(0);
    const [finding] = judge(ago(7 * DAY + 15 * MINUTE + SECOND), ctx);
    expect(finding?.threshold).to.equal('7 d + 15 min grace');
  });

  it('gives the age in days and hours, and the capture time in summer time when it was', () => {
    const [finding] = judge(new Date('2026-10-20T06:30:00Z'));
    expect(finding?.reason).to.equal(
      'Image captured 2026-10-20 08:30:00 +02:00 (Europe/Amsterdam) is 31.04 d (745 h) old; ' +
        "the vendor's server may keep images at most 28 d.",
    );
  });

  it('says nothing about edge sources', () => {
    expect(judge(ago(100 * DAY), makeContext('edge'))).to.deep.equal([]);
  });
});
