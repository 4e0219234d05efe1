/**
 * Bucket evidence a scan could not gather: a refused ListBuckets, anonymous probes that get no
 * answer, versions that cannot be read (and, with the gateway answering for versioning, which
 * s3rver lacks, noncurrent versions found). Such a scan is incomplete with the reason, and it closes none of the findings that the
 * missing evidence would have confirmed (undeclared and public buckets stay open).
 */
import { expect } from 'chai';
import type { Finding } from '../../../core/model.js';
import { runScan, type ScanOutcome } from '../../../bin/commands/scan.command.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import {
  startRandwyckWorld,
  WORLD_ENV,
  worldConfigYaml,
  type RandwyckWorld,
} from '../../helpers/randwyck-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';
import { parseConfig } from '../../../config/load.js';
import { scanJobOptions } from '../../../core/queue/connection.js';
import { classifyBucketName } from '../../../core/rules/bucket-names.js';
import { jobIds } from '../../../core/queue/jobs.js';
import { startScan } from '../../../core/scan/start-scan.js';
import type { DiscoveryResult } from '../../../core/scan/source-discovery.js';
import { startScanWorkers } from '../../../workers/scan-workers.js';
import { waitForScanEnd } from '../../helpers/bulk-world.js';
import { finding } from '../store/fixtures.js';

