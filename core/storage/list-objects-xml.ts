/**
 * The only code that imports `fast-xml-parser`: reads ListObjectsV2 and ListObjectVersions response
 * bodies exactly as the server wrote them. We do not use minio's own parser for listings: it turns every value that looks
 * like a number into one (the key `000123` comes back as `123`, `0x1F` as `31`, `1.50` as `1.5`, `00`
 * as an empty key) and trims spaces, so the scan would ask for objects that do not exist, count them
 * as deleted, and resume after a key the bucket does not hold. An auditor cannot let a key's name
 * hide its object.
 */
import { XMLParser } from 'fast-xml-parser';

/** One object of a listing page, as the server listed it (ETag still quoted, size as text). */
export interface ListedEntry {
  key: string;
  etag: string;
  size: string;
  lastModified: string;
}

/** A ListObjectsV2 page: its objects, its common prefixes, and the token of the next page. */
export interface ListObjectsV2Page {
  entries: ListedEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken: string | null;
}

// Every value stays the text the server sent: no number parsing, no trimming (a key may begin or
// end with spaces). Entities are decoded, as XML requires: the named ones and character references
// (`&#x27;`, which s3rver writes for the apostrophe of 's-Hertogenbosch; fast-xml-parser decodes
// references only with htmlEntities).
const parser = new XMLParser({
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  ignoreAttributes: true,
  isArray: (name) => ['Contents', 'CommonPrefixes', 'Version', 'DeleteMarker'].includes(name),
  // The callbacks above need no path: without it the parser builds no path string per element
  // (a tenth of its time on a 1000-key page).
  jPath: false,
});

/** Thrown when a body is not the listing (or versioning answer) it should be. */
export class ListingXmlError extends Error {
  override name = 'ListingXmlError';
}

type Node = Record<string, unknown>;

/** The text of a leaf element, or '' when absent (an element left empty parses as ''). */
function text(node: Node | undefined, name: string): string {
  const value = node?.[name];
  return typeof value === 'string' ? value : '';
}

/**
 * Decodes a value of a response made with `encoding-type=url`, as S3 and MinIO encode it: a space
 * as `+`, everything else outside the unreserved set as `%XX` of its UTF-8 bytes.
 */
function urlDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** `xml` parsed, or a {@link ListingXmlError} naming `what` when it is not well-formed. */
function parseXml(xml: string, what: string): Node {
  try {
    return parser.parse(xml) as Node;
  } catch (error) {
    throw new ListingXmlError(`the ${what} is not well-formed XML: ${(error as Error).message}`);
  }
}

/**
 * The `root` element of a listing body, refused when absent or when the body ends before its
 * closing tag: fast-xml-parser accepts a body cut off between elements, and a page cut short would
 * look like the last one, so the keys after it would be taken for deleted.
 */
function listingRoot(xml: string, root: string, what: string): Node {
  const result = parseXml(xml, what)[root] as Node | undefined;
  if (result === undefined || typeof result !== 'object')
    throw new ListingXmlError(`the ${what} has no ${root} element`);
  if (!xml.trimEnd().endsWith(`</${root}>`))
    throw new ListingXmlError(`the ${what} ends before its closing ${root} tag (cut off)`);
  return result;
}

/**
 * Parses a ListObjectsV2 response. Keys and prefixes are URL-decoded only when the response says it
 * encoded them (`<EncodingType>url</EncodingType>`): servers that ignore the request's
 * `encoding-type=url` (s3rver) send them as they are, and decoding those would turn a `+` in a key
 * into a space.
 */
