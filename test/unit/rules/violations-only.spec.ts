import { expect } from 'chai';
import type { ViolationSignals } from '../../../core/model.js';
import { rule } from '../../../core/rules/violations-only/violations-only.rule.js';
import { makeContext, makeSnapshot } from './snapshot-factory.js';

const withRegister = makeContext('vendor', { source: { hasRegister: true, hasViolationSignal: true } });
const withoutRegister = makeContext('vendor', { source: { hasRegister: false, hasViolationSignal: true } });
const noSignalAtAll = makeContext('vendor', { source: { hasRegister: false, hasViolationSignal: false } });

const NO_MATCH = { matched: false, by: null } as const;

function judge(signals: Partial<ViolationSignals>, ctx = withRegister) {
  const full: ViolationSignals = { metadata: null, exif: null, register: null, ...signals };
  return rule.evaluate(makeSnapshot({ signals: full }), ctx);
}

describe('violations-only', () => {
  describe('with a register', () => {
    it('passes an image the register matched, by key or by time and plate', () => {
      expect(judge({ register: { matched: true, by: 'key' } })).to.deep.equal([]);
      expect(judge({ register: { matched: true, by: 'capture-time+plate' }, metadata: false })).to.deep.equal(
        [],
      );
    });

    it('flags a camera-flagged image without a register entry, as critical', () => {
      const [finding] = judge({ register: NO_MATCH, metadata: true, exif: true });
      expect(finding).to.include({ rule: 'violations-only', severity: 'critical' });
      expect(finding?.reason).to.equal('The camera flags a violation; no register entry matches this image.');
      expect(finding?.threshold).to.equal("entry in the municipality's register of violations");
    });

    it('counts one camera flag as a camera flag', () => {
      expect(judge({ register: NO_MATCH, exif: true })[0]?.reason).to.contain('The camera flags a violation');
    });

    it('says when neither the register nor the camera calls it a violation', () => {
      expect(judge({ register: NO_MATCH, metadata: false })[0]?.reason).to.equal(
        'No register entry matches this image and the camera marks it as a passage, not a violation.',
      );
      expect(judge({ register: NO_MATCH })[0]?.reason).to.equal(
        'No register entry matches this image and no camera flag marks it as a violation.',
      );
    });

    it('reports disagreeing camera signals', () => {
      expect(judge({ register: NO_MATCH, metadata: true, exif: false })[0]?.reason).to.equal(
        "No register entry matches this image and the camera's metadata marks this image as a violation " +
          'but its EXIF tag marks it as a passage.',
      );
    });

    it('does not let the camera flag replace the register', () => {
      expect(judge({ register: NO_MATCH, metadata: true, exif: true })).to.have.length(1);
    });

    it('flags an image the register was not consulted for', () => {
      expect(judge({ register: null, metadata: true })[0]?.reason).to.contain(
        'The register was not consulted',
      );
    });

    it('puts the signals in the details', () => {
      const [finding] = judge({ register: NO_MATCH, metadata: true, exif: null });
      expect(finding?.details).to.deep.equal({
        signals: { metadata: true, exif: null, register: NO_MATCH },
        hasRegister: true,
      });
    });
  });

  describe('without a register', () => {
    it('passes when the camera flags a violation', () => {
      expect(judge({ metadata: true, exif: true }, withoutRegister)).to.deep.equal([]);
      expect(judge({ metadata: true }, withoutRegister)).to.deep.equal([]);
      expect(judge({ exif: true }, withoutRegister)).to.deep.equal([]);
    });

    it('flags an image the camera marks as a passage', () => {
      const [finding] = judge({ metadata: false, exif: false }, withoutRegister);
      expect(finding?.reason).to.equal('The camera marks this image as a passage, not a violation.');
      expect(finding?.threshold).to.equal("camera's violation flag");
      expect(judge({ exif: false }, withoutRegister)[0]?.reason).to.contain('passage');
    });

    it('flags an image with no evidence either way', () => {
      expect(judge({}, withoutRegister)[0]?.reason).to.match(
        /^There is no evidence that this is a violation/,
      );
      expect(judge({}, noSignalAtAll)[0]?.reason).to.contain('no register or camera flag is configured');
    });

    it('reports metadata and EXIF disagreeing, in both directions', () => {
      expect(judge({ metadata: true, exif: false }, withoutRegister)[0]?.reason).to.equal(
        "The signals disagree: the camera's metadata marks this image as a violation but its EXIF tag marks it as a passage.",
      );
      expect(judge({ metadata: false, exif: true }, withoutRegister)[0]?.reason).to.contain(
        'metadata marks this image as a passage but its EXIF tag marks it as a violation',
      );
    });
  });

  it('says nothing about edge sources, which hold every passage by design', () => {
    expect(
      judge({ metadata: false, exif: false }, makeContext('edge', { source: { hasRegister: false } })),
    ).to.deep.equal([]);
    expect(judge({ register: NO_MATCH }, makeContext('edge'))).to.deep.equal([]);
  });

  it('says nothing about an object whose bytes the storage did not serve: its flags are unknown', () => {
    const unserved = makeSnapshot({
      contentServed: false,
      isImage: false,
      readError: 'not read: the storage had refused 20 reads in a row before it',
      signals: { metadata: null, exif: null, register: NO_MATCH },
    });
    expect(rule.evaluate(unserved, withRegister)).to.deep.equal([]);
    expect(rule.evaluate(unserved, withoutRegister)).to.deep.equal([]);
    // The same object, served as an image, is flagged: the flag is what decides.
    expect(
      rule.evaluate({ ...unserved, contentServed: true, isImage: true }, withoutRegister),
    ).to.have.length(1);
  });

  it('says nothing about served bytes that are not an image (unreadable-object reports them)', () => {
    const text = makeSnapshot({
      key: 'README.txt',
      isImage: false,
      readError: 'not an image: the bytes do not start with a known image signature',
      signals: { metadata: null, exif: null, register: NO_MATCH },
    });
    expect(rule.evaluate(text, withRegister)).to.deep.equal([]);
    expect(rule.evaluate(text, withoutRegister)).to.deep.equal([]);
    // A corrupt JPEG is still an image on vendor storage, and still unregistered.
    expect(rule.evaluate({ ...text, isImage: true }, withRegister)).to.have.length(1);
  });
});
