import { expect } from 'chai';
import { rule } from '../../../core/rules/transfer-deadline/transfer-deadline.rule.js';
import { ago, HOUR, makeContext, makeSnapshot, MINUTE, SECOND } from './snapshot-factory.js';

describe('transfer-deadline', () => {
  const vendor = makeContext('vendor');
  const captureTime = ago(10 * 24 * HOUR);
  const arrivedAfter = (delayMs: number, overrides = {}) =>
    makeSnapshot({ captureTime, lastModified: new Date(captureTime.getTime() + delayMs), ...overrides });

  it('passes an image that arrived exactly 48 h after capture', () => {
    expect(rule.evaluate(arrivedAfter(48 * HOUR), vendor)).to.deep.equal([]);
  });

  it('flags an image that arrived 48 h and one second after capture', () => {
    const [finding] = rule.evaluate(arrivedAfter(48 * HOUR + SECOND), vendor);
    expect(finding).to.include({ rule: 'transfer-deadline', severity: 'medium', threshold: '48 h' });
    expect(finding?.details).to.include({ delayHours: 48 });
  });

  it('judges sub-second capture times to the millisecond', () => {
    expect(rule.evaluate(arrivedAfter(48 * HOUR + 1), vendor)).to.have.length(1);
  });

  it('names both times and the delay', () => {
    const at = new Date('2026-11-10T07:30:00Z');
    const snapshot = makeSnapshot({ captureTime: at, lastModified: new Date(at.getTime() + 50.5 * HOUR) });
    const [finding] = rule.evaluate(snapshot, vendor);
    expect(finding?.reason).to.equal(
      "Image captured 2026-11-10 08:30:00 +01:00 (Europe/Amsterdam) arrived on the vendor's server " +
        '2026-11-12 11:00:00 +01:00 (Europe/Amsterdam), 50.5 h later; violation images must arrive within 48 h.',
    );
  });

  it('applies the contract grace', () => {
    const ctx = makeContext('vendor', { contract: { graceMinutes: 15 } });
    expect(rule.evaluate(arrivedAfter(48 * HOUR + 15 * MINUTE), ctx)).to.have.length(0);
    expect(rule.evaluate(arrivedAfter(48 * HOUR + 15 * MINUTE + SECOND), ctx)[0]?.threshold).to.equal(
      '48 h + 15 min grace',
    );
  });

  it('judges EXIF local times too', () => {
    expect(
      rule.evaluate(arrivedAfter(49 * HOUR, { captureTimeOrigin: 'exif-local' }), vendor),
    ).to.have.length(1);
  });

  it('skips the LastModified fallback, where the delay proves nothing', () => {
    const snapshot = arrivedAfter(100 * HOUR, { captureTimeOrigin: 'last-modified' });
    expect(rule.evaluate(snapshot, vendor)).to.deep.equal([]);
  });

  it('says nothing about edge sources', () => {
    expect(rule.evaluate(arrivedAfter(100 * HOUR), makeContext('edge'))).to.deep.equal([]);
  });
});
