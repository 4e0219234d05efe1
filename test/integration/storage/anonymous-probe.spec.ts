/**
 * The anonymous probes (core/storage/anonymous-probe.ts) against a real s3rver behind the gateway,
 * which refuses unsigned requests to private buckets as S3 does: a decision is taken as it comes,
 * an inconclusive answer is tried again, and the source's pace is awaited before every request.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import { probeAnonymousAccess } from '../../../core/storage/anonymous-probe.js';
import { S3RVER_CREDENTIALS, startS3Stack, type S3Stack } from '../../../fixtures/s3-server.js';

const A_JPG = { key: 'cam 1/a.jpg', size: 12 };
/** A folder marker, as the S3 console writes one. */
const MARKER = { key: 'cam 1/', size: 0 };

describe('anonymous probes of a bucket', function () {
  let stack: S3Stack;
  let directory: string;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'anonymous-probe-'));
    stack = await startS3Stack({ directory, publicBuckets: ['open-data'] });
    const client = new Client({
      endPoint: '127.0.0.1',
      port: stack.port,
      useSSL: false,
      ...S3RVER_CREDENTIALS,
    });
    for (const bucket of ['open-data', 'private-data']) {
      await client.makeBucket(bucket);
      await client.putObject(bucket, A_JPG.key, Buffer.from('camera bytes'));
      await client.putObject(bucket, MARKER.key, Buffer.alloc(0));
    }
  });
  after(async () => {
    await stack?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });
  afterEach(() => stack.gateway.setFaults({ failRate: 0 }));

  /** A pace that counts its calls, as the source's rate gate would be awaited. */
  function countingPace() {
    const pace = async () => {
      pace.calls += 1;
    };
    pace.calls = 0;
    return pace;
  }

  it('finds a public bucket and object readable, and a private one refused', async () => {
    const open = await probeAnonymousAccess(stack.gateway.url, 'open-data', A_JPG);
    expect(open.map((p) => [p.status, p.allowed])).to.deep.equal([
      [200, true],
      [206, true],
    ]);
    expect(open[1]!.request).to.equal('GET /open-data/cam%201/a.jpg (Range: bytes=0-15)');
    const closed = await probeAnonymousAccess(stack.gateway.url, 'private-data', A_JPG);
    expect(closed.map((p) => [p.status, p.allowed])).to.deep.equal([
      [403, false],
      [403, false],
    ]);
  });

  it('reads an object without bytes whole, as a range of it says nothing', async () => {
    const open = await probeAnonymousAccess(stack.gateway.url, 'open-data', MARKER);
    expect(open[1]).to.deep.equal({ request: 'GET /open-data/cam%201/', status: 200, allowed: true });
    const closed = await probeAnonymousAccess(stack.gateway.url, 'private-data', MARKER);
    expect(closed[1]).to.deep.include({ status: 403, allowed: false });
  });

  it('tries an inconclusive answer again, awaiting the pace before every request', async () => {
    stack.gateway.setFaults({ failRate: 0, failUnsigned: true, failStatus: 503 });
    stack.gateway.resetCounts();
    const pace = countingPace();
    const probes = await probeAnonymousAccess(stack.gateway.url, 'open-data', A_JPG, pace);
    expect(probes.map((p) => p.status)).to.deep.equal([503, 503]);
    // Two probes, each tried three times (the first and two retries), every request paced.
    expect(stack.gateway.counts().unsigned).to.equal(6);
    expect(pace.calls).to.equal(6);
  });

  it('sends nothing when the pace fails, and reports the probe as not sent', async () => {
    stack.gateway.resetCounts();
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('Redis is down');
    };
    const probes = await probeAnonymousAccess(stack.gateway.url, 'open-data', A_JPG, failing);
    expect(probes.map((p) => [p.status, p.allowed])).to.deep.equal([
      [0, false],
      [0, false],
    ]);
    expect(probes[0]!.request).to.match(
      /^GET \/open-data\?list-type=2&max-keys=1 \(not sent: .*Redis is down/,
    );
    // Not tried again: a failing pace is no answer from the server.
    expect(calls).to.equal(2);
    expect(stack.gateway.counts().total).to.equal(0);
  });
});
