import { expect } from 'chai';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Stack, type S3Stack } from '../../fixtures/s3-server.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A V4-shaped Authorization header for s3rver's key. s3rver checks the access key but does not verify V4
 * signatures, and the gateway only checks that a request is signed at all, so a well-formed header is
 * all a test of the forwarding needs.
 */
function signed(): Record<string, string> {
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return {
    authorization:
      `AWS4-HMAC-SHA256 Credential=S3RVER/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request, ` +
      `SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${'0'.repeat(64)}`,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
  };
}

function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('fixtures/s3-gateway in front of a real s3rver', function () {
  let stack: S3Stack;
  let directory: string;
  const big = Buffer.alloc(6 * 1024 * 1024, 0x5a);

  before(async function () {
    directory = await mkdtemp(join(tmpdir(), 's3-gateway-'));
    stack = await startS3Stack({ directory, publicBuckets: ['open-data'] });
    for (const bucket of ['private-data', 'open-data']) {
      expect((await request(stack.port, 'PUT', `/${bucket}`, signed())).status).to.equal(200);
    }
    const put = (bucket: string, key: string, body: Buffer) =>
      request(stack.port, 'PUT', `/${bucket}/${key}`, { ...signed(), 'content-type': 'image/jpeg' }, body);
    expect((await put('private-data', 'a.jpg', Buffer.from('private bytes'))).status).to.equal(200);
    expect((await put('open-data', 'b.jpg', Buffer.from('public bytes'))).status).to.equal(200);
    expect((await put('private-data', 'big.bin', big)).status).to.equal(200);
    stack.gateway.resetCounts();
  });

  after(async function () {
    await stack.close();
    await rm(directory, { recursive: true, force: true });
  });

  afterEach(function () {
    stack.gateway.setFaults({ failRate: 0 });
    stack.gateway.setPublicBuckets(['open-data']);
  });

  it('refuses an unsigned listing of a private bucket with 403 AccessDenied', async function () {
    const answer = await request(stack.port, 'GET', '/private-data?list-type=2');
    expect(answer.status).to.equal(403);
    expect(answer.body.toString()).to.contain('<Code>AccessDenied</Code>');
    expect(answer.headers['content-type']).to.equal('application/xml');
  });

  it('refuses an unsigned request that names the private bucket in a virtual-host name', async function () {
    const answer = await request(stack.port, 'GET', '/a.jpg', { host: 'private-data.s3.amazonaws.com' });
    expect(answer.status).to.equal(403);
    // Signed, the same request reaches the object: the gateway and s3rver agree on what it names.
    const allowed = await request(stack.port, 'GET', '/a.jpg', {
      ...signed(),
      host: 'private-data.s3.amazonaws.com',
    });
    expect(allowed.body.toString()).to.equal('private bytes');
  });

  it('takes other host names for what s3rver takes them: path-style', async function () {
    const answer = await request(stack.port, 'GET', '/open-data/b.jpg', { host: 's3.example.internal' });
    expect(answer.body.toString()).to.equal('public bytes');
  });

  it('refuses an unsigned list of all buckets', async function () {
    expect((await request(stack.port, 'GET', '/')).status).to.equal(403);
  });

  it('serves an unsigned listing and GET of a public bucket', async function () {
    const list = await request(stack.port, 'GET', '/open-data?list-type=2');
    expect(list.status).to.equal(200);
    expect(list.body.toString()).to.contain('<Key>b.jpg</Key>');
    const object = await request(stack.port, 'GET', '/open-data/b.jpg');
    expect(object.body.toString()).to.equal('public bytes');
  });

  it('forwards a signed request to a private bucket', async function () {
    const list = await request(stack.port, 'GET', '/private-data?list-type=2', signed());
    expect(list.status).to.equal(200);
    expect(list.body.toString()).to.contain('<Key>a.jpg</Key>');
  });

  it('takes a change of the public buckets at run time', async function () {
    stack.gateway.setPublicBuckets(['private-data']);
    expect((await request(stack.port, 'GET', '/private-data/a.jpg')).status).to.equal(200);
    expect((await request(stack.port, 'GET', '/open-data/b.jpg')).status).to.equal(403);
  });

  it('streams a large object both ways intact, and ranged reads', async function () {
    const whole = await request(stack.port, 'GET', '/private-data/big.bin', signed());
    expect(whole.body.equals(big)).to.equal(true);
    const head = await request(stack.port, 'GET', '/private-data/big.bin', {
      ...signed(),
      range: 'bytes=0-65535',
    });
    expect(head.status).to.equal(206);
    expect(head.body.length).to.equal(65536);
  });

  it('counts requests by kind and by bucket, denied ones included, and resets', async function () {
    stack.gateway.resetCounts();
    await request(stack.port, 'GET', '/', signed());
    await request(stack.port, 'GET', '/private-data?list-type=2&prefix=', signed());
    await request(stack.port, 'GET', '/private-data/a.jpg', signed());
    await request(stack.port, 'GET', '/private-data/a.jpg', { ...signed(), range: 'bytes=0-3' });
    await request(stack.port, 'HEAD', '/private-data/a.jpg', signed());
    await request(stack.port, 'PUT', '/open-data/c.jpg', signed(), Buffer.from('c'));
    await request(stack.port, 'GET', '/private-data?location', signed());
    await request(stack.port, 'GET', '/private-data/a.jpg');
    const counts = stack.gateway.counts();
    expect(counts).to.include({
      total: 8,
      'list-buckets': 1,
      'list-objects': 1,
      'get-object': 3,
      rangedGets: 1,
      'head-object': 1,
      'put-object': 1,
      other: 1,
      denied: 1,
      injectedFaults: 0,
      servedSignedGets: 2,
      // 'private bytes' whole, then its first 4 bytes; the unsigned GET was refused.
      servedSignedGetBytes: 'private bytes'.length + 4,
    });
    expect(counts.byBucket['private-data']).to.include({ 'get-object': 3, total: 6 });
    expect(counts.byBucket['open-data']).to.include({ 'put-object': 1, total: 1 });
    stack.gateway.resetCounts();
    expect(stack.gateway.counts()).to.include({ total: 0, 'get-object': 0, denied: 0 });
    expect(stack.gateway.counts().byBucket).to.deep.equal({});
  });

  it('injects read failures with the S3 error body at rate 1, and only on reads', async function () {
    const served = (): number => stack.gateway.counts().servedSignedGets;
    const servedBefore = served();
    stack.gateway.setFaults({ failRate: 1, failStatus: 503 });
    const get = await request(stack.port, 'GET', '/private-data/a.jpg', signed());
    expect(get.status).to.equal(503);
    expect(get.body.toString()).to.contain('<Code>SlowDown</Code>');
    const head = await request(stack.port, 'HEAD', '/private-data/a.jpg', signed());
    expect(head.status).to.equal(503);
    expect(
      (await request(stack.port, 'PUT', '/open-data/d.jpg', signed(), Buffer.from('d'))).status,
    ).to.equal(200);
    stack.gateway.setFaults({ failRate: 1, failStatus: 500 });
    const list = await request(stack.port, 'GET', '/private-data?list-type=2', signed());
    expect(list.status).to.equal(500);
    expect(list.body.toString()).to.contain('<Code>InternalError</Code>');
    expect(served()).to.equal(servedBefore);
    stack.gateway.setFaults({ failRate: 0 });
    expect((await request(stack.port, 'GET', '/private-data/a.jpg', signed())).status).to.equal(200);
    expect(served()).to.equal(servedBefore + 1);
  });

  it('fails folder listings alone when asked to', async function () {
    stack.gateway.setFaults({ failRate: 0, failFolderListings: true });
    const faultsBefore = stack.gateway.counts().injectedFaults;
    const folders = await request(stack.port, 'GET', '/private-data?list-type=2&delimiter=%2F', signed());
    expect(folders.status).to.equal(503);
    expect(folders.body.toString()).to.contain('<Code>SlowDown</Code>');
    expect((await request(stack.port, 'GET', '/private-data?list-type=2', signed())).status).to.equal(200);
    expect((await request(stack.port, 'GET', '/private-data/a.jpg', signed())).status).to.equal(200);
    expect(
      (await request(stack.port, 'GET', '/private-data?list-type=2&delimiter=', signed())).status,
    ).to.equal(200);
    expect(stack.gateway.counts().injectedFaults - faultsBefore).to.equal(1);
    stack.gateway.setFaults({ failRate: 0 });
    expect(
      (await request(stack.port, 'GET', '/private-data?list-type=2&delimiter=%2F', signed())).status,
    ).to.equal(200);
  });

  it('refuses or fails ListBuckets, or fails unsigned reads of public buckets, alone when asked to', async function () {
    stack.gateway.setFaults({ failRate: 0, denyListBuckets: true });
    const listing = await request(stack.port, 'GET', '/', signed());
    expect(listing.status).to.equal(403);
    expect(listing.body.toString()).to.contain('<Code>AccessDenied</Code>');
    expect((await request(stack.port, 'GET', '/private-data?list-type=2', signed())).status).to.equal(200);

    stack.gateway.setFaults({ failRate: 0, failListBuckets: 2, failStatus: 500 });
    expect((await request(stack.port, 'GET', '/', signed())).status).to.equal(500);
    expect((await request(stack.port, 'GET', '/private-data?list-type=2', signed())).status).to.equal(200);
    expect((await request(stack.port, 'GET', '/', signed())).status).to.equal(500);
    expect((await request(stack.port, 'GET', '/', signed())).status).to.equal(200);

    stack.gateway.setFaults({ failRate: 0, failUnsigned: true });
    expect((await request(stack.port, 'GET', '/', signed())).status).to.equal(200);
    expect((await request(stack.port, 'GET', '/open-data/b.jpg')).status).to.equal(503);
    expect((await request(stack.port, 'GET', '/private-data/a.jpg')).status).to.equal(403);
    expect((await request(stack.port, 'GET', '/open-data/b.jpg', signed())).status).to.equal(200);
    stack.gateway.setFaults({ failRate: 0 });
    expect((await request(stack.port, 'GET', '/open-data/b.jpg')).status).to.equal(200);
  });

  it('fails the same requests again for the same seed', async function () {
    async function pattern(): Promise<number[]> {
      stack.gateway.setFaults({ failRate: 0.5, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i += 1) {
        statuses.push((await request(stack.port, 'HEAD', '/private-data/a.jpg', signed())).status);
      }
      return statuses;
    }
    const first = await pattern();
    expect(first).to.include(503).and.to.include(200);
    expect(await pattern()).to.deep.equal(first);
  });

  it('delays object GETs when asked to, and counts the most of a bucket in flight at once', async function () {
    stack.gateway.setFaults({ failRate: 0, delayMs: 150 });
    stack.gateway.resetCounts();
    try {
      const started = Date.now();
      const answers = await Promise.all([
        request(stack.port, 'GET', '/private-data/a.jpg', signed()),
        request(stack.port, 'GET', '/private-data/a.jpg', signed()),
        request(stack.port, 'GET', '/private-data/a.jpg', signed()),
      ]);
      expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200]);
      expect(Date.now() - started).to.be.at.least(150);
      await request(stack.port, 'GET', '/private-data/a.jpg', signed());
      expect(stack.gateway.counts().peakGetsInFlight).to.deep.equal({ 'private-data': 3 });
      // Listings are not delayed.
      const listed = Date.now();
      await request(stack.port, 'GET', '/private-data?list-type=2', signed());
      expect(Date.now() - listed).to.be.below(150);
    } finally {
      stack.gateway.setFaults({ failRate: 0 });
    }
  });
});