export function parseListObjectsV2(xml: string): ListObjectsV2Page {
  const result = listingRoot(xml, 'ListBucketResult', 'listing');
  const decode = text(result, 'EncodingType').trim().toLowerCase() === 'url' ? urlDecode : (v: string) => v;
  const entries = ((result.Contents as Node[] | undefined) ?? []).map((content) => ({
    key: decode(text(content, 'Key')),
    etag: text(content, 'ETag').trim(),
    size: text(content, 'Size').trim(),
    lastModified: text(content, 'LastModified').trim(),
  }));
  const commonPrefixes = ((result.CommonPrefixes as Node[] | undefined) ?? []).map((prefix) =>
    decode(text(prefix, 'Prefix')),
  );
  const token = text(result, 'NextContinuationToken').trim();
  const isTruncated = text(result, 'IsTruncated').trim().toLowerCase() === 'true';
  // A page that says more follow but not how to ask for them would end the listing early.
  if (isTruncated && token === '')
    throw new ListingXmlError('the listing is truncated but gives no NextContinuationToken');
  return { entries, commonPrefixes, isTruncated, nextContinuationToken: token === '' ? null : token };
}

/** One version of a ListObjectVersions page (ETag still quoted, size as text). */
export interface ListedVersion extends ListedEntry {
  versionId: string;
  isLatest: boolean;
}

/** A ListObjectVersions page: its versions, its delete markers, and the markers of the next page. */
export interface ListObjectVersionsPage {
  versions: ListedVersion[];
  /** Delete markers, as versions without ETag or size. */
  deleteMarkers: Array<Pick<ListedVersion, 'key' | 'versionId' | 'isLatest' | 'lastModified'>>;
  isTruncated: boolean;
  nextKeyMarker: string | null;
  nextVersionIdMarker: string | null;
}

/**
 * Parses a ListObjectVersions response, with the same care as {@link parseListObjectsV2}: values as
 * sent, keys URL-decoded only when the response says so, a body cut off or truncated without a next
 * key marker refused.
 */
export function parseListObjectVersions(xml: string): ListObjectVersionsPage {
  const result = listingRoot(xml, 'ListVersionsResult', 'version listing');
  const decode = text(result, 'EncodingType').trim().toLowerCase() === 'url' ? urlDecode : (v: string) => v;
  const common = (node: Node) => ({
    key: decode(text(node, 'Key')),
    versionId: text(node, 'VersionId').trim(),
    isLatest: text(node, 'IsLatest').trim().toLowerCase() === 'true',
    lastModified: text(node, 'LastModified').trim(),
  });
  const versions = ((result.Version as Node[] | undefined) ?? []).map((node) => ({
    ...common(node),
    etag: text(node, 'ETag').trim(),
    size: text(node, 'Size').trim(),
  }));
  const deleteMarkers = ((result.DeleteMarker as Node[] | undefined) ?? []).map(common);
  const isTruncated = text(result, 'IsTruncated').trim().toLowerCase() === 'true';
  const nextKeyMarker = decode(text(result, 'NextKeyMarker'));
  const nextVersionIdMarker = text(result, 'NextVersionIdMarker').trim();
  if (isTruncated && nextKeyMarker === '')
    throw new ListingXmlError('the version listing is truncated but gives no NextKeyMarker');
  return {
    versions,
    deleteMarkers,
    isTruncated,
    nextKeyMarker: isTruncated ? nextKeyMarker : null,
    nextVersionIdMarker: isTruncated && nextVersionIdMarker !== '' ? nextVersionIdMarker : null,
  };
}

/**
 * The `Status` of a GetBucketVersioning answer: `enabled`, `suspended`, `never` when there is none (a
 * bucket that never kept versions answers an empty configuration), or null for any other value.
 * Compared without case: some S3-compatible servers write it in lower case. `unsupported` for a
 * server that answers with the bucket's listing instead (s3rver ignores the subresource): it does
 * not implement versioning, so it keeps no versions.
 */
export function parseVersioningStatus(xml: string): 'enabled' | 'suspended' | 'never' | 'unsupported' | null {
  const parsed = parseXml(xml, 'versioning answer');
  if ('ListBucketResult' in parsed && !('VersioningConfiguration' in parsed)) return 'unsupported';
  if (!('VersioningConfiguration' in parsed))
    throw new ListingXmlError('the versioning answer has no VersioningConfiguration element');
  const config = parsed.VersioningConfiguration;
  const status = (typeof config === 'object' && config !== null ? text(config as Node, 'Status') : '')
    .trim()
    .toLowerCase();
  if (status === '') return 'never';
  return status === 'enabled' || status === 'suspended' ? status : null;
}
