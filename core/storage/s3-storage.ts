/**
 * The only code that imports `minio`: list pages, ranged reads of object heads, bucket listing,
 * lifecycle, versioning and version listings, and the writes the fixtures need. One `SourceStorage` per configured source.
 */
import http from 'node:http';
import https from 'node:https';
import * as Minio from 'minio';
import pRetry, { AbortError } from 'p-retry';
import type { Credentials } from '../../config/load.js';
import type { LifecycleObservation, VersioningState } from '../rules/rule.js';
import { lifecycleExpirations } from './lifecycle-rules.js';
import {
  ListingXmlError,
  parseListObjectVersions,
  parseListObjectsV2,
  parseVersioningStatus,
  type ListObjectsV2Page,
  type ListObjectVersionsPage,
} from './list-objects-xml.js';

/** Where and as whom to reach an S3-compatible endpoint. */
export interface S3Endpoint {
  endpoint: string;
  region: string;
  credentials: Credentials;
}

/** One entry of a listing page. The ETag is without quotes. */
export interface ListedObject {
  key: string;
  etag: string;
  size: number;
  lastModified: Date;
}

export interface ListPage {
  objects: ListedObject[];
  /** Token for the next page; null on the last page. */
  nextToken: string | null;
}

/** The head of an object and the user metadata from the same response. */
export interface ObjectHead {
  bytes: Buffer;
  /** `x-amz-meta-*` headers, lower-cased, without the prefix. */
  metadata: Record<string, string>;
}

/** Error codes and network failures worth another try: throttling, 5xx, dropped connections. */
const RETRYABLE = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'Throttling',
  'ThrottlingException',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNREFUSED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/**
 * Percent-encodes a query value as SigV4 wants it (RFC 3986: `!'()*` too, which
 * encodeURIComponent leaves alone), as minio encodes the values it signs.
 */
function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * minio turns a 408, 429 or 5xx answer into "Request failed after 0 retries: Error: Retryable HTTP
 * status: 503" before it reads the S3 error code (its own retries are off; ours made the tries).
 */
const MINIO_RETRYABLE_STATUS = /Retryable HTTP status: (\d{3})/;

