import { expect } from 'chai';
import { captureTimeFromExif, readTextTag, type ExifFacts } from '../../../core/exif/exif-reader.js';

function facts(partial: Partial<ExifFacts>): ExifFacts {
  return {
    dateTimeOriginal: null,
    subSecTimeOriginal: null,
    offsetTimeOriginal: null,
    make: null,
    model: null,
    text: {},
    ...partial,
  };
}
const AMS = 'Europe/Amsterdam';

describe('capture time from EXIF', () => {
  it('uses OffsetTimeOriginal when present (+02:00)', () => {
    const t = captureTimeFromExif(
      facts({ dateTimeOriginal: '2026:07:01 08:30:00', offsetTimeOriginal: '+02:00' }),
      AMS,
    )!;
    expect(t.instant.toISOString()).to.equal('2026-07-01T06:30:00.000Z');
    expect(t.origin).to.equal('exif-offset');
    expect(t.raw).to.equal('2026:07:01 08:30:00 +02:00');
  });

  it('uses a negative offset (-05:00) regardless of the configured zone', () => {
    const t = captureTimeFromExif(
      facts({ dateTimeOriginal: '2026:11:20 08:30:00', offsetTimeOriginal: '-05:00' }),
      AMS,
    )!;
    expect(t.instant.toISOString()).to.equal('2026-11-20T13:30:00.000Z');
  });

  it('adds SubSecTimeOriginal as a decimal fraction', () => {
    const base = { dateTimeOriginal: '2026:11:20 08:30:00', offsetTimeOriginal: '+01:00' };
    expect(
      captureTimeFromExif(facts({ ...base, subSecTimeOriginal: '250' }), AMS)!.instant.toISOString(),
    ).to.equal('2026-11-20T07:30:00.250Z');
    expect(
      captureTimeFromExif(facts({ ...base, subSecTimeOriginal: '25' }), AMS)!.instant.toISOString(),
    ).to.equal('2026-11-20T07:30:00.250Z');
    expect(
      captureTimeFromExif(facts({ ...base, subSecTimeOriginal: '5' }), AMS)!.instant.toISOString(),
    ).to.equal('2026-11-20T07:30:00.500Z');
    expect(
      captureTimeFromExif(facts({ ...base, subSecTimeOriginal: '  ' }), AMS)!.instant.toISOString(),
    ).to.equal('2026-11-20T07:30:00.000Z');
  });

  it('reads a time without offset as local time in the configured zone: winter +01:00, summer +02:00', () => {
    const winter = captureTimeFromExif(facts({ dateTimeOriginal: '2026:11:20 08:30:00' }), AMS)!;
    expect(winter.instant.toISOString()).to.equal('2026-11-20T07:30:00.000Z');
    expect(winter.origin).to.equal('exif-local');
    const summer = captureTimeFromExif(facts({ dateTimeOriginal: '2026:07:01 08:30:00' }), AMS)!;
    expect(summer.instant.toISOString()).to.equal('2026-07-01T06:30:00.000Z');
  });

  it('handles the spring gap: 02:30 on 29 March 2026 never existed in Amsterdam; read as 02:30 +01:00', () => {
    const t = captureTimeFromExif(facts({ dateTimeOriginal: '2026:03:29 02:30:00' }), AMS)!;
    expect(t.instant.toISOString()).to.equal('2026-03-29T01:30:00.000Z');
  });

  it('handles the autumn repeat: 02:30 on 25 October 2026 happened twice; takes the earlier (+02:00)', () => {
    const t = captureTimeFromExif(facts({ dateTimeOriginal: '2026:10:25 02:30:00' }), AMS)!;
    expect(t.instant.toISOString()).to.equal('2026-10-25T00:30:00.000Z');
    // Just outside the repeated hour, nothing is ambiguous.
    expect(
      captureTimeFromExif(facts({ dateTimeOriginal: '2026:10:25 01:59:59' }), AMS)!.instant.toISOString(),
    ).to.equal('2026-10-24T23:59:59.000Z');
    expect(
      captureTimeFromExif(facts({ dateTimeOriginal: '2026:10:25 03:00:00' }), AMS)!.instant.toISOString(),
    ).to.equal('2026-10-25T02:00:00.000Z');
  });

  it('does not depend on the process time zone', () => {
    // The trap exifr's revived Date falls into: the same EXIF read on a UTC and an Amsterdam machine.
    const t = captureTimeFromExif(
      facts({ dateTimeOriginal: '2026:11:20 08:30:00', offsetTimeOriginal: '+01:00' }),
      'UTC',
    )!;
    expect(t.instant.toISOString()).to.equal('2026-11-20T07:30:00.000Z');
  });

  it('returns null for no, blank or impossible capture times', () => {
    expect(captureTimeFromExif(facts({}), AMS)).to.equal(null);
    expect(captureTimeFromExif(facts({ dateTimeOriginal: '    :  :     :  :  ' }), AMS)).to.equal(null);
    expect(captureTimeFromExif(facts({ dateTimeOriginal: '2026:02:30 12:00:00' }), AMS)).to.equal(null);
    expect(captureTimeFromExif(facts({ dateTimeOriginal: '2026-11-20' }), AMS)).to.equal(null);
  });

  it('ignores a malformed offset and falls back to the zone', () => {
    const t = captureTimeFromExif(
      facts({ dateTimeOriginal: '2026:11:20 08:30:00', offsetTimeOriginal: '+1' }),
      AMS,
    )!;
    expect(t.origin).to.equal('exif-local');
    expect(t.instant.toISOString()).to.equal('2026-11-20T07:30:00.000Z');
  });
});

describe('EXIF text tags', () => {
  const f = facts({
    text: { ImageDescription: '{"violation":true,"plate":"GX-123-B","lane":1}', UserComment: 'hello' },
  });
  it('reads a tag, or a JSON field inside it', () => {
    expect(readTextTag(f, 'UserComment')).to.equal('hello');
    expect(readTextTag(f, 'ImageDescription.violation')).to.equal('true');
    expect(readTextTag(f, 'ImageDescription.lane')).to.equal('1');
  });
  it('returns null for an absent tag, field, or non-JSON text', () => {
    expect(readTextTag(f, 'Artist')).to.equal(null);
    expect(readTextTag(f, 'ImageDescription.speed')).to.equal(null);
    expect(readTextTag(f, 'UserComment.violation')).to.equal(null);
  });
});
