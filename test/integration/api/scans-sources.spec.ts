/** Sources and scans over the API: no secrets, last scan and next run, starting, following and cancelling scans. */
import { expect } from 'chai';
import { jobIds } from '../../../core/queue/jobs.js';
import { withApi } from './harness.js';

const NEXT_RUN = '2026-12-01T03:00:00.000Z';

describe('API: sources', function () {
  this.timeout(30_000);
  const ctx = withApi({
    schedules: async () => [
      { sourceId: 'edge-a', every: '1h', cron: null, timezone: null, nextRun: NEXT_RUN },
    ],
    sources: [
      {
        id: 'edge-a',
        role: 'edge',
        endpoint: 'https://auditor:hunter2@s3.vendor.example:9000/?token=abc',
        accessKeyEnv: 'EDGE_ACCESS_KEY',
        secretKeyEnv: 'EDGE_SECRET_KEY',
        buckets: ['edge-a-bucket'],
        schedule: { every: '1h' },
      },
      {
        id: 'vendor-b',
        role: 'vendor',
        endpoint: 'http://127.0.0.1:9',
        accessKeyEnv: 'VENDOR_ACCESS_KEY',
        secretKeyEnv: 'VENDOR_SECRET_KEY',
        buckets: ['vendor-b-bucket'],
        requestsPerSecond: 50,
        violationSignal: { metadata: 'violation' },
      },
    ],
  });

  it('lists the configured sources without any secret, with the last scan and the next run', async () => {
    const { api, seeded } = ctx();
    const res = await api.client.get('/api/v1/sources', api.tokens.admin);
    expect(res.status).to.equal(200);
    for (const secret of Object.values(api.secrets)) expect(res.text).to.not.include(secret);
    expect(res.text).to.not.include('hunter2');
    expect(res.text).to.not.include('token=abc');
    const [edge, vendor] = res.body.items;
    expect(edge).to.deep.include({
      id: 'edge-a',
      endpoint: 'https://s3.vendor.example:9000',
      credentials: { accessKeyEnv: 'EDGE_ACCESS_KEY', secretKeyEnv: 'EDGE_SECRET_KEY' },
      schedule: { every: '1h', cron: null, timezone: null, nextRun: NEXT_RUN },
    });
    expect(edge.lastScan).to.include({ id: seeded.scan2, status: 'completed' });
    expect(vendor).to.deep.include({
      requestsPerSecond: 50,
      violationSignal: { metadata: 'violation', exif: null },
    });
    expect(vendor.schedule.nextRun).to.equal(null);
  });

  it('reads one source, and answers 404 for an unknown one', async () => {
    const { api } = ctx();
    const res = await api.client.get('/api/v1/sources/vendor-b', api.tokens.admin);
    expect(res.body).to.include({ id: 'vendor-b', role: 'vendor', hasRegister: false });
    expect((await api.client.get('/api/v1/sources/nope', api.tokens.admin)).status).to.equal(404);
  });
});

describe('API: sources when the scheduler does not answer', function () {
  this.timeout(30_000);
  const ctx = withApi({
    schedules: async () => {
      throw new Error('redis down');
    },
  });

  it('still lists the sources, without a next run', async () => {
    const { api } = ctx();
    const res = await api.client.get('/api/v1/sources', api.tokens.admin);
    expect(res.status).to.equal(200);
    expect(res.body.items.map((s: { schedule: { nextRun: unknown } }) => s.schedule.nextRun)).to.deep.equal([
      null,
      null,
    ]);
  });
});

