/** Suppression rules and reports over the API: rules applied and shown, compliance, exports, scan deltas. */
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { input, SEED_PLATES } from './seed.js';
import { withApi } from './harness.js';

const DAY = 86_400_000;

describe('API: suppression rules', function () {
  this.timeout(30_000);
  const ctx = withApi();

  it('validates a new rule: a criterion, a known source, an expiry within a year', async () => {
    const { api } = ctx();
    const later = new Date(Date.now() + DAY).toISOString();
    const none = await api.client.post('/api/v1/suppressions', api.tokens.admin, {
      reason: 'x',
      expiresAt: later,
    });
    expect(none.body.problems).to.deep.equal([
      'body: needs at least one of rule, source, bucket and keyPrefix',
    ]);
    const bad = await api.client.post('/api/v1/suppressions', api.tokens.admin, {
      source: 'nope',
      reason: 'x',
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(bad.body.problems).to.deep.equal([
      'body.source: unknown source',
      'body.expiresAt: must be in the future',
    ]);
    const far = await api.client.post('/api/v1/suppressions', api.tokens.admin, {
      rule: 'clock-skew',
      reason: 'x',
      expiresAt: new Date(Date.now() + 400 * DAY).toISOString(),
    });
    expect(far.body.problems).to.deep.equal(['body.expiresAt: must be at most 366 days ahead']);
    const unknownRule = await api.client.post('/api/v1/suppressions', api.tokens.admin, {
      rule: 'nope',
      reason: 'x',
      expiresAt: later,
    });
    expect(unknownRule.body.problems[0]).to.match(/^body\.rule: must be one of /);
  });

  it('saves a rule that marks matching findings at their next sighting, shows it, and revokes it', async () => {
    const { api, seeded } = ctx();
    const expiresAt = new Date(Date.now() + 30 * DAY).toISOString();
    const created = await api.client.post('/api/v1/suppressions', api.tokens.admin, {
      source: 'vendor-b',
      bucket: 'vendor-b-bucket',
      keyPrefix: 'violations/',
      reason: `accepted while the vendor migrates (${SEED_PLATES[3]})`,
      expiresAt,
    });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ active: true, createdBy: 'admin-token', expiresAt, findings: 0 });
    const id: string = created.body.id;
    expect(created.headers.get('location')).to.equal(`/api/v1/suppressions/${id}`);

    const f = seeded.findings.plateVendor;
    const scan = 'scan-after-suppression';
    await api.store.createScan({ id: scan, sources: ['vendor-b'], trigger: 'api', judgedAt: new Date() });
    await api.store.upsertFindings(
      scan,
      [input({ source: f.source, bucket: f.bucket, key: f.key, rule: f.rule })],
      new Date(),
    );
    await api.store.finishScan(scan, 'completed', new Date());

    const suppressed = await api.client.get('/api/v1/findings?suppressed=true', api.tokens.officer);
    expect(
      suppressed.body.items.map((x: { id: string; suppressedBy: string }) => [x.id, x.suppressedBy]),
    ).to.deep.equal([[f.id, id]]);
    expect((await api.client.get(`/api/v1/suppressions/${id}`, api.tokens.officer)).body.findings).to.equal(
      1,
    );
    const list = await api.client.get('/api/v1/suppressions?active=true', api.tokens.officer);
    expect(list.body.items.map((s: { id: string }) => s.id)).to.deep.equal([id]);

    const report = await api.client.get('/api/v1/reports/compliance', api.tokens.viewer);
    const vendor = report.body.sources.find((s: { source: string }) => s.source === 'vendor-b');
    const rule = vendor.rules.find((r: { rule: string }) => r.rule === 'violations-only');
    expect(rule).to.include({ suppressed: 1, verdict: 'non-compliant' });
    const shown = report.body.suppressions.find((s: { id: string }) => s.id === id);
    expect(shown.reason).to.equal('accepted while the vendor migrates (**-**-**)');

    const revoked = await api.client.delete(`/api/v1/suppressions/${id}`, api.tokens.admin);
    expect(revoked.status).to.equal(200);
    expect(revoked.body).to.include({ active: false, revokedBy: 'admin-token' });
    expect(
      (await api.client.get('/api/v1/suppressions?active=true', api.tokens.officer)).body.items,
    ).to.deep.equal([]);
    expect((await api.client.get('/api/v1/suppressions/nope', api.tokens.officer)).status).to.equal(404);
    expect((await api.client.delete('/api/v1/suppressions/nope', api.tokens.admin)).status).to.equal(404);
  });
});

