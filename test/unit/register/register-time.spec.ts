import { expect } from 'chai';
import { parseRegisterTime, type RegisterTime } from '../../../core/register/register-time.js';

const ZONE = 'Europe/Amsterdam';

function parsed(text: string): RegisterTime {
  const result = parseRegisterTime(text, ZONE);
  if ('error' in result) throw new Error(result.error);
  return result;
}

describe('parseRegisterTime', () => {
  it('reads a local time in winter as +01:00 and in summer as +02:00', () => {
    expect(parsed('2026-11-20T08:30:00').instant.toISOString()).to.equal('2026-11-20T07:30:00.000Z');
    expect(parsed('2026-07-01T08:30:00').instant.toISOString()).to.equal('2026-07-01T06:30:00.000Z');
  });

  it('keeps sub-seconds and accepts a space between date and time', () => {
    expect(parsed('2026-11-20 08:30:00.250').instant.toISOString()).to.equal('2026-11-20T07:30:00.250Z');
  });

  it('uses an explicit offset or Z, whatever the zone says', () => {
    expect(parsed('2026-11-20T08:30:00+02:00').instant.toISOString()).to.equal('2026-11-20T06:30:00.000Z');
    expect(parsed('2026-11-20T08:30:00Z').instant.toISOString()).to.equal('2026-11-20T08:30:00.000Z');
    expect(parsed('2026-11-20T08:30:00-0500').instant.toISOString()).to.equal('2026-11-20T13:30:00.000Z');
    expect(parsed('2026-11-20T08:30:00+02:00').later).to.equal(null);
  });

  it('spring gap: 2026-03-29T02:30 does not exist and is shifted forward to 03:30 +02:00, with a note', () => {
    const time = parsed('2026-03-29T02:30:00');
    // 03:30 +02:00 is 01:30Z, the same instant as 02:30 read with the winter offset +01:00.
    expect(time.instant.toISOString()).to.equal('2026-03-29T01:30:00.000Z');
    expect(time.later).to.equal(null);
    expect(time.note).to.equal(
      'local time does not exist in Europe/Amsterdam (clocks jump forward); read as 2026-03-29T03:30:00+02:00',
    );
  });

  it('autumn repeat: 2026-10-25T02:30 takes the earlier instant (+02:00) and keeps the later one', () => {
    const time = parsed('2026-10-25T02:30:00');
    expect(time.instant.toISOString()).to.equal('2026-10-25T00:30:00.000Z');
    expect(time.later?.toISOString()).to.equal('2026-10-25T01:30:00.000Z');
    expect(time.note).to.equal(null);
  });

  it('an ordinary hour on a DST day has one instant', () => {
    const time = parsed('2026-10-25T03:30:00');
    expect(time.instant.toISOString()).to.equal('2026-10-25T02:30:00.000Z');
    expect(time.later).to.equal(null);
  });

  it('follows the configured zone', () => {
    const result = parseRegisterTime('2026-11-20T08:30:00', 'America/New_York');
    expect('error' in result ? result.error : result.instant.toISOString()).to.equal(
      '2026-11-20T13:30:00.000Z',
    );
  });

  it('refuses dates without a time, nonsense and impossible dates', () => {
    for (const text of [
      '2026-11-20',
      'yesterday',
      '',
      '20-11-2026 08:30',
      '2026-02-30T08:00:00',
      '2026-11-20T25:00:00',
    ]) {
      expect(parseRegisterTime(text, ZONE), text).to.have.property('error');
    }
  });

  it('throws on an unknown zone, which is a configuration error', () => {
    expect(() => parseRegisterTime('2026-11-20T08:30:00', 'Europe/Nowhere')).to.throw(/unknown time zone/);
  });
});
