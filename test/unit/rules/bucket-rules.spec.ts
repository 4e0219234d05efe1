import { expect } from 'chai';
import { rule as lifecycle } from '../../../core/rules/lifecycle-not-enforcing/lifecycle-not-enforcing.rule.js';
import { rule as noncurrentVersions } from '../../../core/rules/noncurrent-versions/noncurrent-versions.rule.js';
import { rule as publicAccess } from '../../../core/rules/public-access/public-access.rule.js';
import { rule as testEnvironment } from '../../../core/rules/test-environment/test-environment.rule.js';
import { rule as undeclared } from '../../../core/rules/undeclared-bucket/undeclared-bucket.rule.js';
import { maskPlates } from '../../../core/plate-mask.js';
import { makeBucket, makeContext } from './snapshot-factory.js';

const vendor = makeContext('vendor');
const edge = makeContext('edge');

describe('undeclared-bucket', () => {
  it('passes a declared bucket', () => {
    expect(undeclared.evaluate(makeBucket(), vendor)).to.deep.equal([]);
  });

  it('flags an undeclared bucket, empty or not, and counts its images when known', () => {
    const [finding] = undeclared.evaluate(
      makeBucket({ bucket: 'ars-shadow', declared: false, imageCount: 3 }),
      vendor,
    );
    expect(finding).to.include({ rule: 'undeclared-bucket', severity: 'high' });
    expect(finding?.reason).to.equal(
      'Bucket "ars-shadow" on source "vendor-1" is not in the declared inventory and holds 3 images; ' +
        'the municipality was never told this storage exists.',
    );
    expect(undeclared.evaluate(makeBucket({ declared: false, imageCount: 0 }), vendor)).to.have.length(1);
    const [unscanned] = undeclared.evaluate(makeBucket({ declared: false, imageCount: null }), vendor);
    expect(unscanned?.reason).not.to.contain('holds');
  });
});

describe('test-environment', () => {
  const acc = makeBucket({ bucket: 'ars-acc-2019', testLike: true, testWords: ['acc'], imageCount: 120 });

  it('flags a test-like bucket holding images and names the words', () => {
    const [finding] = testEnvironment.evaluate(acc, vendor);
    expect(finding).to.include({ rule: 'test-environment', severity: 'critical' });
    expect(finding?.reason).to.equal(
      'Bucket "ars-acc-2019" holds 120 images and its name marks a non-production environment ("acc"); ' +
        'camera images may never be used in a test system.',
    );
  });

  it('flags declared and undeclared buckets alike', () => {
    expect(testEnvironment.evaluate({ ...acc, declared: false }, vendor)).to.have.length(1);
    expect(testEnvironment.evaluate({ ...acc, declared: true }, edge)).to.have.length(1);
  });

  it('passes an empty or not yet scanned test-like bucket', () => {
    expect(testEnvironment.evaluate({ ...acc, imageCount: 0 }, vendor)).to.deep.equal([]);
    expect(testEnvironment.evaluate({ ...acc, imageCount: null }, vendor)).to.deep.equal([]);
  });

  it('passes a production bucket with images', () => {
    expect(testEnvironment.evaluate(makeBucket({ imageCount: 5000 }), vendor)).to.deep.equal([]);
  });

  it('classifies the name itself when discovery gave no words', () => {
    const [finding] = testEnvironment.evaluate(
      { ...acc, bucket: 'vendor_test-backup', testWords: [] },
      vendor,
    );
    expect(finding?.reason).to.contain('("test", "backup")');
    expect(finding?.details).to.deep.include({ testWords: ['test', 'backup'] });
  });
});