/** Whether an S3 or network error is transient. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  if (code !== undefined && RETRYABLE.has(code)) return true;
  const message = (error as Error | null)?.message ?? '';
  return MINIO_RETRYABLE_STATUS.test(message) || /socket hang up|timed? ?out|ECONNRESET/i.test(message);
}

/** A short, secret-free description of an S3 error for scan errors and findings. */
export function describeS3Error(error: unknown): string {
  const e = error as { code?: string; message?: string } | null;
  const message = (e?.message ?? String(error)).split('\n')[0]!;
  // Say what the server answered, not minio's "after 0 retries".
  const status = MINIO_RETRYABLE_STATUS.exec(message)?.[1];
  if (status !== undefined)
    return `the server answered HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
  const code = e?.code ? `${e.code}: ` : '';
  return `${code}${message}`.slice(0, 300);
}

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { retries: 4, minTimeoutMs: 100, maxTimeoutMs: 3000 };

/** Waits until one more request may go to the endpoint (a source's `requestsPerSecond`). */
export type RequestPace = () => Promise<void>;

/**
 * Waits for `pace` inside a p-retry attempt. A pace that fails rejects with an AbortError: it is no
 * trouble of the endpoint's, so the request is not tried again.
 */
export function awaitPace(pace: RequestPace): Promise<void> {
  return pace().catch((error: Error) => Promise.reject(new AbortError(error)));
}

/** Access to one source's S3 endpoint. Holds a keep-alive agent: call `close()` when done. */
export class SourceStorage {
  private readonly client: Minio.Client;
  private readonly agent: http.Agent;
  readonly url: URL;

  constructor(
    private readonly endpoint: S3Endpoint,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    /** Awaited before every request, retries included, so no request escapes the source's rate. */
    private readonly pace: RequestPace | null = null,
  ) {
    this.url = new URL(endpoint.endpoint);
    const useSSL = this.url.protocol === 'https:';
    // No socket cap here: p-limit bounds the requests in flight. A cap would be dangerous, because
    // minio does not drain the body of an error response, so each failed request keeps its socket
    // busy until the server closes it; under a burst of 503s a capped pool would starve.
    const agentOptions = { keepAlive: true, timeout: 30_000 };
    this.agent = useSSL ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.client = new Minio.Client({
      endPoint: this.url.hostname,
      port: this.url.port ? Number(this.url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: endpoint.credentials.accessKey,
      secretKey: endpoint.credentials.secretKey,
      region: endpoint.region,
      pathStyle: true,
      transportAgent: this.agent,
      // minio's own retry writes to the console and ignores our pace and policy: we retry
      // ourselves (withRetry). Either way minio reports a 408, 429 or 5xx answer without its S3
      // code (see describeS3Error).
      retryOptions: { disableRetry: true },
    });
  }

  private withRetry<T>(operation: () => Promise<T>): Promise<T> {
    return pRetry(
      async () => {
        if (this.pace) await awaitPace(this.pace);
        try {
          return await operation();
        } catch (error) {
          if (!isRetryable(error)) throw new AbortError(error as Error);
          throw error;
        }
      },
      {
        retries: this.retry.retries,
        minTimeout: this.retry.minTimeoutMs,
        maxTimeout: this.retry.maxTimeoutMs,
        randomize: true,
      },
    );
  }

  /** Names of every bucket the credentials can see (ListBuckets). */
  async listBuckets(): Promise<string[]> {
    const buckets = await this.withRetry(() => this.client.listBuckets());
    return buckets.map((b) => b.name).sort();
  }

  /**
   * One ListObjectsV2 page. Pass `continuationToken` to go on, or `startAfter` to resume after a
   * checkpoint (both may be given; S3 then ignores startAfter).
   */
  async listPage(
    bucket: string,
    opts: {
      continuationToken?: string | null;
      startAfter?: string | null;
      maxKeys?: number;
      prefix?: string;
    },
  ): Promise<ListPage> {
    const page = await this.listObjectsV2(bucket, {
      prefix: opts.prefix ?? '',
      continuationToken: opts.continuationToken ?? null,
      startAfter: opts.startAfter ?? null,
      maxKeys: opts.maxKeys ?? 1000,
    });
    const objects: ListedObject[] = page.entries.map((entry) => ({
      key: entry.key,
      etag: entry.etag.replace(/^"|"$/g, ''),
      size: Number(entry.size),
      lastModified: new Date(entry.lastModified),
    }));
    return { objects, nextToken: page.isTruncated ? page.nextContinuationToken : null };
  }

  /**
   * The folders directly under `prefix`: the common prefixes of one ListObjectsV2 page with
   * delimiter '/' (up to 1000 entries, folders and objects together, so a page may not show all).
   */
  async listFolders(bucket: string, prefix: string): Promise<string[]> {
    const page = await this.listObjectsV2(bucket, { prefix, delimiter: '/', maxKeys: 1000 });
    return page.commonPrefixes;
  }

  /**
   * One ListObjectsV2 request, signed by minio, its body parsed by us (see list-objects-xml.ts:
   * minio's parser rewrites keys that look like numbers). Keys are asked URL-encoded, as minio does,
   * so that no key's characters can break the XML.
   */
  private listObjectsV2(
    bucket: string,
    opts: {
      prefix: string;
      delimiter?: string;
      continuationToken?: string | null;
      startAfter?: string | null;
      maxKeys: number;
    },
  ): Promise<ListObjectsV2Page> {
    const query = [
      'list-type=2',
      'encoding-type=url',
      `prefix=${uriEscape(opts.prefix)}`,
      `delimiter=${uriEscape(opts.delimiter ?? '')}`,
      `max-keys=${Math.min(opts.maxKeys, 1000)}`,
    ];
    if (opts.continuationToken) query.push(`continuation-token=${uriEscape(opts.continuationToken)}`);
    if (opts.startAfter) query.push(`start-after=${uriEscape(opts.startAfter)}`);
    return this.getBucketXml(bucket, query, parseListObjectsV2);
  }

  /**
   * One GET of `bucket` with `query` (sorted, as signing wants it), signed by minio, its body read
   * whole and parsed by `parse` (list-objects-xml.ts); retried as every request is.
   */
  private getBucketXml<T>(bucket: string, query: string[], parse: (body: string) => T): Promise<T> {
    return this.withRetry(async () => {
      const response = await this.client.makeRequestAsync({
        method: 'GET',
        bucketName: bucket,
        query: [...query].sort().join('&'),
      });
      return parse(Buffer.concat((await response.toArray()) as Buffer[]).toString('utf8'));
    });
  }

  /**
   * Reads bytes [offset, offset + length) of an object with a ranged GET, and the user metadata
   * from the same response. The caller must not ask past the object's size.
   */
  async readRange(bucket: string, key: string, offset: number, length: number): Promise<ObjectHead> {
    return this.withRetry(async () => {
      const stream = await this.client.getPartialObject(bucket, key, offset, length);
      const response = stream as unknown as http.IncomingMessage;
      const headers = response.headers ?? {};
      // HTTP lets a server (or a proxy) ignore Range and send the whole object with 200: take the
      // span asked for from wherever the body starts, and stop there rather than buffer the rest.
      const bodyStart = response.statusCode === 206 ? contentRangeStart(headers['content-range'], offset) : 0;
      const bytes = await readSpan(stream, offset - bodyStart, length, response.statusCode !== 206);
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice(11)] = value;
      }
      return { bytes, metadata };
    });
  }

  /**
   * The bucket's lifecycle expiration rules, or a note when the server does not implement
   * lifecycle (s3rver answers NotImplemented).
   */
  async lifecycle(bucket: string): Promise<LifecycleObservation> {
    try {
      const config = await this.withRetry(() => this.client.getBucketLifecycle(bucket));
      return { supported: true, ...lifecycleExpirations(config) };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'NoSuchLifecycleConfiguration') {
        return { supported: true, expirationDays: [], scopedExpirations: [] };
      }
      if (code === 'NotImplemented' || code === 'MethodNotAllowed') {
        return { supported: false, note: `the server does not implement bucket lifecycle (${code})` };
      }
      return { supported: false, note: `lifecycle could not be read (${describeS3Error(error)})` };
    }
  }

  /**
   * Whether the bucket keeps versions (GetBucketVersioning; our request, as minio's refuses the
   * legacy bucket names its listings accept): `unsupported` when the server does not implement
   * versioning (NotImplemented, or s3rver's listing in answer), so it cannot hold any. Throws when
   * the status cannot be read, or is one this code does not know.
   */
  async versioning(bucket: string): Promise<VersioningState> {
    try {
      const status = await this.getBucketXml(bucket, ['versioning'], parseVersioningStatus);
      if (status === null)
        throw new ListingXmlError('the versioning answer has a Status this auditor does not know');
      return status;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'NotImplemented' || code === 'MethodNotAllowed') return 'unsupported';
      throw error;
    }
  }

  /**
   * One ListObjectVersions page (up to 1000 versions and delete markers), after `keyMarker` and
   * `versionIdMarker` of the page before; signed by minio, parsed by us as listings are.
   */
  listVersionsPage(
    bucket: string,
    markers: { keyMarker: string | null; versionIdMarker: string | null },
  ): Promise<ListObjectVersionsPage> {
    const query = ['versions', 'encoding-type=url', 'max-keys=1000'];
    if (markers.keyMarker !== null) query.push(`key-marker=${uriEscape(markers.keyMarker)}`);
    if (markers.versionIdMarker !== null)
      query.push(`version-id-marker=${uriEscape(markers.versionIdMarker)}`);
    return this.getBucketXml(bucket, query, parseListObjectVersions);
  }

  /** Creates a bucket when missing (fixtures and demo only). */
  async ensureBucket(bucket: string): Promise<void> {
    if (!(await this.client.bucketExists(bucket))) await this.client.makeBucket(bucket, this.endpoint.region);
  }

  /** Writes an object with the given headers (`Content-Type`, `x-amz-meta-*`); fixtures and demo only. */
  async putObject(
    bucket: string,
    key: string,
    bytes: Buffer,
    headers: Record<string, string> = {},
  ): Promise<void> {
    await this.client.putObject(bucket, key, bytes, bytes.length, {
      'Content-Type': 'application/octet-stream',
      ...headers,
    });
  }

  /** Deletes an object (fixtures and tests only: the auditor itself never deletes). */
  async removeObject(bucket: string, key: string): Promise<void> {
    await this.client.removeObject(bucket, key);
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * The first byte a 206 answer's `Content-Range: bytes <first>-<last>/<size>` holds: `asked` when the
 * header is unreadable or starts past it (nothing before the body can be recovered from it).
 */
function contentRangeStart(header: string | undefined, asked: number): number {
  const match = /^bytes (\d+)-/.exec(header ?? '');
  return match ? Math.min(Number(match[1]), asked) : asked;
}

/**
 * Bytes [skip, skip + length) of a response body, or fewer when it ends first. A whole object sent
 * for a range (`wholeObject`) is left as soon as the span is in hand, which destroys the stream; a
 * range answer is read to its end, so its connection is kept for the next request.
 */
async function readSpan(
  body: AsyncIterable<unknown>,
  skip: number,
  length: number,
  wholeObject: boolean,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let position = 0;
  let kept = 0;
  for await (const piece of body) {
    const chunk = piece as Buffer;
    const from = Math.max(0, skip - position);
    const to = Math.min(chunk.length, skip + length - position);
    position += chunk.length;
    if (to > from) {
      chunks.push(chunk.subarray(from, to));
      kept += to - from;
    }
    if (wholeObject && kept >= length) break;
  }
  return Buffer.concat(chunks, kept);
}
