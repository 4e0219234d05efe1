/**
 * Every error class the API answers, each as clear JSON: 400 with the list of problems, 401, 403 by
 * role and by network (IPv4-mapped addresses and trusted proxies included), 404, 413, 415, 429, and
 * never a 5xx for anything a client sends (failures of the API's own: own-failures.spec.ts).
 */
import { expect } from 'chai';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { startTestApi, waitFor, withApi, type TestApi } from './harness.js';

describe('API: 400 bad request', function () {
  this.timeout(30_000);
  const ctx = withApi();

  const cases: Array<[string, string, string[]]> = [
    ['unknown field', '/api/v1/findings?colour=blue', ['query.colour: unknown field']],
    ['wrong type', '/api/v1/findings?limit=ten', ['query.limit: must be a whole number']],
    [
      'bad date',
      '/api/v1/findings?since=2026-11-20',
      ['query.since: must be an ISO-8601 instant with Z or an offset, e.g. 2026-11-20T12:00:00Z'],
    ],
    [
      'impossible date',
      '/api/v1/findings?until=2026-02-30T25:00:00Z',
      ['query.until: must be an ISO-8601 instant with Z or an offset, e.g. 2026-11-20T12:00:00Z'],
    ],
    ['limit over 500', '/api/v1/findings?limit=501', ['query.limit: must be at most 500']],
    ['limit under 1', '/api/v1/findings?limit=0', ['query.limit: must be at least 1']],
    ['repeated single value', '/api/v1/findings?limit=1&limit=2', ['query.limit: must be given once']],
    [
      'unknown enum value',
      '/api/v1/findings?sort=colour',
      ['query.sort: must be one of severity, firstSeen, lastSeen, ageHours'],
    ],
    [
      'unknown list value',
      '/api/v1/findings?severity=high,urgent',
      ['query.severity[1]: must be one of critical, high, medium, low, info'],
    ],
    ['delta without scan', '/api/v1/findings?delta=new', ['query.delta: needs scanId']],
    [
      'period backwards',
      '/api/v1/findings?since=2026-11-20T00:00:00Z&until=2026-11-19T00:00:00Z',
      ['query.until: must not be before since'],
    ],
    ['forged cursor', '/api/v1/findings?cursor=bm9wZQ', ['query.cursor: invalid cursor: not a cursor']],
    // Well-formed cursors whose position the database could not take: refused before it is asked.
    ...(
      [
        ['on 30 February', 'firstSeen', '2026-02-30T08:00:00.000000Z', 'x'],
        ['with a number that rounds to zero', 'ageHours', '1e-400', 'x'],
        ['with a NUL in its id', 'ageHours', '1.5', 'a\u0000b'],
      ] as const
    ).map(([name, sort, v, id]): [string, string, string[]] => [
      `a cursor ${name}`,
      `/api/v1/findings?sort=${sort}&cursor=${Buffer.from(JSON.stringify({ s: sort, o: 'desc', v, id })).toString('base64url')}`,
      ['query.cursor: invalid cursor: bad position'],
    ]),
    [
      'an audit cursor past the largest id',
      `/api/v1/audit-log?cursor=${Buffer.from('9223372036854775808').toString('base64url')}`,
      ['query.cursor: invalid cursor: not an audit cursor'],
    ],
    [
      'several at once',
      '/api/v1/audit-log?limit=600&role=root&x=1',
      [
        'query.role: must be one of admin, officer, viewer',
        'query.limit: must be at most 500',
        'query.x: unknown field',
      ],
    ],
    ['query on a route without one', '/api/v1/sources?verbose=1', ['query.verbose: unknown field']],
    ['id too long', `/api/v1/findings/${'a'.repeat(201)}`, ['params.id: must be at most 200 characters']],
  ];
  for (const [name, path, problems] of cases) {
    it(`answers 400 for ${name}`, async () => {
      const { api } = ctx();
      const token =
        path.startsWith('/api/v1/sources') || path.startsWith('/api/v1/audit')
          ? api.tokens.admin
          : api.tokens.officer;
      const res = await api.client.get(path, token);
      expect(res.status).to.equal(400);
      expect(res.body).to.include({ error: 'bad-request', message: 'the request is not valid' });
      expect(res.body.problems).to.have.members(problems);
      expect(res.body.requestId).to.equal(res.headers.get('x-request-id'));
    });
  }

  it('answers 400 for malformed JSON, a body of the wrong shape, unknown and mistyped body fields', async () => {
    const { api, seeded } = ctx();
    const path = `/api/v1/findings/${seeded.findings.fresh.id}/status`;
    const malformed = await api.client.request('POST', path, {
      token: api.tokens.officer,
      rawBody: '{"status": "acknowledged",',
    });
    expect(malformed.status).to.equal(400);
    expect(malformed.body.problems).to.deep.equal(['body: malformed JSON']);
    const array = await api.client.post(path, api.tokens.officer, ['acknowledged']);
    expect(array.body.problems).to.deep.equal(['body: must be an object']);
    const fields = await api.client.post(path, api.tokens.officer, {
      status: 'acknowledged',
      comment: 5,
      by: 'me',
    });
    expect(fields.body.problems).to.have.members([
      'body.comment: must be a string',
      'body.by: unknown field',
    ]);
    const noBody = await api.client.request('POST', path, { token: api.tokens.officer });
    expect(noBody.body.problems).to.deep.equal(['body: is required']);
    const nul = await api.client.post(path, api.tokens.officer, {
      status: 'acknowledged',
      comment: 'a\u0000b',
    });
    expect(nul.body.problems).to.deep.equal(['body.comment: must not contain NUL characters']);
    const deep = await api.client.request('POST', path, {
      token: api.tokens.officer,
      rawBody: `{"status":"acknowledged","comment":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    });
    expect(deep.status).to.equal(400);
    expect(deep.body.problems).to.deep.equal([
      `body.comment${'[0]'.repeat(31)}: must not nest more than 32 levels deep`,
    ]);
  });

  it('answers 400 naming the body for a body that does not decode as its Content-Encoding says', async () => {
    const { api, seeded } = ctx();
    const res = await api.client.request('POST', `/api/v1/findings/${seeded.findings.fresh.id}/status`, {
      token: api.tokens.officer,
      rawBody: '{"status":"acknowledged"}',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(res.status).to.equal(400);
    expect(res.body.problems).to.deep.equal(['body: could not be decoded as its Content-Encoding says']);
  });

  it('answers 400 for a malformed escape in the path', async () => {
    const { api } = ctx();
    const res = await api.client.get('/api/v1/findings/%E0%A4%A', api.tokens.officer);
    expect(res.status).to.equal(400);
    expect(res.body.problems).to.deep.equal(['path: malformed']);
  });
});

describe('API: 401, 403, 404, 413, 415', function () {
  this.timeout(30_000);
  const ctx = withApi();

  it('answers 401 with a challenge for a missing, wrong or malformed token', async () => {
    const { api } = ctx();
    const none = await api.client.get('/api/v1/findings');
    expect(none.status).to.equal(401);
    expect(none.body).to.include({ error: 'unauthorized', message: 'a bearer token is required' });
    expect(none.headers.get('www-authenticate')).to.equal('Bearer realm="anpr-audit"');
    const wrong = await api.client.get('/api/v1/findings', 'not-a-token');
    expect(wrong.body.message).to.equal('the token is not valid');
    expect(wrong.headers.get('www-authenticate')).to.include('error="invalid_token"');
    for (const header of [
      'Token abc',
      'Bearer',
      `Basic ${Buffer.from(`x:${api.tokens.admin}`).toString('base64')}`,
    ]) {
      const res = await api.client.get('/api/v1/findings', null, { headers: { authorization: header } });
      expect(res.status, header).to.equal(401);
    }
  });

  it('answers 403 naming the role needed', async () => {
    const { api } = ctx();
    const res = await api.client.get('/api/v1/sources', api.tokens.officer);
    expect(res.status).to.equal(403);
    expect(res.body).to.include({
      error: 'forbidden',
      message: 'this needs the admin role; token "officer-token" has officer',
    });
  });

  it('answers 404 for unknown routes and methods, as JSON', async () => {
    const { api } = ctx();
    for (const [method, path] of [
      ['GET', '/api/v1/nothing'],
      ['DELETE', '/api/v1/findings'],
      ['GET', '/'],
    ] as const) {
      const res = await api.client.request(method, path, { token: api.tokens.admin });
      expect(res.status, `${method} ${path}`).to.equal(404);
      expect(res.body).to.include({ error: 'not-found', message: 'route not found' });
    }
  });

  it('answers 413 for a body over 64 KiB and 415 for a body that is not JSON', async () => {
    const { api, seeded } = ctx();
    const path = `/api/v1/findings/${seeded.findings.fresh.id}/status`;
    const large = await api.client.post(path, api.tokens.officer, {
      status: 'acknowledged',
      comment: 'x'.repeat(70_000),
    });
    expect(large.status).to.equal(413);
    const text = await api.client.request('POST', path, {
      token: api.tokens.officer,
      rawBody: 'status=acknowledged',
      contentType: 'text/plain',
    });
    expect(text.status).to.equal(415);
    expect(text.body.error).to.equal('unsupported-media-type');
  });

  it('never answers 5xx to strange input on any route', async () => {
    const { api } = ctx();
    const queries = [
      'limit=-1',
      'limit=1e3',
      'limit=99999999999999',
      'since=2026-13-45T00:00:00Z',
      'cursor=%00',
      `q=${'x'.repeat(5000)}`,
      'rule[]=x',
      '%=1',
      'source=',
      'from=nope',
      'active=maybe',
      'status=999',
    ];
    const paths = Object.entries(api.document.paths).flatMap(([template, item]) =>
      Object.keys(item).map(
        (method) => [method.toUpperCase(), template.replace(/\{[^}]+\}/g, '%00x%F0%9F%98%80')] as const,
      ),
    );
    for (const [method, path] of paths) {
      for (const query of queries) {
        const res = await api.client.request(method, `${path}?${query}`, {
          token: api.tokens.admin,
          body: method === 'GET' ? undefined : { x: [1] },
        });
        expect(res.status, `${method} ${path}?${query}`).to.be.lessThan(500);
      }
    }
  });
});

describe('API: networks', function () {
  this.timeout(30_000);
  let store: TestStore;
  const apps: TestApi[] = [];
  before(async () => {
    store = await openTestStore('postgres');
  });
  after(async () => {
    for (const app of apps) await app.close();
    await store.cleanup();
  });
  const start = async (api: Record<string, unknown>, host?: string) => {
    const app = await startTestApi({ store: store.store, api, host });
    apps.push(app);
    return app;
  };

  it('admits an IPv4 client of an allowed network on a dual-stack socket (IPv4-mapped IPv6)', async () => {
    const api = await start({ allowedNetworks: ['127.0.0.0/8'] }, '::');
    const res = await api.client.get('/api/v1/findings', api.tokens.viewer);
    expect(res.status).to.equal(200);
    const entries = await waitFor(async () => {
      const page = await api.client.get('/api/v1/audit-log', api.tokens.admin);
      return page.body.items.length > 0 ? (page.body.items as Array<{ client: string }>) : undefined;
    });
    expect(entries[0]!.client).to.equal('::ffff:127.0.0.1');
  });

  it('refuses a client outside the allowed networks, and ignores X-Forwarded-For from untrusted peers', async () => {
    const api = await start({ allowedNetworks: ['10.0.0.0/8', '2001:db8::/32'] });
    const res = await api.client.get('/api/v1/findings', api.tokens.admin, {
      headers: { 'x-forwarded-for': '10.1.2.3' },
    });
    expect(res.status).to.equal(403);
    expect(res.body).to.include({
      error: 'forbidden',
      message: 'requests from this network are not allowed',
    });
  });

  it('believes X-Forwarded-For from a trusted proxy', async () => {
    const api = await start({ allowedNetworks: ['10.0.0.0/8'], trustedProxies: ['127.0.0.1'] });
    const inside = await api.client.get('/api/v1/findings', api.tokens.viewer, {
      headers: { 'x-forwarded-for': '10.1.2.3' },
    });
    expect(inside.status).to.equal(200);
    const outside = await api.client.get('/api/v1/findings', api.tokens.viewer, {
      headers: { 'x-forwarded-for': '192.168.1.9' },
    });
    expect(outside.status).to.equal(403);
  });
});

describe('API: 429 rate limits', function () {
  this.timeout(30_000);
  const ctx = withApi({ api: { rateLimitPerMinute: 3 } });

  it('limits each token on its own, with rate-limit headers', async () => {
    const { api } = ctx();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await api.client.get('/api/v1/findings', api.tokens.viewer)).status);
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
    const limited = await api.client.get('/api/v1/findings', api.tokens.viewer);
    expect(limited.body).to.include({ error: 'too-many-requests' });
    expect(limited.headers.get('ratelimit-policy')).to.equal('3;w=60');
    expect((await api.client.get('/api/v1/findings', api.tokens.officer)).status).to.equal(200);
  });

  it('limits Bull Board per token too, on a budget of its own', async () => {
    const { api } = ctx();
    const statuses: number[] = [];
    // The board's own API is not in the OpenAPI document, so not through the conformance-checking client.
    const authorization = `Bearer ${api.tokens.admin}`;
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await fetch(`${api.url}/admin/queues/api/queues`, { headers: { authorization } })).status,
      );
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
    const limited = await api.client.get('/admin/queues', api.tokens.admin);
    expect(limited.status).to.equal(429);
    expect(limited.body).to.include({ error: 'too-many-requests' });
    // The API's budget of the same token is its own.
    expect((await api.client.get('/api/v1/findings', api.tokens.admin)).status).to.equal(200);
  });

  it('limits failed attempts per address, without locking out valid tokens', async () => {
    const { api } = ctx();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await api.client.get('/api/v1/findings', `guess-${i}`)).status);
    expect(statuses).to.deep.equal([401, 401, 401, 429]);
    expect((await api.client.get('/api/v1/findings', api.tokens.admin)).status).to.equal(200);
  });
});