describe('API: reports', function () {
  this.timeout(30_000);
  const ctx = withApi();

  it('summarises compliance per source and rule, with verdicts', async () => {
    const { api, now } = ctx();
    const res = await api.client.get('/api/v1/reports/compliance', api.tokens.viewer);
    expect(res.status).to.equal(200);
    expect(Date.parse(res.body.period.to) - Date.parse(res.body.period.from)).to.equal(30 * DAY);
    const edge = res.body.sources.find((s: { source: string }) => s.source === 'edge-a');
    expect(edge.scans).to.include({ total: 2, completed: 2 });
    const verdict = (rule: string) => edge.rules.find((r: { rule: string }) => r.rule === rule);
    expect(verdict('edge-retention')).to.include({
      verdict: 'non-compliant',
      present: 1,
      open: 1,
      newInPeriod: 1,
    });
    expect(verdict('public-access')).to.include({ verdict: 'compliant', present: 0 });

    const old = new Date(now.getTime() - 100 * DAY).toISOString();
    const older = new Date(now.getTime() - 90 * DAY).toISOString();
    const empty = await api.client.get(
      `/api/v1/reports/compliance?from=${old}&to=${older}&source=edge-a`,
      api.tokens.viewer,
    );
    expect(empty.body.sources.map((s: { source: string }) => s.source)).to.deep.equal(['edge-a']);
    expect(
      empty.body.sources[0].rules.every((r: { verdict: string }) => r.verdict === 'not-verified'),
    ).to.equal(true);
    const backwards = await api.client.get(
      `/api/v1/reports/compliance?from=${older}&to=${old}`,
      api.tokens.viewer,
    );
    expect(backwards.body.problems).to.deep.equal(['query.to: must not be before from']);
  });

  it('gives the compliance summary as CSV, one row per source and rule', async () => {
    const { api } = ctx();
    const res = await api.client.get('/api/v1/reports/compliance.csv?source=vendor-b', api.tokens.viewer);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-disposition')).to.match(/^attachment; filename="compliance-.*\.csv"$/);
    const rows = parse(res.text, { columns: true }) as Array<Record<string, string>>;
    expect(rows.every((r) => r.source === 'vendor-b')).to.equal(true);
    expect(rows.find((r) => r.rule === 'vendor-retention')).to.include({
      present: '1',
      remediated: '1',
      verdict: 'non-compliant',
    });
  });

  it('exports findings as CSV page by page, with keys in clear and formulas defused', async () => {
    const { api, seeded } = ctx();
    const res = await api.client.get('/api/v1/reports/findings.csv', api.tokens.officer);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
    const rows = parse(res.text, { columns: true }) as Array<Record<string, string>>;
    expect(rows).to.have.length(6);
    expect(rows.map((r) => r.id)).to.have.members(Object.values(seeded.findings).map((f) => f.id));
    expect(rows.find((r) => r.id === seeded.findings.plateEdge.id)?.key).to.equal(
      seeded.findings.plateEdge.key,
    );
    expect(rows.find((r) => r.id === seeded.findings.formula.id)?.key).to.equal(
      `'${seeded.findings.formula.key}`,
    );
    const filtered = await api.client.get(
      '/api/v1/reports/findings.csv?rule=clock-skew,edge-retention',
      api.tokens.officer,
    );
    expect((parse(filtered.text, { columns: true }) as unknown[]).length).to.equal(2);
    const none = await api.client.get('/api/v1/reports/findings.csv?rule=public-access', api.tokens.officer);
    expect(none.text.trim().split('\n')).to.have.length(1);
  });

  it('exports findings as NDJSON, one finding a line', async () => {
    const { api, seeded } = ctx();
    const res = await api.client.get(
      `/api/v1/reports/findings.ndjson?scanId=${seeded.scan2}&delta=still-open`,
      api.tokens.officer,
    );
    expect(res.headers.get('content-type')).to.equal('application/x-ndjson; charset=utf-8');
    const lines = res.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; redacted: boolean });
    expect(lines.map((f) => f.id)).to.have.members([
      seeded.findings.plateEdge.id,
      seeded.findings.plateVendor.id,
      seeded.findings.formula.id,
    ]);
    expect(lines.every((f) => f.redacted === false)).to.equal(true);
  });

  it('streams an export larger than one store page', async () => {
    const { api } = ctx();
    const scan = 'scan-bulk-export';
    await api.store.createScan({ id: scan, sources: ['edge-a'], trigger: 'cli', judgedAt: new Date() });
    const many = Array.from({ length: 1203 }, (_, i) =>
      input({
        source: 'edge-a',
        bucket: 'bulk',
        key: `bulk/${String(i).padStart(5, '0')}.jpg`,
        rule: 'missing-timestamp',
        severity: 'info',
      }),
    );
    await api.store.upsertFindings(scan, many, new Date());
    const res = await api.client.get('/api/v1/reports/findings.ndjson?bucket=bulk', api.tokens.officer);
    const ids = res.text
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).to.have.length(1203);
    expect(new Set(ids).size).to.equal(1203);
  });

  it('gives the delta of a scan: new, still open, remediated', async () => {
    const { api, seeded } = ctx();
    const res = await api.client.get(`/api/v1/reports/scans/${seeded.scan2}/delta`, api.tokens.viewer);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({
      scanId: seeded.scan2,
      status: 'completed',
      new: { total: 1, byRule: { 'clock-skew': 1 } },
      stillOpen: { total: 3, byRule: { 'edge-retention': 1, 'unreadable-object': 1, 'violations-only': 1 } },
      remediated: { total: 1, byRule: { 'vendor-retention': 1 } },
    });
    expect((await api.client.get('/api/v1/reports/scans/nope/delta', api.tokens.viewer)).status).to.equal(
      404,
    );
  });
});
