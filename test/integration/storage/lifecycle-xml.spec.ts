/**
 * Bucket lifecycle as S3 sends it, read through minio: one rule (which minio hands over as an object,
 * not a list), several, filtered by prefix, tags or size, the legacy top-level Prefix, disabled rules
 * and rules without days. s3rver does not implement lifecycle, so a plain HTTP server answers with
 * the XML of AWS's documentation.
 */
import { expect } from 'chai';
import { startPlainHttpStorage, type PlainHttpStorage } from '../../helpers/plain-http-storage.js';

const rule = (id: string, filter: string, days: string, status = 'Enabled'): string =>
  `<Rule><ID>${id}</ID>${filter}<Status>${status}</Status><Expiration>${days}</Expiration></Rule>`;
const WHOLE = '<Filter><Prefix></Prefix></Filter>';

const CASES: [string, string, { expirationDays: number[]; scopedExpirations: unknown[] }][] = [
  [
    'one whole-bucket rule',
    rule('all', WHOLE, '<Days>90</Days>'),
    { expirationDays: [90], scopedExpirations: [] },
  ],
  [
    'one rule with an empty filter',
    rule('all', '<Filter/>', '<Days>2</Days>'),
    { expirationDays: [2], scopedExpirations: [] },
  ],
  [
    'rules for logs/ and tmp/ only',
    rule('logs', '<Filter><Prefix>logs/</Prefix></Filter>', '<Days>1</Days>') +
      rule('tmp', '<Filter><Prefix>2026</Prefix></Filter>', '<Days>1</Days>'),
    {
      expirationDays: [],
      scopedExpirations: [
        { scope: 'prefix "logs/"', days: 1 },
        { scope: 'prefix "2026"', days: 1 },
      ],
    },
  ],
  [
    'a tag filter, an And filter, a size filter and a legacy prefix beside a whole-bucket rule',
    rule('tag', '<Filter><Tag><Key>kind</Key><Value>tmp</Value></Tag></Filter>', '<Days>1</Days>') +
      rule(
        'and',
        '<Filter><And><Prefix>img/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter>',
        '<Days>3</Days>',
      ) +
      rule(
        'size',
        '<Filter><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></Filter>',
        '<Days>4</Days>',
      ) +
      rule('legacy', '<Prefix>old/</Prefix>', '<Days>5</Days>') +
      rule('all', WHOLE, '<Days>30</Days>'),
    {
      expirationDays: [30],
      scopedExpirations: [
        { scope: 'tag kind=tmp', days: 1 },
        { scope: 'prefix "img/" and tag a=1 and tag b=2', days: 3 },
        { scope: 'objects over 1048576 bytes', days: 4 },
        { scope: 'prefix "old/"', days: 5 },
      ],
    },
  ],
  [
    'a disabled rule, a date expiration and a delete-marker cleanup',
    rule('off', WHOLE, '<Days>1</Days>', 'Disabled') +
      rule('date', WHOLE, '<Date>2027-01-01T00:00:00.000Z</Date>') +
      rule('markers', WHOLE, '<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>'),
    { expirationDays: [], scopedExpirations: [] },
  ],
];

describe('bucket lifecycle XML as S3 sends it', function () {
  let plain: PlainHttpStorage;
  let rules = '';

  before(async () => {
    plain = await startPlainHttpStorage((req, res) => {
      expect(req.url).to.match(/\?lifecycle/);
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>' +
          `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</LifecycleConfiguration>`,
      );
    });
  });
  after(() => plain?.close());

  for (const [name, xml, expected] of CASES) {
    it(name, async () => {
      rules = xml;
      expect(await plain.storage.lifecycle('ars-violations')).to.deep.equal({ supported: true, ...expected });
    });
  }
});
