/**
 * The API's answers to failures of its own: 503 when the audit trail cannot be written or the
 * database does not answer, a masked 500 without details, and an export that fails before its first
 * row answered as JSON, never saved as a file.
 */
import { expect } from 'chai';
import type { Store } from '../../../core/store/store.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { startTestApi, type TestApi } from './harness.js';

describe('API: failures of our own', function () {
  this.timeout(30_000);
  let t: TestStore;
  let api: TestApi;
  let auditBroken = false;
  let databaseDown = false;
  before(async () => {
    t = await openTestStore('postgres');
    const broken: Store = {
      ...t.store,
      recordAccess: async (entry) => {
        if (auditBroken) throw new Error('disk full');
        return t.store.recordAccess(entry);
      },
      ping: async () => {
        if (databaseDown) throw new Error('ECONNREFUSED');
      },
      getFinding: async () => {
        throw new Error('connection reset while reading 2026/11/GX-123-B.jpg');
      },
      listFindings: async () => {
        throw new Error('connection reset');
      },
    };
    api = await startTestApi({ store: broken });
  });
  after(async () => {
    await api?.close();
    await t?.cleanup();
  });

  it('refuses to serve (503) what it cannot record in the audit trail', async () => {
    auditBroken = true;
    try {
      const res = await api.client.get('/api/v1/findings', api.tokens.officer);
      expect(res.status).to.equal(503);
      expect(res.body).to.include({
        error: 'unavailable',
        message: 'the audit trail cannot be written, so the request is refused',
      });
    } finally {
      auditBroken = false;
    }
  });

  it('answers 503 not-ready while the database does not answer', async () => {
    databaseDown = true;
    try {
      const res = await api.client.get('/readyz');
      expect(res.status).to.equal(503);
      expect(res.body).to.deep.equal({
        status: 'not-ready',
        checks: { database: 'unavailable', redis: 'ok' },
      });
    } finally {
      databaseDown = false;
    }
    expect((await api.client.get('/readyz')).status).to.equal(200);
  });

  it('answers 500 without details for a failure of its own, and logs it masked with the request id', async () => {
    const res = await api.client.get('/api/v1/findings/some-id', api.tokens.officer);
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({
      error: 'internal',
      message: 'internal error',
      requestId: res.headers.get('x-request-id'),
    });
    const line = api
      .logs()
      .split('\n')
      .find((l) => l.includes(res.body.requestId) && l.includes('"statusCode":500'));
    expect(line).to.include('connection reset while reading 2026/11/**-***-*.jpg');
    expect(api.logs()).to.not.include('GX-123-B');
  });

  it('answers an export that fails before its first row as JSON, not as a file to save', async () => {
    for (const format of ['csv', 'ndjson']) {
      const res = await api.client.get(`/api/v1/reports/findings.${format}`, api.tokens.officer);
      expect(res.status, format).to.equal(500);
      expect(res.headers.get('content-type'), format).to.match(/^application\/json/);
      expect(res.headers.get('content-disposition'), format).to.equal(null);
      expect(res.body).to.include({ error: 'internal', message: 'internal error' });
    }
  });
});
