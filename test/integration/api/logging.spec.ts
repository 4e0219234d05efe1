/**
 * The logs of a whole session of requests hold no token, no credential from the environment and no
 * plate, while still saying which route answered what, with request ids.
 */
import { expect } from 'chai';
import type { Store } from '../../../core/store/store.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { startTestApi, type TestApi } from './harness.js';
import { SEED_PLATES, seedFindings, type Seeded } from './seed.js';

describe('API: logs', function () {
  this.timeout(60_000);
  let t: TestStore;
  let api: TestApi;
  let seeded: Seeded;
  const guesses = ['guess-Zk3q9vLm2Xw', 'GX-123-B'];

  before(async () => {
    t = await openTestStore('postgres');
    seeded = await seedFindings(t.store, new Date());
    const store: Store = {
      ...t.store,
      // A failure whose message quotes a key, as a database error can.
      getSuppression: async (id) => {
        if (id === 'explode') throw new Error(`constraint failed for key violations/${SEED_PLATES[1]}.jpg`);
        return t.store.getSuppression(id);
      },
    };
    api = await startTestApi({ store });
    const { client, tokens } = api;
    const plate = SEED_PLATES[0]!;
    const f = seeded.findings;
    // A session touching every kind of route, with plates in paths, queries and bodies.
    await client.get('/healthz');
    await client.get('/readyz');
    await client.get('/metrics', tokens.viewer);
    await client.get('/api/v1/sources', tokens.admin);
    await client.get('/api/v1/scans', tokens.admin);
    await client.get(`/api/v1/scans/${seeded.scan1}`, tokens.admin);
    await client.get(`/api/v1/findings?q=${plate}`, tokens.officer);
    await client.get(`/api/v1/findings?q=${encodeURIComponent(SEED_PLATES[2]!)}&limit=9999`, tokens.officer);
    await client.get(`/api/v1/findings?q=${plate}`, tokens.viewer);
    await client.get('/api/v1/findings', tokens.viewer);
    await client.get(`/api/v1/findings/${f.plateEdge.id}`, tokens.officer);
    await client.get(`/api/v1/findings/${plate}`, tokens.officer);
    await client.get(`/api/v1/findings/${plate}/history`, tokens.officer);
    await client.post(`/api/v1/findings/${f.plateEdge.id}/status`, tokens.officer, {
      status: 'acknowledged',
      comment: `car ${plate} seen`,
    });
    await client.request('POST', `/api/v1/findings/${f.plateEdge.id}/status`, {
      token: tokens.officer,
      rawBody: `{"comment": "${plate}`,
    });
    await client.post('/api/v1/suppressions', tokens.admin, {
      keyPrefix: `violations/${SEED_PLATES[1]}`,
      reason: `vendor keeps ${SEED_PLATES[1]} for a court case`,
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await client.get('/api/v1/suppressions/explode', tokens.officer);
    await client.get('/api/v1/reports/compliance', tokens.viewer);
    await client.get('/api/v1/reports/compliance.csv', tokens.viewer);
    await client.get(`/api/v1/reports/findings.csv?q=${plate}`, tokens.officer);
    await client.get('/api/v1/reports/findings.ndjson', tokens.officer);
    await client.get(`/api/v1/reports/scans/${seeded.scan2}/delta`, tokens.viewer);
    await client.get(`/api/v1/audit-log?actor=${plate}`, tokens.admin);
    await client.get('/admin/queues', null, {
      headers: { authorization: `Basic ${Buffer.from(`u:${tokens.admin}`).toString('base64')}` },
    });
    for (const guess of guesses) await client.get('/api/v1/findings', guess);
    await client.get('/api/v1/findings', null, { headers: { authorization: `Token ${tokens.admin}` } });
    await client.get('/api/v1/findings', tokens.viewer, { headers: { 'x-request-id': `req-${plate}` } });
    await client.get(`/api/v1/nothing/${plate}`, tokens.admin);
  });

  after(async () => {
    await api?.close();
    await t?.cleanup();
  });

  it('holds no token, no credential and no plate', () => {
    const logs = api.logs();
    expect(logs.length).to.be.greaterThan(1000);
    for (const token of [...Object.values(api.tokens), ...guesses]) expect(logs).to.not.include(token);
    for (const secret of Object.values(api.secrets)) expect(logs).to.not.include(secret);
    for (const plate of SEED_PLATES) expect(logs).to.not.include(plate);
    expect(logs.toLowerCase()).to.not.include('authorization');
  });

  it('logs each request as JSON with its id, method, route pattern and status, never the URL', () => {
    const lines = api
      .logs()
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            req?: { id: string; method: string; url?: string };
            route?: string;
            res?: { statusCode: number };
          },
      );
    const requests = lines.filter((l) => l.req && l.res);
    expect(requests.length).to.be.greaterThan(20);
    expect(requests.every((l) => typeof l.req!.id === 'string' && l.req!.url === undefined)).to.equal(true);
    const routes = new Set(requests.map((l) => l.route));
    expect([...routes]).to.include.members([
      '/api/v1/findings/:id',
      '/api/v1/findings',
      '(unmatched)',
      '/api/v1/reports/findings.csv',
    ]);
    expect(
      requests.some((l) => l.res!.statusCode === 500 && l.route === '/api/v1/suppressions/:id'),
    ).to.equal(true);
  });
});
