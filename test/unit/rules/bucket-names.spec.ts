import { expect } from 'chai';
import { bucketNameWords, classifyBucketName, TEST_WORDS } from '../../../core/rules/bucket-names.js';

describe('classifyBucketName', () => {
  const testLike: Array<[string, string[]]> = [
    ['ars-acc-2019', ['acc']],
    ['vendor_test', ['test']],
    ['test2', ['test']],
    ['backup.2020', ['backup']],
    ['test', ['test']],
    ['ars-tst', ['tst']],
    ['maastricht-acceptatie', ['acceptatie']],
    ['anpr-staging', ['staging']],
    ['anpr-stg-01', ['stg']],
    ['dev-anpr', ['dev']],
    ['demo.anpr', ['demo']],
    ['sandbox1', ['sandbox']],
    ['anpr-tmp', ['tmp']],
    ['temp-upload', ['temp']],
    ['photos-bak', ['bak']],
    ['2019old', ['old']],
    ['ars-old-photos', ['old']],
    ['copy-of-prod', ['copy']],
    ['export-2021-03', ['export']],
    ['ars-test-backup-test', ['test', 'backup']],
    ['ARS-ACC', ['acc']],
    ['prod-20200101-bak', ['bak']],
    ['x1dev2', ['dev']],
  ];
  for (const [name, words] of testLike) {
    it(`"${name}" is test-like by ${words.join(', ')}`, () => {
      expect(classifyBucketName(name)).to.deep.equal({ testLike: true, words });
    });
  }

  const production = [
    'contest',
    'latest',
    'accident',
    'development',
    'oldenzaal',
    'tempo',
    'democratie',
    'ars-prod',
    'anpr-maastricht-2026',
    'attest',
    'testimony',
    'devices',
    'backups',
    'copyright',
    'exports',
    'stage',
    'accu',
    'bakery',
    'bold',
    'tmpl',
    'protest-cams',
    'a.b-c_d',
  ];
  for (const name of production) {
    it(`"${name}" is not test-like`, () => {
      expect(classifyBucketName(name)).to.deep.equal({ testLike: false, words: [] });
    });
  }

  it('splits on separators and letter/digit boundaries', () => {
    expect(bucketNameWords('ars-acc_2019.v2')).to.deep.equal(['ars', 'acc', '2019', 'v', '2']);
    expect(bucketNameWords('')).to.deep.equal([]);
  });

  it('lists every word of the brief', () => {
    expect([...TEST_WORDS].sort()).to.deep.equal(
      [
        'test',
        'tst',
        'acc',
        'acceptatie',
        'staging',
        'stg',
        'dev',
        'demo',
        'sandbox',
        'tmp',
        'temp',
        'backup',
        'bak',
        'old',
        'copy',
        'export',
      ].sort(),
    );
  });
});
