/**
 * How SourceStorage's errors read in scan errors and findings (describeS3Error), against a real
 * s3rver behind the gateway: a refusal keeps its S3 code, and a 5xx that outlasted our retries says
 * what the server answered, not minio's "Request failed after 0 retries".
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeS3Error, isRetryable, SourceStorage } from '../../../core/storage/s3-storage.js';
import { S3RVER_CREDENTIALS, startS3Stack, type S3Stack } from '../../../fixtures/s3-server.js';

describe('S3 errors as the scan reports them', function () {
  let stack: S3Stack;
  let directory: string;
  let storage: SourceStorage;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 's3-errors-'));
    stack = await startS3Stack({ directory });
    storage = new SourceStorage(
      { endpoint: stack.url, region: 'us-east-1', credentials: { ...S3RVER_CREDENTIALS } },
      { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 5 },
    );
    await storage.ensureBucket('camera');
    await storage.putObject('camera', 'a.jpg', Buffer.from('camera bytes'), {});
  });
  after(async () => {
    storage?.close();
    await stack?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });
  afterEach(() => stack.gateway.setFaults({ failRate: 0 }));

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('the request succeeded'),
      (error: unknown) => error,
    );

  for (const [status, text] of [
    [503, 'Service Unavailable'],
    [500, 'Internal Server Error'],
  ] as const) {
    it(`says the server answered ${status} once every try has, and counts it as passing`, async () => {
      stack.gateway.setFaults({ failRate: 1, failStatus: status });
      stack.gateway.resetCounts();
      const error = await failure(storage.readRange('camera', 'a.jpg', 0, 4));
      expect(describeS3Error(error)).to.equal(`the server answered HTTP ${status} ${text}`);
      expect(isRetryable(error)).to.equal(true);
      // One try and the two retries of the policy.
      expect(stack.gateway.counts().injectedFaults).to.equal(3);
    });
  }

  it('keeps the S3 code of a refusal, tried once', async () => {
    stack.gateway.setFaults({ failRate: 0, denyKeys: ['a.jpg'] });
    stack.gateway.resetCounts();
    const error = await failure(storage.readRange('camera', 'a.jpg', 0, 4));
    expect(describeS3Error(error)).to.equal('AccessDenied: Access Denied');
    expect(stack.gateway.counts().denied).to.equal(1);
  });
});
