/** The audit trail over the API, and the operations routes: health, readiness, metrics, docs, Bull Board. */
import { expect } from 'chai';
import { SEED_PLATES } from './seed.js';
import { waitFor, withApi, type ApiContext } from './harness.js';

interface Entry {
  actor: string | null;
  role: string | null;
  method: string;
  route: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  status: number | null;
  client: string;
  requestId: string;
}

/** The audit entries of the requests with these ids, once all are completed. */
async function entriesOf({ api }: ApiContext, requestIds: string[]): Promise<Entry[]> {
  return waitFor(
    async () => {
      const page = await api.client.get('/api/v1/audit-log?limit=500', api.tokens.admin);
      const entries = (page.body.items as Entry[]).filter((e) => requestIds.includes(e.requestId));
      return entries.length === requestIds.length && entries.every((e) => e.status !== null)
        ? entries
        : undefined;
    },
    10_000,
    'audit entries',
  );
}

describe('API: audit trail', function () {
  this.timeout(30_000);
  const ctx = withApi();

  it('records who read which finding, from where, with the route pattern and a masked query', async () => {
    const c = ctx();
    const { api, seeded } = c;
    const read = await api.client.get(`/api/v1/findings/${seeded.findings.plateEdge.id}`, api.tokens.officer);
    const search = await api.client.get(
      `/api/v1/findings?q=${SEED_PLATES[0]}&rule=edge-retention`,
      api.tokens.officer,
    );
    const exported = await api.client.get('/api/v1/reports/findings.csv?source=edge-a', api.tokens.officer);
    const ids = [read, search, exported].map((r) => r.headers.get('x-request-id')!);
    const entries = await entriesOf(c, ids);
    const byId = new Map(entries.map((e) => [e.requestId, e]));
    expect(byId.get(ids[0]!)).to.deep.include({
      actor: 'officer-token',
      role: 'officer',
      method: 'GET',
      route: '/api/v1/findings/:id',
      params: { id: seeded.findings.plateEdge.id },
      status: 200,
    });
    expect(byId.get(ids[0]!)?.client).to.match(/127\.0\.0\.1$/);
    expect(byId.get(ids[1]!)).to.deep.include({
      route: '/api/v1/findings',
      query: { q: '**-***-*', rule: 'edge-retention' },
    });
    expect(byId.get(ids[2]!)).to.deep.include({ route: '/api/v1/reports/findings.csv', status: 200 });
    const all = await api.client.get('/api/v1/audit-log?limit=500', api.tokens.admin);
    for (const plate of SEED_PLATES) expect(all.text).to.not.include(plate);
  });

  it('records refused requests too: no token, wrong role, bad input', async () => {
    const c = ctx();
    const { api } = c;
    const anonymous = await api.client.get('/api/v1/findings');
    const viewer = await api.client.get('/api/v1/audit-log', api.tokens.viewer);
    const bad = await api.client.get('/api/v1/findings?limit=9999', api.tokens.officer);
    // Which finding a viewer asked for is recorded with the refusal, masked like any parameter.
    const evidence = await api.client.get('/api/v1/findings/GX-123-B', api.tokens.viewer);
    const [a, v, b, e] = [anonymous, viewer, bad, evidence].map((r) => r.headers.get('x-request-id')!);
    const entries = new Map((await entriesOf(c, [a!, v!, b!, e!])).map((entry) => [entry.requestId, entry]));
    expect(entries.get(e!)).to.deep.include({
      status: 403,
      route: '/api/v1/findings/:id',
      params: { id: '**-***-*' },
    });
    expect(entries.get(a!)).to.include({ actor: null, status: 401, route: '/api/v1/findings' });
    expect(entries.get(v!)).to.include({ actor: 'viewer-token', role: 'viewer', status: 403 });
    expect(entries.get(b!)).to.include({ actor: 'officer-token', status: 400 });
  });

  it('filters by actor, route, method and status, and pages newest first', async () => {
    const c = ctx();
    const { api } = c;
    for (let i = 0; i < 3; i++) await api.client.get('/api/v1/suppressions', api.tokens.officer);
    const first = await api.client.get(
      '/api/v1/audit-log?actor=officer-token&route=/api/v1/suppressions&method=GET&status=200&limit=2',
      api.tokens.admin,
    );
    expect(first.body.items).to.have.length(2);
    expect(first.body.nextCursor).to.be.a('string');
    const second = await api.client.get(
      `/api/v1/audit-log?actor=officer-token&route=/api/v1/suppressions&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      api.tokens.admin,
    );
    expect(second.body.items.length).to.be.greaterThan(0);
    const ids = [...first.body.items, ...second.body.items].map((e: { id: string }) => Number(e.id));
    expect(ids).to.deep.equal([...ids].sort((x, y) => y - x));
    const since = new Date(Date.now() + 60_000).toISOString();
    expect(
      (await api.client.get(`/api/v1/audit-log?since=${since}`, api.tokens.admin)).body.items,
    ).to.deep.equal([]);
    const bad = await api.client.get('/api/v1/audit-log?cursor=bm9wZQ', api.tokens.admin);
    expect(bad.status).to.equal(400);
    expect(bad.body.problems[0]).to.match(/^query\.cursor: invalid cursor/);
  });
});

describe('API: operations', function () {
  this.timeout(30_000);
  const ctx = withApi({ api: { allowedNetworks: ['10.0.0.0/8'] } });

  it('answers liveness and readiness without a token, from any network', async () => {
    const { api } = ctx();
    expect((await api.client.get('/healthz')).body).to.deep.equal({ status: 'ok' });
    const ready = await api.client.get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
  });

  it('keeps everything else to the allowed networks', async () => {
    const { api } = ctx();
    const res = await api.client.get('/metrics', api.tokens.admin);
    expect(res.status).to.equal(403);
    expect(res.body.message).to.equal('requests from this network are not allowed');
  });
});

describe('API: metrics, docs and the queue board', function () {
  this.timeout(30_000);
  const ctx = withApi();

  it('serves Prometheus metrics to any token: scans, objects, findings, queue and HTTP', async () => {
    const { api } = ctx();
    await api.client.get('/api/v1/findings', api.tokens.viewer);
    expect((await api.client.get('/metrics')).status).to.equal(401);
    const res = await api.client.get('/metrics', api.tokens.viewer);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    expect(res.text).to.match(/^anpr_scan_duration_seconds_count\{status="completed"\} 2$/m);
    expect(res.text).to.match(/^anpr_scans_finished_total\{status="completed"\} 2$/m);
    expect(res.text).to.match(/^anpr_objects_scanned_total \d+$/m);
    expect(res.text).to.match(
      /^anpr_findings\{rule="undeclared-bucket",severity="critical",status="open",suppressed="false"\} 1$/m,
    );
    expect(res.text).to.match(/^anpr_queue_jobs\{state="failed"\} 0$/m);
    expect(res.text).to.match(
      /^anpr_http_requests_total\{method="GET",route="\/api\/v1\/findings",status="200"\} 1$/m,
    );
    // A second scrape observes each finished scan once.
    const again = await api.client.get('/metrics', api.tokens.viewer);
    expect(again.text).to.match(/^anpr_scan_duration_seconds_count\{status="completed"\} 2$/m);
  });

  it('serves the OpenAPI document and a docs page that loads only local files', async () => {
    const { api } = ctx();
    const doc = await api.client.get('/api/v1/openapi.json');
    expect(doc.body.openapi).to.equal('3.1.0');
    const page = await api.client.get('/api/v1/docs');
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.every((s) => s.startsWith('/api/v1/docs/assets/'))).to.equal(true);
    for (const source of sources) {
      const asset = await fetch(`${api.url}${source}`);
      expect(asset.status, source).to.equal(200);
      await asset.arrayBuffer();
    }
    expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
  });

  it('shows Bull Board to admins, by bearer token or HTTP Basic, and to nobody else', async () => {
    const { api } = ctx();
    const bearer = await api.client.get('/admin/queues', api.tokens.admin);
    expect(bearer.status).to.equal(200);
    expect(bearer.text).to.include('<title>Bull Dashboard</title>');
    const basic = `Basic ${Buffer.from(`anyone:${api.tokens.admin}`).toString('base64')}`;
    const browser = await api.client.get('/admin/queues', null, { headers: { authorization: basic } });
    expect(browser.status).to.equal(200);
    const queues = await fetch(`${api.url}/admin/queues/api/queues`, { headers: { authorization: basic } });
    expect(queues.status).to.equal(200);
    expect(((await queues.json()) as { queues: unknown[] }).queues).to.have.length(1);
    // Read-only: nothing is added to, retried on or removed from the scan queue through it.
    const [name] = (
      (await (
        await fetch(`${api.url}/admin/queues/api/queues`, { headers: { authorization: basic } })
      ).json()) as {
        queues: Array<{ name: string }>;
      }
    ).queues.map((q) => q.name);
    for (const [method, action] of [
      ['POST', 'add'],
      ['PUT', 'pause'],
      ['PUT', 'clean/failed'],
      ['PUT', 'obliterate'],
    ] as const) {
      const write = await fetch(`${api.url}/admin/queues/api/queues/${encodeURIComponent(name!)}/${action}`, {
        method,
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'junk', data: {} }),
      });
      expect(write.status, `${method} ${action}`).to.equal(405);
    }
    const anonymous = await api.client.get('/admin/queues');
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('www-authenticate')).to.match(/^Basic /);
    expect((await api.client.get('/admin/queues', api.tokens.officer)).status).to.equal(403);
  });
});