describe('public-access', () => {
  const denied = { request: 'GET /ars-prod?list-type=2&max-keys=1', status: 403, allowed: false };
  const served = { request: 'GET /ars-prod/cam1/img-1.jpg (Range: bytes=0-15)', status: 206, allowed: true };

  it('passes when every anonymous probe was refused, or none ran', () => {
    expect(publicAccess.evaluate(makeBucket({ anonymousProbes: [denied] }), vendor)).to.deep.equal([]);
    expect(publicAccess.evaluate(makeBucket(), vendor)).to.deep.equal([]);
  });

  it('flags a bucket when any probe was served, with every request and status', () => {
    const [finding] = publicAccess.evaluate(makeBucket({ anonymousProbes: [denied, served] }), edge);
    expect(finding).to.include({ rule: 'public-access', severity: 'critical' });
    expect(finding?.reason).to.equal(
      'Bucket "ars-prod" serves data to anyone without credentials ' +
        '(GET /ars-prod/cam1/img-1.jpg (Range: bytes=0-15) answered 206); ' +
        "access is allowed only with a user name from the municipality's IP address.",
    );
    expect(finding?.details).to.deep.equal({ probes: [denied, served] });
  });
});

describe('lifecycle-not-enforcing', () => {
  const withDays = (expirationDays: number[]) =>
    makeBucket({ lifecycle: { supported: true, expirationDays } });

  it('passes a vendor bucket expiring at or within the retention days', () => {
    expect(lifecycle.evaluate(withDays([28]), vendor)).to.deep.equal([]);
    expect(lifecycle.evaluate(withDays([90, 14]), vendor)).to.deep.equal([]);
  });

  it('flags a vendor bucket whose shortest expiration is longer than the limit', () => {
    const [finding] = lifecycle.evaluate(withDays([29, 365]), vendor);
    expect(finding).to.include({
      rule: 'lifecycle-not-enforcing',
      severity: 'medium',
      threshold: 'expiration within 28 d',
    });
    expect(finding?.reason).to.contain('shortest lifecycle expiration of bucket "ars-prod" is 29 days');
    expect(finding?.reason).to.contain('whole days rounded to midnight UTC');
    expect(finding?.reason).to.contain('a rule is evidence, not proof');
  });

  it('flags a bucket without any expiration rule', () => {
    const [finding] = lifecycle.evaluate(withDays([]), edge);
    expect(finding?.reason).to.match(/^Bucket "ars-prod" has no lifecycle expiration rule/);
  });

  it('rounds the edge limit in hours up to whole days', () => {
    expect(lifecycle.evaluate(withDays([2]), edge)).to.deep.equal([]);
    expect(lifecycle.evaluate(withDays([3]), edge)[0]?.threshold).to.equal('expiration within 2 d');
    const ctx36 = makeContext('edge', { contract: { edgeRetentionHours: 36 } });
    expect(lifecycle.evaluate(withDays([2]), ctx36)).to.deep.equal([]);
    expect(lifecycle.evaluate(withDays([3]), ctx36)).to.have.length(1);
  });

  it('counts only whole-bucket rules, and names the rules that cover part of the bucket', () => {
    const bucket = makeBucket({
      lifecycle: {
        supported: true,
        expirationDays: [],
        scopedExpirations: [
          { scope: 'prefix "logs/"', days: 1 },
          { scope: 'tag kind=tmp', days: 1 },
        ],
      },
    });
    const [finding] = lifecycle.evaluate(bucket, vendor);
    expect(finding?.reason).to.contain(
      'has no lifecycle expiration rule for the whole bucket, so the storage never deletes images by itself ' +
        '(rules for part of it only: prefix "logs/" after 1 days, tag kind=tmp after 1 days);',
    );
    expect(finding?.details).to.deep.include({
      expirationDays: [],
      scopedExpirations: [
        { scope: 'prefix "logs/"', days: 1 },
        { scope: 'tag kind=tmp', days: 1 },
      ],
    });
  });

  it('leaves storage without lifecycle support to the scan notes', () => {
    const bucket = makeBucket({ lifecycle: { supported: false, note: 'NotImplemented' } });
    expect(lifecycle.evaluate(bucket, vendor)).to.deep.equal([]);
  });
});

