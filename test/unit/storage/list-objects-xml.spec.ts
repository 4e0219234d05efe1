import { expect } from 'chai';
import {
  ListingXmlError,
  parseListObjectsV2,
  parseListObjectVersions,
  parseVersioningStatus,
} from '../../../core/storage/list-objects-xml.js';

function listing(opts: { encoding?: string; keys: string[]; prefixes?: string[]; token?: string }): string {
  const contents = opts.keys
    .map(
      (key) =>
        `<Contents>\n    <Key>${key}</Key>\n    <LastModified>2026-11-23T10:00:00.000Z</LastModified>\n` +
        `    <ETag>&quot;0123&quot;</ETag>\n    <Size>0042</Size>\n  </Contents>`,
    )
    .join('\n  ');
  const prefixes = (opts.prefixes ?? []).map((p) => `<CommonPrefixes><Prefix>${p}</Prefix></CommonPrefixes>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    '  <Name>bucket</Name>',
    opts.encoding ? `  <EncodingType>${opts.encoding}</EncodingType>` : '',
    `  <IsTruncated>${opts.token ? 'true' : 'false'}</IsTruncated>`,
    opts.token ? `  <NextContinuationToken>${opts.token}</NextContinuationToken>` : '',
    `  ${contents}`,
    ...prefixes,
    '</ListBucketResult>',
  ].join('\n');
}

describe('parseListObjectsV2', () => {
  it('keeps keys that look like numbers, and every value, as the text the server sent', () => {
    const page = parseListObjectsV2(
      listing({ keys: ['000123', '0x1F', '1.50', '00', '1e5'], token: '0042' }),
    );
    expect(page.entries.map((e) => e.key)).to.deep.equal(['000123', '0x1F', '1.50', '00', '1e5']);
    expect(page.entries[0]).to.deep.equal({
      key: '000123',
      etag: '"0123"',
      size: '0042',
      lastModified: '2026-11-23T10:00:00.000Z',
    });
    expect(page.isTruncated).to.equal(true);
    expect(page.nextContinuationToken).to.equal('0042');
  });

  it('decodes url-encoded keys and prefixes (a space as +, a plus as %2B) when the response says so', () => {
    const page = parseListObjectsV2(
      listing({
        encoding: 'url',
        keys: ['a+b%2Bc.jpg', '%20lead.jpg', 'stra%C3%9Fe%2F%C3%BC.jpg', '000123'],
        prefixes: ['cam+1%2F'],
      }),
    );
    expect(page.entries.map((e) => e.key)).to.deep.equal([
      'a b+c.jpg',
      ' lead.jpg',
      'straße/ü.jpg',
      '000123',
    ]);
    expect(page.commonPrefixes).to.deep.equal(['cam 1/']);
    expect(page.isTruncated).to.equal(false);
    expect(page.nextContinuationToken).to.equal(null);
  });

  it('takes keys as they are, spaces and plus signs included, when the response is not encoded', () => {
    const page = parseListObjectsV2(
      listing({
        keys: [
          ' lead.jpg',
          'trail.jpg ',
          'a+b.jpg',
          'a&amp;b &lt;c&gt;.jpg',
          // Character references, as s3rver writes an apostrophe; an escaped ampersand decoded once.
          '&#x27;s-Hertogenbosch/o&#39;clock.jpg',
          'a&amp;lt;b',
        ],
      }),
    );
    expect(page.entries.map((e) => e.key)).to.deep.equal([
      ' lead.jpg',
      'trail.jpg ',
      'a+b.jpg',
      'a&b <c>.jpg',
      "'s-Hertogenbosch/o'clock.jpg",
      'a&lt;b',
    ]);
  });

  it('reads an empty page', () => {
    const page = parseListObjectsV2(listing({ keys: [] }));
    expect(page).to.deep.equal({
      entries: [],
      commonPrefixes: [],
      isTruncated: false,
      nextContinuationToken: null,
    });
  });

  it('refuses a body that is not a listing', () => {
    expect(() => parseListObjectsV2('<Error><Code>AccessDenied</Code></Error>')).to.throw(
      ListingXmlError,
      /no ListBucketResult/,
    );
    expect(() => parseListObjectsV2('not xml <<')).to.throw(ListingXmlError);
  });

  it('refuses a listing cut off between elements, which would pass for a last page', () => {
    const whole = listing({ keys: ['a.jpg', 'b.jpg'] });
    const cut = whole.slice(0, whole.indexOf('</Contents>') + '</Contents>'.length);
    expect(() => parseListObjectsV2(cut)).to.throw(ListingXmlError, /cut off/);
    expect(parseListObjectsV2(`${whole}\n`).entries).to.have.length(2);
  });

  it('refuses a truncated page without a continuation token', () => {
    const xml = listing({ keys: ['a.jpg'] }).replace('<IsTruncated>false', '<IsTruncated>true');
    expect(() => parseListObjectsV2(xml)).to.throw(ListingXmlError, /no NextContinuationToken/);
  });
});

describe('parseListObjectVersions', () => {
  const versions = (inner: string, encoded = true) =>
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>b</Name>${encoded ? '<EncodingType>url</EncodingType>' : ''}${inner}</ListVersionsResult>`;

  it('reads versions and delete markers, keys as sent (url-decoded when encoded), and the next markers', () => {
    const page = parseListObjectVersions(
      versions(
        '<IsTruncated>true</IsTruncated><NextKeyMarker>a+b%2B1.jpg</NextKeyMarker><NextVersionIdMarker>v1</NextVersionIdMarker>' +
          '<Version><Key>000123</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest>' +
          '<LastModified>2026-11-20T07:00:00.000Z</LastModified><ETag>"e3"</ETag><Size>0012</Size></Version>' +
          '<DeleteMarker><Key>a+b%2B1.jpg</Key><VersionId>d2</VersionId><IsLatest>true</IsLatest>' +
          '<LastModified>2026-11-21T07:00:00.000Z</LastModified></DeleteMarker>' +
          '<Version><Key>a+b%2B1.jpg</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>' +
          '<LastModified>2026-11-19T07:00:00.000Z</LastModified><ETag>"e1"</ETag><Size>8</Size></Version>',
      ),
    );
    expect(page).to.deep.equal({
      versions: [
        {
          key: '000123',
          versionId: 'v3',
          isLatest: true,
          lastModified: '2026-11-20T07:00:00.000Z',
          etag: '"e3"',
          size: '0012',
        },
        {
          key: 'a b+1.jpg',
          versionId: 'v1',
          isLatest: false,
          lastModified: '2026-11-19T07:00:00.000Z',
          etag: '"e1"',
          size: '8',
        },
      ],
      deleteMarkers: [
        { key: 'a b+1.jpg', versionId: 'd2', isLatest: true, lastModified: '2026-11-21T07:00:00.000Z' },
      ],
      isTruncated: true,
      nextKeyMarker: 'a b+1.jpg',
      nextVersionIdMarker: 'v1',
    });
  });

  it('reads a last page without markers, and keys as they are when not encoded', () => {
    const page = parseListObjectVersions(
      versions(
        '<IsTruncated>false</IsTruncated><Version><Key>a+b.jpg</Key><VersionId>null</VersionId>' +
          '<IsLatest>true</IsLatest><LastModified>x</LastModified><ETag>"e"</ETag><Size>1</Size></Version>',
        false,
      ),
    );
    expect(page.versions[0]!.key).to.equal('a+b.jpg');
    expect(page).to.include({ isTruncated: false, nextKeyMarker: null, nextVersionIdMarker: null });
  });

  it('refuses another body, one cut off, and a truncated page without a next key marker', () => {
    expect(() => parseListObjectVersions(listing({ keys: ['a'] }))).to.throw(
      ListingXmlError,
      /no ListVersionsResult/,
    );
    const whole = versions(
      '<IsTruncated>false</IsTruncated><DeleteMarker><Key>k</Key></DeleteMarker><Name>b</Name>',
    );
    const cut = whole.slice(0, whole.indexOf('</DeleteMarker>') + '</DeleteMarker>'.length);
    expect(() => parseListObjectVersions(cut)).to.throw(ListingXmlError, /cut off/);
    expect(() => parseListObjectVersions(versions('<IsTruncated>true</IsTruncated>'))).to.throw(
      ListingXmlError,
      /no NextKeyMarker/,
    );
  });
});

describe('parseVersioningStatus', () => {
  const answer = (inner: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</VersioningConfiguration>`;

  it('reads Enabled and Suspended in any case, and an empty configuration as never', () => {
    expect(parseVersioningStatus(answer('<Status>Enabled</Status>'))).to.equal('enabled');
    expect(
      parseVersioningStatus(answer('<Status>suspended</Status><MfaDelete>Disabled</MfaDelete>')),
    ).to.equal('suspended');
    expect(parseVersioningStatus(answer(''))).to.equal('never');
    expect(parseVersioningStatus('<VersioningConfiguration/>')).to.equal('never');
  });

  it('takes a bucket listing in answer (s3rver ignores the subresource) for a server without versioning', () => {
    const listingAnswer =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://doc.s3.amazonaws.com/2006-03-01/">' +
      '<Name>b</Name><IsTruncated>false</IsTruncated></ListBucketResult>';
    expect(parseVersioningStatus(listingAnswer)).to.equal('unsupported');
  });

  it('gives null for a status it does not know, and refuses another body', () => {
    expect(parseVersioningStatus(answer('<Status>Paused</Status>'))).to.equal(null);
    expect(() => parseVersioningStatus('<Error><Code>x</Code></Error>')).to.throw(ListingXmlError);
  });
});
