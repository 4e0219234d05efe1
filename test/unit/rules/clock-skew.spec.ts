import { expect } from 'chai';
import { rule } from '../../../core/rules/clock-skew/clock-skew.rule.js';
import { HOUR, makeContext, makeSnapshot, MINUTE, NOW, SECOND } from './snapshot-factory.js';

describe('clock-skew', () => {
  const ctx = makeContext('edge');
  const lastModified = new Date(NOW.getTime() - HOUR);
  const capturedAfterStore = (
    ms: number,
    origin: 'exif-offset' | 'exif-local' | 'last-modified' = 'exif-local',
  ) =>
    makeSnapshot({
      lastModified,
      captureTime: new Date(lastModified.getTime() + ms),
      captureTimeOrigin: origin,
    });

  it('passes a capture time exactly the tolerance after LastModified', () => {
    expect(rule.evaluate(capturedAfterStore(5 * MINUTE), ctx)).to.deep.equal([]);
  });

  it('flags a capture time the tolerance plus one second after LastModified', () => {
    const [finding] = rule.evaluate(capturedAfterStore(5 * MINUTE + SECOND), ctx);
    expect(finding).to.include({ rule: 'clock-skew', severity: 'low', threshold: '5 min tolerance' });
    expect(finding?.reason).to.equal(
      'The camera says the image was captured 2026-11-20 07:35:01 +01:00 (Europe/Amsterdam), ' +
        '5.02 min after the image was stored (2026-11-20 07:30:00 +01:00 (Europe/Amsterdam)), ' +
        "so the camera's clock is wrong and its timestamps cannot be trusted.",
    );
  });

  it('flags a capture time in the future of the scan, and says both when both apply', () => {
    const snapshot = makeSnapshot({ lastModified: NOW, captureTime: new Date(NOW.getTime() + 2 * HOUR) });
    const [finding] = rule.evaluate(snapshot, ctx);
    expect(finding?.reason).to.contain('2 h after the image was stored');
    expect(finding?.reason).to.contain('2 h after the time of this scan');
    expect(finding?.details).to.include({ aheadOfNowMinutes: 120, aheadOfStoredMinutes: 120 });
  });

  it('flags a capture time ahead of the scan clock even when LastModified is later still', () => {
    const snapshot = makeSnapshot({
      lastModified: new Date(NOW.getTime() + 2 * HOUR),
      captureTime: new Date(NOW.getTime() + HOUR),
    });
    const [finding] = rule.evaluate(snapshot, ctx);
    expect(finding?.reason).to.contain('1 h after the time of this scan');
    expect(finding?.reason).not.to.contain('after the image was stored');
  });

  it('passes exactly the tolerance ahead of the scan clock', () => {
    const snapshot = makeSnapshot({ lastModified: NOW, captureTime: new Date(NOW.getTime() + 5 * MINUTE) });
    expect(rule.evaluate(snapshot, ctx)).to.deep.equal([]);
  });

  it('honours a configured tolerance, with milliseconds', () => {
    const strict = makeContext('edge', { contract: { clockSkewToleranceMinutes: 0 } });
    expect(rule.evaluate(capturedAfterStore(1), strict)).to.have.length(1);
    expect(rule.evaluate(capturedAfterStore(0), strict)).to.have.length(0);
  });

  it('judges EXIF times with an offset as well', () => {
    expect(rule.evaluate(capturedAfterStore(HOUR, 'exif-offset'), ctx)).to.have.length(1);
  });

  it('skips the LastModified fallback', () => {
    expect(rule.evaluate(capturedAfterStore(HOUR, 'last-modified'), ctx)).to.deep.equal([]);
  });

  it('passes ordinary images captured before they were stored', () => {
    expect(rule.evaluate(makeSnapshot(), makeContext('vendor'))).to.deep.equal([]);
  });
});
