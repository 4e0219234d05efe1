import { expect } from 'chai';
import { createNetworkCheck } from '../../../server/network.js';

describe('createNetworkCheck', () => {
  it('allows every address when no network is listed', () => {
    const allowed = createNetworkCheck([]);
    expect(allowed('203.0.113.9')).to.equal(true);
    expect(allowed(undefined)).to.equal(true);
  });

  it('matches IPv4 and IPv6 networks and single addresses', () => {
    const allowed = createNetworkCheck(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    expect(allowed('10.200.3.4')).to.equal(true);
    expect(allowed('11.0.0.1')).to.equal(false);
    expect(allowed('192.168.1.7')).to.equal(true);
    expect(allowed('192.168.1.8')).to.equal(false);
    expect(allowed('2001:db8:1::5')).to.equal(true);
    expect(allowed('2001:db9::5')).to.equal(false);
  });

  it('treats IPv4-mapped IPv6 addresses as IPv4, either way round', () => {
    expect(createNetworkCheck(['10.0.0.0/8'])('::ffff:10.1.2.3')).to.equal(true);
    expect(createNetworkCheck(['10.0.0.0/8'])('::ffff:11.1.2.3')).to.equal(false);
    expect(createNetworkCheck(['::ffff:10.0.0.0/104'])('10.1.2.3')).to.equal(true);
  });

  it('refuses what does not parse, and throws on a bad network', () => {
    const allowed = createNetworkCheck(['10.0.0.0/8']);
    expect(allowed('not-an-address')).to.equal(false);
    expect(allowed(undefined)).to.equal(false);
    expect(() => createNetworkCheck(['10.0.0.0/33'])).to.throw();
  });
});
