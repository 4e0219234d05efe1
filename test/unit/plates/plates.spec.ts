import { expect } from 'chai';
import { createHash, createHmac } from 'node:crypto';
import { isPlateHash, normalisePlate, plateHash } from '../../../core/plates/plates.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('normalisePlate', () => {
  it('upper-cases and strips dashes and spaces', () => {
    expect(normalisePlate('ab-123-c')).to.equal('AB123C');
    expect(normalisePlate(' AB 123 C ')).to.equal('AB123C');
    expect(normalisePlate('12-ABC-3')).to.equal('12ABC3');
  });

  it('strips dash-like characters and other whitespace people paste', () => {
    expect(normalisePlate('ab\u2013123\u00a0c\t')).to.equal('AB123C');
  });

  it('keeps letters outside A-Z', () => {
    expect(normalisePlate('m-ü 123')).to.equal('MÜ123');
  });
});

describe('plateHash', () => {
  it('is the lower-case hex SHA-256 of the normalised plate without a key', () => {
    expect(plateHash('ab-123-c')).to.equal(sha256('AB123C'));
    expect(plateHash('ab-123-c')).to.match(/^[0-9a-f]{64}$/);
  });

  it('hashes every spelling of a plate alike', () => {
    expect(plateHash('AB 123 C')).to.equal(plateHash('ab-123-c'));
    expect(plateHash('AB 123 C', 'k')).to.equal(plateHash('ab-123-c', 'k'));
  });

  it('is the HMAC-SHA-256 with a key, and differs per key', () => {
    expect(plateHash('ab-123-c', 'secret')).to.equal(
      createHmac('sha256', 'secret').update('AB123C').digest('hex'),
    );
    expect(plateHash('ab-123-c', 'secret')).not.to.equal(plateHash('ab-123-c'));
    expect(plateHash('ab-123-c', 'secret')).not.to.equal(plateHash('ab-123-c', 'other'));
  });

  it('refuses an empty plate and an empty key without echoing the plate', () => {
    expect(() => plateHash(' - ')).to.throw(RangeError, 'plate is empty after normalisation');
    expect(() => plateHash('ab-123-c', '')).to.throw(RangeError, /key must not be empty/);
    try {
      plateHash('ab-123-c', '');
    } catch (error) {
      expect((error as Error).message).not.to.match(/AB|123/i);
    }
  });
});

describe('isPlateHash', () => {
  it('recognises 64 hex characters only', () => {
    expect(isPlateHash(sha256('x'))).to.equal(true);
    expect(isPlateHash(sha256('x').toUpperCase())).to.equal(true);
    expect(isPlateHash(sha256('x').slice(1))).to.equal(false);
    expect(isPlateHash('AB123C')).to.equal(false);
  });
});
