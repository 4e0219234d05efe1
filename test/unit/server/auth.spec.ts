import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { createTokenVerifier, hasRole, tokenFromHeader } from '../../../server/auth.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('auth', () => {
  const verify = createTokenVerifier([
    { name: 'it', role: 'admin', sha256: sha('alpha') },
    { name: 'officer-jan', role: 'officer', sha256: sha('bravo') },
  ]);

  it('finds the principal of a token by its hash', () => {
    expect(verify('alpha')).to.deep.equal({ name: 'it', role: 'admin' });
    expect(verify('bravo')).to.deep.equal({ name: 'officer-jan', role: 'officer' });
    expect(verify('charlie')).to.equal(null);
    expect(verify('')).to.equal(null);
    expect(verify('x'.repeat(5000))).to.equal(null);
    expect(createTokenVerifier([])('alpha')).to.equal(null);
  });

  it('ranks admin > officer > viewer', () => {
    expect(hasRole('admin', 'officer')).to.equal(true);
    expect(hasRole('officer', 'officer')).to.equal(true);
    expect(hasRole('viewer', 'officer')).to.equal(false);
    expect(hasRole('officer', 'admin')).to.equal(false);
  });

  it('reads bearer tokens, and Basic only where allowed', () => {
    expect(tokenFromHeader(undefined)).to.equal(undefined);
    expect(tokenFromHeader('Bearer abc.DEF-123')).to.equal('abc.DEF-123');
    expect(tokenFromHeader('bearer  abc ')).to.equal('abc');
    expect(tokenFromHeader('Bearer')).to.equal(null);
    expect(tokenFromHeader('Token abc')).to.equal(null);
    const basic = `Basic ${Buffer.from('anyone:s3cr:et').toString('base64')}`;
    expect(tokenFromHeader(basic)).to.equal(null);
    expect(tokenFromHeader(basic, true)).to.equal('s3cr:et');
  });
});
