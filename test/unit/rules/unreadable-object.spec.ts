import { expect } from 'chai';
import { rule } from '../../../core/rules/unreadable-object/unreadable-object.rule.js';
import { makeContext, makeSnapshot } from './snapshot-factory.js';

describe('unreadable-object', () => {
  const reasonFor = (overrides: Parameters<typeof makeSnapshot>[0]) =>
    rule.evaluate(makeSnapshot(overrides), makeContext('edge'))[0]?.reason;

  it('passes a readable image', () => {
    expect(rule.evaluate(makeSnapshot(), makeContext('edge'))).to.deep.equal([]);
  });

  it('names an empty object', () => {
    expect(reasonFor({ size: 0, isImage: false, readError: 'empty object' })).to.equal(
      'This object cannot be checked as a camera image: it is empty (zero bytes).',
    );
  });

  it('names an object that is not an image', () => {
    expect(reasonFor({ isImage: false, readError: 'not an image (starts with %PDF)' })).to.contain(
      'it is not an image',
    );
    expect(reasonFor({ isImage: false, readError: null })).to.contain('it is not an image');
  });

  it('names a truncated image', () => {
    expect(reasonFor({ isImage: true, readError: 'truncated JPEG: premature end of data' })).to.contain(
      'it is truncated',
    );
  });

  it('names an EXIF parse error', () => {
    expect(
      reasonFor({ isImage: true, readError: 'EXIF parse error: Cannot read properties of undefined' }),
    ).to.contain('its EXIF data could not be parsed');
  });

  it('names an object the storage refused to serve, whatever its listed size', () => {
    expect(
      reasonFor({ isImage: false, readError: 'cannot read object: AccessDenied: Access Denied.' }),
    ).to.equal(
      'This object cannot be checked as a camera image: the storage refused to serve it (AccessDenied: Access Denied.).',
    );
  });

  it('names an object not asked for after the storage refused the reads before it', () => {
    expect(
      reasonFor({
        isImage: false,
        size: 1000,
        readError: 'not read: the storage had refused 20 reads in a row before it',
      }),
    ).to.equal(
      'This object cannot be checked as a camera image: it was not read, since the storage had refused 20 reads in a row before it.',
    );
  });

  it('quotes an error it does not recognise', () => {
    expect(reasonFor({ isImage: true, readError: 'socket hang up' })).to.contain(
      'it could not be read (socket hang up)',
    );
  });

  it('keeps the evidence, on every role', () => {
    const [finding] = rule.evaluate(
      makeSnapshot({ size: 0, readError: 'zero bytes' }),
      makeContext('vendor'),
    );
    expect(finding).to.include({
      rule: 'unreadable-object',
      severity: 'low',
      threshold: 'readable image required',
    });
    expect(finding?.details).to.deep.equal({ readError: 'zero bytes', isImage: true, size: 0 });
  });
});
