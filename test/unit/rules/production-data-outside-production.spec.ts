import { expect } from 'chai';
import type { CopyMatch } from '../../../core/model.js';
import { rule } from '../../../core/rules/production-data-outside-production/production-data-outside-production.rule.js';
import { makeContext, makeSnapshot } from './snapshot-factory.js';

describe('production-data-outside-production', () => {
  const etagCopy: CopyMatch = {
    source: 'vendor-1',
    bucket: 'ars-prod',
    key: 'cam1/img-1.jpg',
    by: 'etag',
    distance: 0,
  };
  const lookalike: CopyMatch = { ...etagCopy, by: 'perceptual-hash', distance: 3 };
  const ctx = makeContext('vendor');

  it('flags an ETag copy in an undeclared bucket', () => {
    const snapshot = makeSnapshot({ bucket: 'ars-shadow', bucketDeclared: false, copyOf: etagCopy });
    const [finding] = rule.evaluate(snapshot, ctx);
    expect(finding).to.include({ rule: 'production-data-outside-production', severity: 'critical' });
    expect(finding?.threshold).to.equal('identical ETag');
    expect(finding?.reason).to.equal(
      'This image in the undeclared bucket "ars-shadow" is a copy of production image vendor-1/ars-prod/cam1/img-1.jpg: ' +
        'the same file (identical ETag); real camera images belong only in declared production storage.',
    );
    expect(finding?.details).to.deep.include({ copyOf: etagCopy });
  });

  it('flags a perceptual-hash copy in a declared but test-like bucket, with the distance', () => {
    const snapshot = makeSnapshot({ bucket: 'ars-acc', bucketTestLike: true, copyOf: lookalike });
    const [finding] = rule.evaluate(snapshot, ctx);
    expect(finding?.reason).to.contain('in the test-like bucket "ars-acc"');
    expect(finding?.reason).to.contain('perceptual hash differs in 3 of 64 bits');
    expect(finding?.threshold).to.equal('perceptual hash match (distance 3 of 64 bits)');
  });

  it('names a bucket that is both undeclared and test-like', () => {
    const snapshot = makeSnapshot({ bucketDeclared: false, bucketTestLike: true, copyOf: etagCopy });
    expect(rule.evaluate(snapshot, ctx)[0]?.reason).to.contain('undeclared, test-like bucket');
  });

  it('passes a copy inside declared production storage', () => {
    expect(rule.evaluate(makeSnapshot({ copyOf: etagCopy }), ctx)).to.deep.equal([]);
  });

  it('passes an image that copies nothing, wherever it is', () => {
    expect(rule.evaluate(makeSnapshot({ bucketDeclared: false, bucketTestLike: true }), ctx)).to.deep.equal(
      [],
    );
  });

  it('applies to edge sources too', () => {
    const snapshot = makeSnapshot({ bucketDeclared: false, copyOf: etagCopy });
    expect(rule.evaluate(snapshot, makeContext('edge'))).to.have.length(1);
  });
});
