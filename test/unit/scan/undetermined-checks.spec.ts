import { expect } from 'chai';
import type { AnonymousProbe, LifecycleObservation } from '../../../core/rules/rule.js';
import { undeterminedChecks } from '../../../core/scan/source-discovery.js';

const LIST = 'GET /b?list-type=2&max-keys=1';
const OBJECT = 'GET /b/k.jpg (Range: bytes=0-15)';
const probe = (request: string, status: number): AnonymousProbe => ({
  request,
  status,
  allowed: status === 200 || status === 206,
});
const readable: LifecycleObservation = { supported: true, expirationDays: [] };

describe('undeterminedChecks: bucket evidence discovery could not gather', () => {
  it('finds nothing undetermined when every probe got a decision', () => {
    expect(undeterminedChecks([probe(LIST, 403), probe(OBJECT, 403)], null, readable)).to.deep.equal([]);
    expect(undeterminedChecks([probe(LIST, 404)], null, readable)).to.deep.equal([]);
  });

  it('leaves public access undetermined when no probe was served and one got no decision', () => {
    for (const status of [0, 429, 500, 503]) {
      const [check, ...rest] = undeterminedChecks([probe(LIST, 403), probe(OBJECT, status)], null, readable);
      expect(rest).to.deep.equal([]);
      expect(check!.rule).to.equal('public-access');
      expect(check!.reason).to.include(OBJECT);
    }
  });

  it('counts a bucket served to anyone as determined, whatever the other probe got', () => {
    expect(undeterminedChecks([probe(LIST, 200), probe(OBJECT, 503)], null, readable)).to.deep.equal([]);
    expect(undeterminedChecks([probe(LIST, 0), probe(OBJECT, 206)], null, readable)).to.deep.equal([]);
  });

  it('leaves public access undetermined when the object probe could not run', () => {
    expect(undeterminedChecks([probe(LIST, 403)], 'AccessDenied: Access Denied', readable)).to.deep.equal([
      { rule: 'public-access', reason: 'no object probe: AccessDenied: Access Denied' },
    ]);
  });

  it('leaves the lifecycle undetermined when it could not be read', () => {
    const unread: LifecycleObservation = { supported: false, note: 'lifecycle could not be read (x)' };
    expect(undeterminedChecks([probe(LIST, 403)], null, unread)).to.deep.equal([
      { rule: 'lifecycle-not-enforcing', reason: 'lifecycle could not be read (x)' },
    ]);
  });

  it('leaves the noncurrent versions undetermined when they could not be read, and only then', () => {
    const unknown = { state: 'unknown' as const, note: 'its versioning could not be read (AccessDenied)' };
    expect(undeterminedChecks([probe(LIST, 403)], null, readable, unknown)).to.deep.equal([
      { rule: 'noncurrent-versions', reason: 'its versioning could not be read (AccessDenied)' },
    ]);
    for (const state of ['never', 'unsupported'] as const) {
      expect(undeterminedChecks([probe(LIST, 403)], null, readable, { state })).to.deep.equal([]);
    }
    expect(undeterminedChecks([probe(LIST, 403)], null, readable, undefined)).to.deep.equal([]);
  });
});