describe('noncurrent-versions', () => {
  const NOW_MS = vendor.now.getTime();
  const hoursAgo = (hours: number) => new Date(NOW_MS - hours * 3_600_000).toISOString();
  const version = (key: string, hours: number) => ({
    key,
    versionId: `v-${key}`,
    etag: 'e1',
    size: 350_000,
    lastModified: hoursAgo(hours),
  });
  const versioned = (oldest: ReturnType<typeof version>[], noncurrent = oldest.length) =>
    makeBucket({
      versioning: { state: 'enabled', noncurrent, deleteMarkers: 4, oldest, listedAt: hoursAgo(0.1) },
    });

  it('passes a bucket without versions, whatever the server says of them', () => {
    expect(noncurrentVersions.evaluate(makeBucket(), vendor)).to.deep.equal([]);
    for (const state of ['never', 'unsupported'] as const) {
      expect(noncurrentVersions.evaluate(makeBucket({ versioning: { state } }), edge)).to.deep.equal([]);
    }
    const unknown = makeBucket({ versioning: { state: 'unknown', note: 'AccessDenied' } });
    expect(noncurrentVersions.evaluate(unknown, edge)).to.deep.equal([]);
  });

  it('passes noncurrent versions all written within the limit of the role, exactly at it included', () => {
    expect(
      noncurrentVersions.evaluate(versioned([version('a.jpg', 48), version('b.jpg', 1)]), edge),
    ).to.deep.equal([]);
    expect(noncurrentVersions.evaluate(versioned([version('a.jpg', 28 * 24)]), vendor)).to.deep.equal([]);
  });

  it('flags an edge bucket keeping a version written more than 48 h ago, with the versions as evidence', () => {
    const old = version('cam1/old.jpg', 72);
    const [finding] = noncurrentVersions.evaluate(versioned([old, version('cam1/new.jpg', 2)], 5), edge);
    expect(finding).to.include({ rule: 'noncurrent-versions', severity: 'high', threshold: '48 h' });
    expect(finding?.reason).to.match(
      /^Bucket "ars-prod" keeps versions \(enabled\): deleted or overwritten objects are still stored\. Noncurrent versions: 5; written more than 48 h before the scan: 1\. The oldest, of cam1\/old\.jpg, was written .*, 72(\.0)? h before\.$/,
    );
    // A viewer sees the reason masked: its numbers must survive.
    expect(maskPlates(finding!.reason)).to.contain(
      'Noncurrent versions: 5; written more than 48 h before the scan: 1.',
    );
    expect(finding?.details).to.deep.include({
      versioning: 'enabled',
      noncurrentVersions: 5,
      deleteMarkers: 4,
      overLimit: [old],
      maxAgeHours: 48,
      role: 'edge',
    });
  });

  it('judges a vendor bucket by the vendor limit, and says "at least" when every version kept is over it', () => {
    const kept = [version('a.jpg', 900), version('b.jpg', 800)];
    expect(noncurrentVersions.evaluate(versioned(kept), edge)[0]?.reason).to.contain(
      'Noncurrent versions: 2; written more than 48 h before the scan: 2.',
    );
    const [finding] = noncurrentVersions.evaluate(versioned(kept, 40_000), vendor);
    expect(finding?.threshold).to.equal('28 d');
    expect(finding?.reason).to.contain(
      'Noncurrent versions: 40000; written more than 28 d before the scan: at least 2.',
    );
    const suspended = makeBucket({
      versioning: {
        state: 'suspended',
        noncurrent: 1,
        deleteMarkers: 0,
        oldest: [kept[0]!],
        listedAt: hoursAgo(0),
      },
    });
    expect(noncurrentVersions.evaluate(suspended, vendor)[0]?.reason).to.contain(
      'keeps versions (suspended)',
    );
  });
});
