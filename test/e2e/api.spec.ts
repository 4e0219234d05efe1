/**
 * End to end through the API: the Randwyck scenario on real S3 servers, a scan triggered with
 * POST /scans and followed to the end, a finding acknowledged and resolved, the CSV export, the
 * delta, the compliance report and the audit log; the logs of it all hold no plate and no token.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { parseConfig } from '../../config/load.js';
import { startScanWorkers, type ScanWorkers } from '../../workers/scan-workers.js';
import { openTestStore, type TestStore } from '../helpers/database.js';
import {
  startRandwyckWorld,
  WORLD_ENV,
  worldConfigYaml,
  type RandwyckWorld,
} from '../helpers/randwyck-world.js';
import { newTokens, startTestApi, waitFor, type RoleName, type TestApi } from '../integration/api/harness.js';

interface Progress {
  scan: { status: string; objectsEvaluated: number; buckets: unknown[] };
  progress: { listed: number; evaluated: number; percent: number };
}

describe('end to end through the API', function () {
  this.timeout(180_000);
  let world: RandwyckWorld;
  let db: TestStore;
  let api: TestApi;
  let workers: ScanWorkers;
  let scanId: string;
  let finalProgress: Progress;
  const polled: Progress[] = [];

  before(async () => {
    world = await startRandwyckWorld();
    db = await openTestStore('postgres');
    const tokens = newTokens();
    const apiYaml = `api:\n  tokens:\n${(Object.keys(tokens) as RoleName[])
      .map(
        (role) =>
          `    - { name: ${role}-token, role: ${role}, sha256: ${createHash('sha256').update(tokens[role]).digest('hex')} }`,
      )
      .join('\n')}\n`;
    const config = parseConfig(worldConfigYaml(world, world.prefix) + apiYaml, world.configPath, WORLD_ENV);
    api = await startTestApi({ store: db.store, prepared: { config, tokens, secrets: {} } });
    workers = await startScanWorkers(api.runtime, { concurrency: 4, logger: api.logger });
  });

  after(async () => {
    // Each step runs whatever the one before did, or a failure would leave connections open.
    const steps = [() => workers?.close(), () => api?.close(), () => db?.cleanup(), () => world?.close()];
    const failures: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  });

  it('starts a scan of every source with POST /scans and follows its progress to the end', async () => {
    const started = await api.client.request('POST', '/api/v1/scans', { token: api.tokens.admin });
    expect(started.status).to.equal(202);
    scanId = started.body.scanId;
    finalProgress = await waitFor(
      async () => {
        const res = await api.client.get(`/api/v1/scans/${scanId}`, api.tokens.admin);
        polled.push(res.body as Progress);
        return res.body.scan.status === 'running' ? undefined : (res.body as Progress);
      },
      150_000,
      'the scan to finish',
    );
    expect(finalProgress.scan.status).to.equal('completed');
    expect(finalProgress.scan.objectsEvaluated).to.equal(world.loaded.objects.length);
    expect(finalProgress.progress).to.include({ percent: 100, listed: world.loaded.objects.length });
    expect(finalProgress.scan.buckets.length).to.be.greaterThan(5);
    expect(polled.length).to.be.greaterThan(1);
  });

  it('lets an officer acknowledge and resolve a finding, with the history to show for it', async () => {
    const list = await api.client.get(
      `/api/v1/findings?scanId=${scanId}&rule=transfer-deadline&limit=1`,
      api.tokens.officer,
    );
    expect(list.body.items).to.have.length(1);
    const finding = list.body.items[0] as { id: string; status: string };
    expect(finding.status).to.equal('open');
    const path = `/api/v1/findings/${finding.id}/status`;
    const ack = await api.client.post(path, api.tokens.officer, {
      status: 'acknowledged',
      comment: 'sent to the vendor',
    });
    expect(ack.status).to.equal(200);
    const resolved = await api.client.post(path, api.tokens.officer, {
      status: 'resolved',
      comment: 'vendor fixed the upload queue',
    });
    expect(resolved.body.finding.status).to.equal('resolved');
    const read = await api.client.get(`/api/v1/findings/${finding.id}`, api.tokens.officer);
    expect(
      read.body.history.map((h: { to: string; actor: string }) => `${h.to} by ${h.actor}`),
    ).to.deep.equal(['acknowledged by officer-token', 'resolved by officer-token']);
  });

  it('exports the findings of the scan as CSV for the vendor', async () => {
    const res = await api.client.get(`/api/v1/reports/findings.csv?scanId=${scanId}`, api.tokens.officer);
    expect(res.status).to.equal(200);
    const rows = parse(res.text, { columns: true }) as Array<Record<string, string>>;
    const findings = await db.store.findingsOfScan(scanId);
    expect(rows.map((r) => r.id)).to.have.members(findings.map((f) => f.id));
    expect(rows.filter((r) => r.status === 'resolved')).to.have.length(1);
    expect(new Set(rows.map((r) => r.rule))).to.include.members([
      'edge-retention',
      'violations-only',
      'undeclared-bucket',
    ]);
  });

  it('reports the delta of the scan and compliance per source and rule', async () => {
    const delta = await api.client.get(`/api/v1/reports/scans/${scanId}/delta`, api.tokens.viewer);
    const total = (await db.store.findingsOfScan(scanId)).length;
    expect(delta.body.new.total).to.equal(total);
    expect(delta.body.stillOpen.total).to.equal(0);
    const compliance = await api.client.get('/api/v1/reports/compliance', api.tokens.viewer);
    const vendor = compliance.body.sources.find((s: { source: string }) => s.source === 'vendor-ars');
    expect(vendor.scans.completed).to.equal(1);
    expect(vendor.rules.find((r: { rule: string }) => r.rule === 'violations-only').verdict).to.equal(
      'non-compliant',
    );
  });

  it('shows metrics of the finished scan', async () => {
    const res = await api.client.get('/metrics', api.tokens.viewer);
    expect(res.text).to.match(/^anpr_scan_duration_seconds_count\{status="completed"\} 1$/m);
    expect(res.text).to.include(`anpr_objects_scanned_total ${world.loaded.objects.length}`);
  });

  it('cancels a running scan, and the scan stays cancelled', async () => {
    const started = await api.client.post('/api/v1/scans', api.tokens.admin, { source: 'vendor-ars' });
    const id: string = started.body.scanId;
    const cancelled = await api.client.post(`/api/v1/scans/${id}/cancel`, api.tokens.admin);
    expect(cancelled.body.scan.status).to.equal('cancelled');
    // Wait for its jobs to notice and end: the finalizer must leave the status alone.
    await waitFor(
      async () => {
        const counts = await api.runtime.queue.getJobCounts(
          'active',
          'waiting',
          'waiting-children',
          'delayed',
        );
        return Object.values(counts).every((n) => n === 0) ? true : undefined;
      },
      60_000,
      'the cancelled scan to drain',
    );
    expect((await api.client.get(`/api/v1/scans/${id}`, api.tokens.admin)).body.scan.status).to.equal(
      'cancelled',
    );
  });

  it('has every read and change of findings in the audit log, by token', async () => {
    const entries = await waitFor(async () => {
      const res = await api.client.get('/api/v1/audit-log?actor=officer-token&limit=500', api.tokens.admin);
      const items = res.body.items as Array<{ route: string; method: string; status: number | null }>;
      return items.length >= 5 && items.every((e) => e.status !== null) ? items : undefined;
    });
    const seen = entries.map((e) => `${e.method} ${e.route} ${e.status}`);
    expect(seen).to.include.members([
      'GET /api/v1/findings 200',
      'POST /api/v1/findings/:id/status 200',
      'GET /api/v1/findings/:id 200',
      'GET /api/v1/reports/findings.csv 200',
    ]);
    expect(seen.filter((s) => s.startsWith('POST /api/v1/findings/:id/status'))).to.have.length(2);
  });

  it('never logged a plate from the scenario, nor a token', () => {
    const logs = api.logs();
    expect(logs.length).to.be.greaterThan(0);
    const plates = world.loaded.objects.map((o) => o.plate).filter((p): p is string => p !== null);
    expect(plates.length).to.be.greaterThan(10);
    for (const plate of plates) expect(logs).to.not.include(plate);
    for (const token of Object.values(api.tokens)) expect(logs).to.not.include(token);
  });
});