describe('API: scans', function () {
  this.timeout(30_000);
  const ctx = withApi({ queue: { attempts: 2, backoffMs: 250 } });

  it('lists scans newest first, by source and status', async () => {
    const { api, seeded } = ctx();
    const all = await api.client.get('/api/v1/scans', api.tokens.admin);
    expect(all.body.items.map((s: { id: string }) => s.id)).to.deep.equal([seeded.scan2, seeded.scan1]);
    const limited = await api.client.get(
      '/api/v1/scans?limit=1&source=edge-a&status=completed',
      api.tokens.admin,
    );
    expect(limited.body.items.map((s: { id: string }) => s.id)).to.deep.equal([seeded.scan2]);
    expect((await api.client.get('/api/v1/scans?status=running', api.tokens.admin)).body.items).to.deep.equal(
      [],
    );
  });

  it('reads one scan with its progress, and answers 404 for an unknown one', async () => {
    const { api, seeded } = ctx();
    await api.store.setBucketProgress(seeded.scan1, {
      source: 'edge-a',
      bucket: 'edge-a-bucket',
      listed: 40,
      evaluated: 40,
      fetched: 12,
      state: 'completed',
    });
    const res = await api.client.get(`/api/v1/scans/${seeded.scan1}`, api.tokens.admin);
    expect(res.status).to.equal(200);
    expect(res.body.scan).to.include({ id: seeded.scan1, status: 'completed', trigger: 'cli' });
    expect(res.body.progress).to.deep.equal({
      listed: 40,
      evaluated: 40,
      fetched: 12,
      buckets: 1,
      bucketsDone: 1,
      percent: 100,
    });
    expect((await api.client.get('/api/v1/scans/nope', api.tokens.admin)).status).to.equal(404);
  });

  it('starts a scan (202), refuses a second one of a running source (409), and cancels it', async () => {
    const { api } = ctx();
    const started = await api.client.post('/api/v1/scans', api.tokens.admin, { source: 'edge-a' });
    expect(started.status).to.equal(202);
    expect(started.body).to.deep.include({ sources: ['edge-a'], status: 'running' });
    const scanId: string = started.body.scanId;
    expect(started.headers.get('location')).to.equal(`/api/v1/scans/${scanId}`);
    expect((await api.store.getScan(scanId))?.trigger).to.equal('api');
    const counts = await api.runtime.queue.getJobCounts('waiting', 'waiting-children');
    expect(counts['waiting']! + counts['waiting-children']!).to.be.greaterThan(0);
    // The scan's jobs retry as the config's queue section says.
    for (const id of [jobIds.finalize(scanId), jobIds.source(scanId, 'edge-a')]) {
      const job = await api.runtime.queue.getJob(id);
      expect(job?.opts, id).to.deep.include({ attempts: 2, backoff: { type: 'exponential', delay: 250 } });
    }

    const again = await api.client.post('/api/v1/scans', api.tokens.admin, {});
    expect(again.status).to.equal(409);
    expect(again.body.message).to.include(scanId);

    const progress = await api.client.get(`/api/v1/scans/${scanId}`, api.tokens.admin);
    expect(progress.body.progress).to.include({ percent: 0, buckets: 0 });

    const cancelled = await api.client.post(`/api/v1/scans/${scanId}/cancel`, api.tokens.admin);
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body.scan.status).to.equal('cancelled');
    const twice = await api.client.post(`/api/v1/scans/${scanId}/cancel`, api.tokens.admin);
    expect(twice.status).to.equal(409);
    expect(twice.body.current).to.equal('cancelled');
    expect((await api.client.post('/api/v1/scans/nope/cancel', api.tokens.admin)).status).to.equal(404);
  });

  it('starts a scan of every source without a body', async () => {
    const { api } = ctx();
    const res = await api.client.request('POST', '/api/v1/scans', { token: api.tokens.admin });
    expect(res.status).to.equal(202);
    expect(res.body.sources).to.deep.equal(['edge-a', 'vendor-b']);
    await api.client.post(`/api/v1/scans/${res.body.scanId}/cancel`, api.tokens.admin);
  });

  it('refuses an unknown source', async () => {
    const { api } = ctx();
    const res = await api.client.post('/api/v1/scans', api.tokens.admin, { source: 'nope' });
    expect(res.status).to.equal(400);
    expect(res.body.problems[0]).to.match(/^body\.source: unknown source; configured: edge-a, vendor-b$/);
  });
});
