import { expect } from 'chai';
import { dutchPlate } from '../../../fixtures/scenario.js';
import { hasPlateLike, maskPlates, maskQuery, maskText } from '../../../server/mask.js';

describe('maskPlates', () => {
  const cases: Array<[string, string]> = [
    ['cam1/GX-123-B.jpg', 'cam1/**-***-*.jpg'],
    ['GXB123', '******'],
    ['gx-123-b', '**-***-*'],
    ['passage GX 123 B.jpg', 'passage ** *** *.jpg'],
    ['2026/11/20/NB_42_LX.jpg', '2026/11/20/**_**_**.jpg'],
    ['99-XXX-9', '**-***-*'],
    ['1-ABC-123', '*-***-***'],
    ['M-AB-1234', '*-**-****'],
    ['violations/ZT-908-K_2026.jpg', 'violations/**-***-*_****.jpg'],
    // Other separators, accented district codes; the extension stays readable.
    ['GX.123.B', '**.***.*'],
    ['cam1/GX.123.B.jpg', 'cam1/**.***.*.jpg'],
    ['GX+123+B', '**+***+*'],
    ['GX\u2013123\u2013B', '**\u2013***\u2013*'],
    ['GX\u00B7123\u00B7B', '**\u00B7***\u00B7*'],
    ['M\u00DC-AB 123', '**-** ***'],
    ['MU\u0308-AB 123', '**-** ***'],
    ['q=GX-123-B.JPEG&x', 'q=**-***-*.JPEG&x'],
    // A plate run straight into a time stamp or a long word: only the plate is masked.
    ['cam1/GX123B20261120.jpg', 'cam1/******20261120.jpg'],
    ['20261120083000GX123B.jpg', '20261120083000******.jpg'],
    ['20261120T083000ZGX123B', '20261120T083000*******'],
    ['IMG20261120GX123B20261120', 'IMG20261120******20261120'],
  ];
  for (const [input, masked] of cases) {
    it(`masks ${input}`, () => expect(maskPlates(input)).to.equal(masked));
  }

  const kept = [
    '2026/11/20/jwbeyenlaan-1/083000-01.jpg',
    '2026-11-20T08:30:00Z',
    '4f3ca2b1-1d2e-4c5f-9a7b-0123456789ab',
    'incoming/LEESMIJ.txt',
    '2026/11/Joseph Bechlaan/passage é 1.jpg',
    'scan-20261120t083000000z-1a2b3c4d',
    'ars-violations',
    'frame_0001.jpg',
    'cafe\u0301/passage.jpg',
    '2026-11-20 08:30:00.250 +01:00, 72.5 h old',
    'edge/2026/11/20/083000.250.jpg',
    // Time stamps, counters and hashes written in one word are not plates.
    'IMG20261120083000.jpg',
    'DSC01234.jpg',
    'cam01_20261120083000123.jpg',
    'd41d8cd98f00b204e9800998ecf8427e',
    'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
    // Ids with no time stamp in them: a ULID, short hex ids, a build name.
    '01JCC8CDYC4G5R3M2X9TQWZB7N',
    'dd7013aadf19',
    'x/5f1e2a9b7c3d4e6f8a0b1c2d/y',
    'build123abc',
    '',
  ];
  for (const input of kept) {
    it(`leaves ${JSON.stringify(input)} alone`, () => expect(maskPlates(input)).to.equal(input));
  }

  it('masks every plate the fixtures generate, in any side code', () => {
    for (let seed = 0; seed < 500; seed++) {
      const plate = dutchPlate(seed);
      expect(hasPlateLike(`x/${plate}.jpg`), plate).to.equal(true);
      expect(maskPlates(`x/${plate}.jpg`)).to.not.include(plate);
      expect(hasPlateLike(`x/${plate.replaceAll('-', '')}.jpg`), plate).to.equal(true);
      // Run into a time stamp on the side where a letter meets its digits.
      const bare = plate.replaceAll('-', '');
      const stamped = /[A-Z]$/.test(bare) ? `x/${bare}20261120083000.jpg` : `x/20261120083000${bare}.jpg`;
      if (/^[A-Z]/.test(bare) || /[A-Z]$/.test(bare)) expect(maskPlates(stamped), plate).to.not.include(bare);
    }
  });

  it('masks queries for the audit trail: strings, arrays, nested, cut and without NUL', () => {
    expect(maskQuery({ q: 'GX-123-B', rule: ['a', 'GXB123'], n: { k: 'ZT-908-K' } })).to.deep.equal({
      q: '**-***-*',
      rule: ['a', '******'],
      n: { k: '**-***-*' },
    });
    expect(maskText('x'.repeat(300))).to.have.length(200);
    expect(maskText(`${'x'.repeat(196)} GX-123-B`)).to.equal(`${'x'.repeat(196)} **-`);
    expect(maskText('a\u0000b')).to.equal('a\uFFFDb');
    expect(maskQuery(undefined)).to.deep.equal({});
  });
});
