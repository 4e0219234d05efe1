import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEVERITIES } from '../../../core/model.js';
import { validateRuleMeta } from '../../../core/rules/meta.js';
import { allRules, bucketRules, objectRules, ruleById } from '../../../core/rules/registry.js';

const RULES_DIR = fileURLToPath(new URL('../../../core/rules/', import.meta.url));

/** Every folder under core/rules that holds a meta.json: what the registry must list. */
function ruleFolders(): string[] {
  return readdirSync(RULES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((name) => readdirSync(join(RULES_DIR, name)).some((file) => file.endsWith('.meta.json')));
}

describe('rule registry', () => {
  it('registers every folder with a meta.json, and nothing else', () => {
    const folders = ruleFolders().sort();
    expect(folders).to.have.length.greaterThan(0);
    expect(allRules.map((rule) => rule.meta.id).sort()).to.deep.equal(folders);
  });

  it('has the eleven rules of DOMAIN.md and our two of storage that deletes nothing by itself', () => {
    expect(allRules.map((rule) => rule.meta.id).sort()).to.deep.equal([
      'clock-skew',
      'edge-retention',
      'lifecycle-not-enforcing',
      'missing-timestamp',
      'noncurrent-versions',
      'production-data-outside-production',
      'public-access',
      'test-environment',
      'transfer-deadline',
      'undeclared-bucket',
      'unreadable-object',
      'vendor-retention',
      'violations-only',
    ]);
  });

  for (const folder of ruleFolders()) {
    it(`${folder}: meta id = folder = file names, and the meta is complete`, () => {
      expect(existsSync(join(RULES_DIR, folder, `${folder}.rule.ts`)), `${folder}.rule.ts`).to.equal(true);
      const metaPath = join(RULES_DIR, folder, `${folder}.meta.json`);
      expect(existsSync(metaPath), `${folder}.meta.json`).to.equal(true);
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { id: string; scope: 'object' | 'bucket' };
      expect(meta.id).to.equal(folder);
      expect(() => validateRuleMeta(meta, meta.scope)).not.to.throw();
      expect(ruleById(folder)?.meta).to.deep.equal(meta);
    });
  }

  it('has valid severities and one-line titles', () => {
    for (const rule of allRules) {
      expect(SEVERITIES).to.include(rule.meta.severity);
      expect(rule.meta.title).not.to.match(/\n/);
      expect(rule.meta.clause).to.match(/clause/i);
      expect(rule.meta.clause).to.match(/BIO \d\.\d{2}/);
    }
  });

  it('splits rules by scope', () => {
    expect(objectRules.every((rule) => rule.meta.scope === 'object')).to.equal(true);
    expect(bucketRules.every((rule) => rule.meta.scope === 'bucket')).to.equal(true);
    expect(objectRules.length + bucketRules.length).to.equal(allRules.length);
  });

  it('uses the severities of DOMAIN.md and the brief', () => {
    const severity = Object.fromEntries(allRules.map((rule) => [rule.meta.id, rule.meta.severity]));
    expect(severity).to.deep.equal({
      'edge-retention': 'high',
      'vendor-retention': 'high',
      'transfer-deadline': 'medium',
      'violations-only': 'critical',
      'production-data-outside-production': 'critical',
      'missing-timestamp': 'medium',
      'clock-skew': 'low',
      'unreadable-object': 'low',
      'undeclared-bucket': 'high',
      'test-environment': 'critical',
      'public-access': 'critical',
      'lifecycle-not-enforcing': 'medium',
      'noncurrent-versions': 'high',
    });
  });

  it('returns undefined for an unknown id', () => {
    expect(ruleById('no-such-rule')).to.equal(undefined);
  });

  it('imports no I/O module from any rule', () => {
    const io =
      /from '(node:)?(fs|fs\/promises|net|http|https|child_process|dgram)'|from '(minio|pg|ioredis|bullmq|sharp|exifr|@electric-sql\/pglite)'/;
    const files = readdirSync(RULES_DIR, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.ts'),
    );
    for (const file of files) expect(readFileSync(join(RULES_DIR, file), 'utf8'), file).not.to.match(io);
  });
});

describe('validateRuleMeta', () => {
  const good = {
    id: 'some-rule',
    title: 'A title',
    severity: 'high',
    scope: 'object',
    description: 'd',
    risk: 'r',
    remediation: 'm',
    clause: 'c',
  };

  it('accepts a complete meta', () => {
    expect(validateRuleMeta(good, 'object').id).to.equal('some-rule');
  });

  it('names every wrong field', () => {
    expect(() => validateRuleMeta({ ...good, severity: 'urgent', risk: '' }, 'object')).to.throw(
      /rule meta some-rule: risk must be a non-empty string; severity must be one of critical, high, medium, low, info/,
    );
    expect(() => validateRuleMeta(good, 'bucket')).to.throw(/scope must be "bucket"/);
    expect(() => validateRuleMeta({ ...good, id: 'Some_Rule' }, 'object')).to.throw(/id must be kebab-case/);
    expect(() => validateRuleMeta({ ...good, extra: 1 }, 'object')).to.throw(/unknown field\(s\): extra/);
    expect(() => validateRuleMeta(null, 'object')).to.throw(/\(no id\)/);
  });
});
