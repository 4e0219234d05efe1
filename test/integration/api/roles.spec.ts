/**
 * The role matrix: every route, called with no token and with each role's token. Below the route's
 * role the answer is 401 (no token) or 403 (a lower role); at or above it, never 401 or 403, and never
 * a 5xx. The matrix must name every documented operation, with the role the document states.
 */
import { expect } from 'chai';
import type { RoleName } from './harness.js';
import { withApi } from './harness.js';

type Access = 'public' | RoleName;

interface Case {
  method: 'GET' | 'POST' | 'DELETE';
  /** The documented path template. */
  template: string;
  access: Access;
  /** The concrete path (default: the template). */
  path?: (ids: Ids) => string;
  body?: unknown;
}

interface Ids {
  finding: string;
  scan: string;
  runningScan: string;
  suppression: string;
}

/** The contract: who may call what. */
const MATRIX: Case[] = [
  { method: 'GET', template: '/healthz', access: 'public' },
  { method: 'GET', template: '/readyz', access: 'public' },
  { method: 'GET', template: '/api/v1/openapi.json', access: 'public' },
  { method: 'GET', template: '/api/v1/docs', access: 'public' },
  { method: 'GET', template: '/metrics', access: 'viewer' },
  { method: 'GET', template: '/api/v1/findings', access: 'viewer' },
  { method: 'GET', template: '/api/v1/reports/compliance', access: 'viewer' },
  { method: 'GET', template: '/api/v1/reports/compliance.csv', access: 'viewer' },
  {
    method: 'GET',
    template: '/api/v1/reports/scans/{id}/delta',
    access: 'viewer',
    path: (i) => `/api/v1/reports/scans/${i.scan}/delta`,
  },
  {
    method: 'GET',
    template: '/api/v1/findings/{id}',
    access: 'officer',
    path: (i) => `/api/v1/findings/${i.finding}`,
  },
  {
    method: 'GET',
    template: '/api/v1/findings/{id}/history',
    access: 'officer',
    path: (i) => `/api/v1/findings/${i.finding}/history`,
  },
  {
    method: 'POST',
    template: '/api/v1/findings/{id}/status',
    access: 'officer',
    path: (i) => `/api/v1/findings/${i.finding}/status`,
    body: { status: 'acknowledged', comment: 'role matrix' },
  },
  { method: 'GET', template: '/api/v1/reports/findings.csv', access: 'officer' },
  { method: 'GET', template: '/api/v1/reports/findings.ndjson', access: 'officer' },
  { method: 'GET', template: '/api/v1/suppressions', access: 'officer' },
  {
    method: 'GET',
    template: '/api/v1/suppressions/{id}',
    access: 'officer',
    path: (i) => `/api/v1/suppressions/${i.suppression}`,
  },
  {
    method: 'POST',
    template: '/api/v1/suppressions',
    access: 'admin',
    body: {
      rule: 'clock-skew',
      reason: 'role matrix',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    },
  },
  {
    method: 'DELETE',
    template: '/api/v1/suppressions/{id}',
    access: 'admin',
    path: (i) => `/api/v1/suppressions/${i.suppression}`,
  },
  { method: 'GET', template: '/api/v1/sources', access: 'admin' },
  { method: 'GET', template: '/api/v1/sources/{id}', access: 'admin', path: () => '/api/v1/sources/edge-a' },
  { method: 'GET', template: '/api/v1/scans', access: 'admin' },
  { method: 'GET', template: '/api/v1/scans/{id}', access: 'admin', path: (i) => `/api/v1/scans/${i.scan}` },
  { method: 'POST', template: '/api/v1/scans', access: 'admin', body: { source: 'vendor-b' } },
  {
    method: 'POST',
    template: '/api/v1/scans/{id}/cancel',
    access: 'admin',
    path: (i) => `/api/v1/scans/${i.runningScan}/cancel`,
  },
  { method: 'GET', template: '/api/v1/audit-log', access: 'admin' },
  { method: 'GET', template: '/admin/queues', access: 'admin' },
];

const CALLERS: Array<RoleName | 'none'> = ['none', 'viewer', 'officer', 'admin'];
const RANK: Record<Access, number> = { public: 0, viewer: 1, officer: 2, admin: 3 };

describe('API: role matrix', function () {
  this.timeout(60_000);
  const ctx = withApi();
  let ids: Ids;

  before(async () => {
    const { api, seeded } = ctx();
    const runningScan = 'scan-role-matrix-running';
    await api.store.createScan({
      id: runningScan,
      sources: ['edge-a'],
      trigger: 'api',
      judgedAt: new Date(),
    });
    const suppression = await api.store.createSuppression({
      source: 'edge-a',
      reason: 'role matrix',
      expiresAt: new Date(Date.now() + 86_400_000),
      createdBy: 'admin-token',
    });
    ids = { finding: seeded.findings.fresh.id, scan: seeded.scan1, runningScan, suppression: suppression.id };
  });

  it('names every documented operation, with the role the document states', () => {
    const { api } = ctx();
    const documented = Object.entries(api.document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(
        ([method, op]) => `${method.toUpperCase()} ${path} ${String(op['x-required-role'])}`,
      ),
    );
    expect(MATRIX.map((c) => `${c.method} ${c.template} ${c.access}`)).to.have.members(documented);
  });

  for (const c of MATRIX) {
    it(`${c.method} ${c.template}: ${c.access === 'public' ? 'anyone' : `${c.access} and above`}`, async () => {
      const { api } = ctx();
      const path = c.path ? c.path(ids) : c.template;
      const outcome: string[] = [];
      for (const caller of CALLERS) {
        const token = caller === 'none' ? null : api.tokens[caller];
        const res = await api.client.request(c.method, path, { token, body: c.body });
        const rank = caller === 'none' ? 0 : RANK[caller];
        let expected: string;
        if (c.access === 'public' || rank >= RANK[c.access]) expected = 'allowed';
        else expected = caller === 'none' ? '401' : '403';
        const got =
          res.status === 401 || res.status === 403
            ? String(res.status)
            : res.status < 500
              ? 'allowed'
              : `${res.status}`;
        outcome.push(
          `${caller}: ${got === expected ? 'ok' : `expected ${expected}, got ${res.status} ${res.text.slice(0, 200)}`}`,
        );
      }
      expect(outcome).to.deep.equal(CALLERS.map((caller) => `${caller}: ok`));
    });
  }
});