describe('a vendor scan whose bucket evidence could not be gathered', function () {
  this.timeout(120_000);
  let world: RandwyckWorld;
  let db: TestStore;
  let runtime: Awaited<ReturnType<typeof openTestRuntime>>;
  const gateway = () => world.stacks.stacks.get('vendor-ars')!.gateway;
  const scanVendor = () => runScan(runtime, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });

  /** The vendor's open bucket-level findings, as `bucket|rule`. */
  async function openBucketFindings(): Promise<string[]> {
    const page = await db.store.listFindings({ source: ['vendor-ars'], status: ['open'], limit: 500 });
    return page.items
      .filter((f: Finding) => f.key === '')
      .map((f) => `${f.bucket}|${f.rule}`)
      .sort();
  }

  let firstFindings: string[];
  let firstEvaluated: number;

  before(async () => {
    world = await startRandwyckWorld();
    db = await openTestStore('postgres');
    runtime = await openTestRuntime(world.config, db.store, world.prefix);
    const first = await scanVendor();
    expect(first.scan.status, first.scan.errors.join('\n')).to.equal('completed');
    firstFindings = await openBucketFindings();
    firstEvaluated = first.scan.objectsEvaluated;
    expect(firstFindings).to.include.members([
      'ars-acc-2019|undeclared-bucket',
      'ars-public-export|undeclared-bucket',
      'ars-public-export|public-access',
    ]);
  });

  after(async () => {
    gateway()?.setFaults({ failRate: 0 });
    await runtime?.dispose();
    await db?.cleanup();
    await world?.close();
  });

  afterEach(() => gateway().setFaults({ failRate: 0 }));

  const errorsOf = (outcome: ScanOutcome) => outcome.scan.errors.join('\n');

  it('is incomplete when ListBuckets is refused, and keeps the undeclared buckets open', async () => {
    gateway().setFaults({ failRate: 0, denyListBuckets: true });
    const outcome = await scanVendor();
    expect(outcome.scan.status).to.equal('incomplete');
    expect(errorsOf(outcome)).to.match(
      /ListBuckets failed \(AccessDenied.*undeclared buckets cannot be ruled out/,
    );
    // The declared bucket was still read in full.
    expect(outcome.scan.objectsEvaluated).to.equal(
      world.loaded.objects.filter((o) => o.bucket === 'ars-violations').length,
    );
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });

  it('is incomplete when the anonymous probes get no answer, and keeps public access open', async () => {
    gateway().setFaults({ failRate: 0, failUnsigned: true, failStatus: 503 });
    const outcome = await scanVendor();
    expect(outcome.scan.status).to.equal('incomplete');
    expect(errorsOf(outcome)).to.match(
      /bucket ars-public-export: public access could not be determined \(.*503/,
    );
    // Private buckets answer 403 to unsigned requests: a decision, not a reason to stop.
    expect(errorsOf(outcome)).not.to.include('bucket ars-violations: public access');
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });

  it('runs discovery again when ListBuckets fails for a passing reason', async () => {
    const yaml = `${worldConfigYaml(world, world.prefix)}scan: { requestRetries: 0 }\nqueue: { backoffMs: 50 }\n`;
    const config = parseConfig(yaml, world.configPath, WORLD_ENV);
    const retrying = await openTestRuntime(config, db.store, world.prefix);
    try {
      gateway().resetCounts();
      gateway().setFaults({ failRate: 0, failListBuckets: 1, failStatus: 503 });
      const outcome = await runScan(retrying, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });
      expect(outcome.scan.status, errorsOf(outcome)).to.equal('completed');
      expect(gateway().counts().injectedFaults).to.equal(1);
      const job = await retrying.queue.getJob(jobIds.source(outcome.scan.id, 'vendor-ars'));
      // The attempt that failed on ListBuckets and the one that completed.
      expect(job!.attemptsMade).to.equal(2);
      expect(await openBucketFindings()).to.deep.equal(firstFindings);
    } finally {
      await retrying.dispose();
    }
  });

  it('keeps the lifecycle findings of a bucket whose lifecycle could not be read', async () => {
    // s3rver does not implement bucket lifecycle: every scan here leaves it undetermined.
    const scans = await db.store.listScans({ source: 'vendor-ars', limit: 1 });
    const lifecycle = finding('vendor-ars', 'ars-violations', '', 'lifecycle-not-enforcing');
    await db.store.upsertFindings(scans[0]!.id, [lifecycle], world.now);
    const outcome = await scanVendor();
    expect(outcome.scan.status, errorsOf(outcome)).to.equal('completed');
    expect(await openBucketFindings()).to.include('ars-violations|lifecycle-not-enforcing');
    const [stored] = (
      await db.store.listFindings({ source: ['vendor-ars'], rule: ['lifecycle-not-enforcing'], limit: 10 })
    ).items;
    await db.store.setFindingStatus(stored!.id, { status: 'false-positive', actor: 'test' });
  });

  it('reads a plan stored before undetermined checks were recorded as carefully', async () => {
    // As a source job saved by the previous version: a refused ListBuckets was a note, not an error,
    // and the plan has no undetermined checks, though the public bucket's probe got no decision.
    const scanId = await startScan(db.store, runtime.flows, {
      sources: ['vendor-ars'],
      trigger: 'api',
      now: world.now,
      jobOptions: scanJobOptions({}),
    });
    const job = (await runtime.queue.getJob(jobIds.source(scanId, 'vendor-ars')))!;
    const bucket = (name: string, declared: boolean, status: number) => ({
      bucket: name,
      declared,
      testLike: classifyBucketName(name).testLike,
      testWords: classifyBucketName(name).words,
      shards: [{ startAfter: null, endAt: null }],
      anonymousProbes: [{ request: `GET /${name}?list-type=2&max-keys=1`, status, allowed: false }],
      lifecycle: { supported: true as const, expirationDays: [1] },
    });
    const discovery: DiscoveryResult = {
      buckets: [bucket('ars-violations', true, 403), bucket('ars-public-export', false, 503)],
      listBucketsError: 'AccessDenied: Access Denied',
      notes: ['ListBuckets failed (AccessDenied: Access Denied): only the declared buckets were scanned'],
      errors: [],
    };
    // That plan says nothing of versions: an open noncurrent-versions finding (of an earlier scan)
    // must stay open.
    const earlier = (await db.store.listScans({ source: 'vendor-ars', limit: 2 })).find(
      (s) => s.id !== scanId,
    );
    const versions = finding('vendor-ars', 'ars-public-export', '', 'noncurrent-versions');
    await db.store.upsertFindings(earlier!.id, [versions], world.now);
    await job.updateData({ ...job.data, step: 'children', discovery });
    const workers = await startScanWorkers(runtime, { concurrency: 2 });
    const scan = await waitForScanEnd(db.store, scanId).finally(() => workers.close());
    expect(scan.status).to.equal('incomplete');
    expect(scan.errors.join('\n')).to.include('ListBuckets failed (AccessDenied');
    expect(scan.errors.join('\n')).to.include(
      'bucket ars-public-export: public access could not be determined',
    );
    expect(scan.errors.join('\n')).to.include(
      'bucket ars-violations: its noncurrent versions could not be checked: the scan was planned before versions were read',
    );
    expect(await openBucketFindings()).to.deep.equal(
      [...firstFindings, 'ars-public-export|noncurrent-versions'].sort(),
    );
    const [kept] = (await db.store.listFindings({ rule: ['noncurrent-versions'], limit: 10 })).items;
    await db.store.setFindingStatus(kept!.id, { status: 'false-positive', actor: 'test' });
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });

  it('is incomplete when the versions of a bucket cannot be read', async () => {
    gateway().setFaults({ failRate: 0, denyVersioning: true });
    const outcome = await scanVendor();
    expect(outcome.scan.status).to.equal('incomplete');
    expect(errorsOf(outcome)).to.match(
      /bucket ars-violations: its noncurrent versions could not be checked: its versioning could not be read \(AccessDenied/,
    );
    // Every object was still read: only the versions no listing shows are unknown.
    expect(outcome.scan.objectsEvaluated).to.equal(firstEvaluated);
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });

  it('finds deleted images kept as noncurrent versions, over pages, and closes that once they are gone', async () => {
    const hoursAgo = (hours: number) => new Date(world.now.getTime() - hours * 3_600_000);
    const kept = "2026/11/'s-Hertogenbosch 1+2.jpg";
    gateway().setVersioning('ars-violations', {
      status: 'Enabled',
      pages: [
        [
          {
            key: kept,
            versionId: 'v2',
            isLatest: true,
            lastModified: hoursAgo(1),
            object: { etag: 'e2', size: 9 },
          },
          {
            key: kept,
            versionId: 'v1',
            isLatest: false,
            lastModified: hoursAgo(40 * 24),
            object: { etag: 'e1', size: 8 },
          },
        ],
        [
          { key: 'cam/b.jpg', versionId: 'd1', isLatest: true, lastModified: hoursAgo(2) },
          {
            key: 'cam/b.jpg',
            versionId: 'b0',
            isLatest: false,
            lastModified: hoursAgo(72),
            object: { etag: 'e3', size: 7 },
          },
          {
            key: 'cam/old/',
            versionId: 'f0',
            isLatest: false,
            lastModified: hoursAgo(900),
            object: { etag: 'e4', size: 0 },
          },
        ],
      ],
    });
    try {
      const outcome = await scanVendor();
      expect(outcome.scan.status, errorsOf(outcome)).to.equal('completed');
      expect(await openBucketFindings()).to.deep.equal(
        [...firstFindings, 'ars-violations|noncurrent-versions'].sort(),
      );
      const [found] = (
        await db.store.listFindings({ rule: ['noncurrent-versions'], bucket: ['ars-violations'], limit: 10 })
      ).items;
      // The vendor limit is 28 days: the 3-day-old version is counted, not reported; the folder
      // marker (no bytes) is neither.
      expect(found!.details).to.deep.include({
        versioning: 'enabled',
        noncurrentVersions: 2,
        deleteMarkers: 1,
      });
      expect(found!.details.overLimit).to.deep.equal([
        { key: kept, versionId: 'v1', etag: 'e1', size: 8, lastModified: hoursAgo(40 * 24).toISOString() },
      ]);
    } finally {
      gateway().setVersioning('ars-violations', null);
    }
    const again = await scanVendor();
    expect(again.scan.status, errorsOf(again)).to.equal('completed');
    const [closed] = (
      await db.store.listFindings({ rule: ['noncurrent-versions'], bucket: ['ars-violations'], limit: 10 })
    ).items;
    expect(closed!.status).to.equal('remediated');
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });

  it('completes again, with the same open findings, once the evidence is back', async () => {
    const outcome = await scanVendor();
    expect(outcome.scan.status, errorsOf(outcome)).to.equal('completed');
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });
});
