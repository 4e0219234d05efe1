/**
 * End to end: the Randwyck scenario on real S3 servers, scanned through BullMQ by an in-process
 * worker into a real PostgreSQL schema; findings checked object by object against what the
 * scenario intends, then rescanned (idempotent, no GETs) and remediated.
 */
import { expect } from 'chai';
import type { Finding } from '../../core/model.js';
import { runScan, type ScanOutcome } from '../../bin/commands/scan.command.js';
import { openTestStore, type TestStore } from '../helpers/database.js';
import { startRandwyckWorld, type RandwyckWorld } from '../helpers/randwyck-world.js';
import { openTestRuntime } from '../helpers/runtime.js';

describe('end-to-end scan of the Randwyck scenario', function () {
  this.timeout(120_000);
  let world: RandwyckWorld;
  let db: TestStore;
  let runtime: Awaited<ReturnType<typeof openTestRuntime>>;
  let first: ScanOutcome;
  const allSources = () => world.config.sources.map((s) => s.id);

  before(async () => {
    world = await startRandwyckWorld();
    db = await openTestStore('postgres');
    runtime = await openTestRuntime(world.config, db.store, world.prefix);
    first = await runScan(runtime, { sources: allSources(), now: world.now, pollMs: 50 });
  });

  after(async () => {
    await runtime?.dispose();
    await db?.cleanup();
    await world?.close();
  });

  const findingsAt = (findings: Finding[], bucket: string, key: string) =>
    findings.filter((f) => f.bucket === bucket && f.key === key).map((f) => f.rule);

  it('completes and evaluates every object it listed', () => {
    expect(first.scan.status, first.scan.errors.join('\n')).to.equal('completed');
    expect(first.scan.objectsListed).to.equal(world.loaded.objects.length);
    expect(first.scan.objectsEvaluated).to.equal(world.loaded.objects.length);
    expect(first.exitCode).to.equal(1);
  });

  it('raises each intended object finding, and none on compliant objects', () => {
    const problems: string[] = [];
    for (const object of world.loaded.objects) {
      const got = findingsAt(first.findings, object.bucket, object.key);
      const missing = object.intendedFindings.filter((rule) => !got.includes(rule));
      if (missing.length > 0)
        problems.push(
          `${object.bucket}/${object.key}: missing ${missing.join(', ')} (got ${got.join(', ') || 'none'})`,
        );
      if (object.intendedFindings.length === 0 && got.length > 0)
        problems.push(`${object.bucket}/${object.key}: unexpected ${got.join(', ')}`);
    }
    expect(problems).to.deep.equal([]);
  });

  it('raises each intended bucket finding', () => {
    for (const bucket of world.loaded.buckets) {
      const got = findingsAt(first.findings, bucket.name, '');
      expect(got, bucket.name).to.include.members(bucket.intendedFindings);
      if (bucket.intendedFindings.length === 0) expect(got, bucket.name).to.deep.equal([]);
    }
  });

  it('reads capture times exactly, with their origin, for offset and local-time cameras', () => {
    let checked = 0;
    for (const object of world.loaded.objects) {
      if (!object.expectedCaptureTime) continue;
      for (const finding of first.findings.filter(
        (f) => f.bucket === object.bucket && f.key === object.key,
      )) {
        expect(finding.captureTime, `${object.key}`).to.equal(object.expectedCaptureTime.toISOString());
        expect(finding.captureTimeOrigin).to.equal(object.captureTimeOrigin);
        checked += 1;
      }
    }
    expect(checked).to.be.greaterThan(10);
    expect(first.findings.some((f) => f.captureTimeOrigin === 'exif-local')).to.equal(true);
    expect(first.findings.some((f) => f.captureTimeOrigin === 'exif-offset')).to.equal(true);
  });

  it('carries the evidence fields on every finding, never a plate', () => {
    const plates = world.loaded.objects.map((o) => o.plate).filter((p): p is string => p !== null);
    for (const f of first.findings) {
      expect(f).to.include.keys(
        'rule',
        'severity',
        'source',
        'bucket',
        'key',
        'etag',
        'size',
        'lastModified',
        'captureTime',
        'captureTimeOrigin',
        'ageHours',
        'threshold',
        'reason',
        'scanId',
        'firstSeen',
        'lastSeen',
      );
      expect(f.reason).to.be.a('string').and.not.equal('');
      const text = JSON.stringify(f);
      for (const plate of plates) expect(text).not.to.include(plate);
    }
  });

  it('shows the Randwyck register case: the camera flags a violation with no register entry', () => {
    const reasons = first.findings.filter((f) => f.rule === 'violations-only').map((f) => f.reason);
    expect(reasons.some((r) => /camera flags a violation; no register entry/i.test(r))).to.equal(true);
  });

  it('rescans without duplicating findings and without reading any object again', async () => {
    for (const stack of world.stacks.stacks.values()) stack.gateway.resetCounts();
    const second = await runScan(runtime, { sources: allSources(), now: world.now, pollMs: 50 });
    expect(second.scan.status).to.equal('completed');
    const ids = (findings: Finding[]) => findings.map((f) => `${f.id}:${f.rule}`).sort();
    expect(ids(second.findings)).to.deep.equal(ids(first.findings));
    // Only the unsigned discovery probes read bytes; the auditor's own (signed) reads are zero.
    const counts = [...world.stacks.stacks.values()].map((s) => s.gateway.counts());
    expect(counts.reduce((n, c) => n + c.signedGets + c['head-object'], 0)).to.equal(0);
    expect(counts.reduce((n, c) => n + c['list-objects'], 0)).to.be.greaterThan(0);
    const all = await db.store.listFindings({ limit: 1000 });
    expect(all.items.length).to.equal(first.findings.length);
    for (const f of second.findings)
      expect(f.firstSeen).to.equal(first.findings.find((g) => g.id === f.id)!.firstSeen);
  });

  it('reads again an object whose metadata alone was replaced in place (same ETag and size)', async () => {
    const bucket = 'ars-violations';
    const stored = await db.store.listObjectStates('vendor-ars', bucket, null, 1000);
    const before = stored.find((s) => s.signals.metadata !== null)!;
    const stack = world.stacks.stacks.get('vendor-ars')!;
    const { s3Sink } = await import('../../fixtures/s3-sink.js');
    const sink = s3Sink(stack);
    try {
      // The same bytes written again with the other flag, as a copy in place with new metadata does.
      const { bytes, metadata } = await sink.storage.readRange(bucket, before.key, 0, before.size);
      expect(metadata['violation']).to.equal(String(before.signals.metadata));
      // LastModified counts whole seconds: a copy within the second of the first write looks the same.
      // 100 ms more, as the file system's clock may lag this process's by a tick.
      const sameSecond = before.lastModified.getTime() + 1100 - Date.now();
      if (sameSecond > 0) await new Promise((r) => setTimeout(r, sameSecond));
      await sink.putObject(bucket, before.key, bytes, {
        'Content-Type': 'image/jpeg',
        'x-amz-meta-violation': String(!before.signals.metadata),
      });
    } finally {
      sink.close();
    }
    stack.gateway.resetCounts();
    const rescan = await runScan(runtime, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });
    expect(rescan.scan.status, rescan.scan.errors.join('\n')).to.equal('completed');
    // One ranged GET of its head; its perceptual hash, of the same bytes, is kept (no whole read).
    expect(stack.gateway.counts().signedGets).to.equal(1);
    const after = (await db.store.listObjectStates('vendor-ars', bucket, null, 1000)).find(
      (s) => s.key === before.key,
    )!;
    expect([after.etag, after.size]).to.deep.equal([before.etag, before.size]);
    expect(after.signals.metadata).to.equal(!before.signals.metadata);
    expect(after.perceptualHash).to.equal(before.perceptualHash);
  });

  it('marks a finding remediated when its object is gone after a complete scan', async () => {
    const target = first.findings.find((f) => f.rule === 'edge-retention')!;
    const storage = world.stacks.stacks.get(target.source)!;
    const { s3Sink } = await import('../../fixtures/s3-sink.js');
    const sink = s3Sink(storage);
    await sink.storage.removeObject(target.bucket, target.key);
    sink.close();
    const later = new Date(world.now.getTime() + 60_000);
    const third = await runScan(runtime, { sources: [target.source], now: later, pollMs: 50 });
    expect(third.scan.status).to.equal('completed');
    const after = await db.store.getFinding(target.id);
    expect(after!.status).to.equal('remediated');
    expect(after!.remediatedAt).to.equal(later.toISOString());
    expect(third.findings.map((f) => f.id)).not.to.include(target.id);
  });

  it('finds a copy whose EXIF cannot be read (an AVIF), and reports that EXIF as unreadable', async () => {
    const original = world.loaded.objects.find(
      (o) => o.bucket === 'ars-violations' && o.kind === 'image' && o.size > 2048,
    )!;
    const stack = world.stacks.stacks.get('vendor-ars')!;
    const { s3Sink } = await import('../../fixtures/s3-sink.js');
    const { default: sharp } = await import('sharp');
    const sink = s3Sink(stack);
    const key = original.key.replace(/\.jpg$/, '.avif');
    try {
      const { bytes } = await sink.storage.readRange(original.bucket, original.key, 0, original.size);
      // exifr cannot parse the EXIF item of sharp's AVIF ("Malformed EXIF data"); sharp decodes it.
      const avif = await sharp(bytes).resize(320).avif({ quality: 60 }).keepExif().toBuffer();
      await sink.putObject('ars-acc-2019', key, avif, { 'Content-Type': 'image/avif' });
    } finally {
      sink.close();
    }
    const rescan = await runScan(runtime, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });
    expect(rescan.scan.status, rescan.scan.errors.join('\n')).to.equal('completed');
    expect(findingsAt(rescan.findings, 'ars-acc-2019', key).sort()).to.deep.equal([
      'missing-timestamp',
      'production-data-outside-production',
      'unreadable-object',
      // Nothing readable ties it to a register entry either.
      'violations-only',
    ]);
    const copy = rescan.findings.find(
      (f) => f.key === key && f.rule === 'production-data-outside-production',
    )!;
    expect(copy.details['copyOf']).to.deep.include({
      source: 'vendor-ars',
      bucket: original.bucket,
      key: original.key,
      by: 'perceptual-hash',
    });
  });

  it('judges nothing of a folder marker, and probes anonymous reads with an object that has bytes', async () => {
    const stack = world.stacks.stacks.get('vendor-ars')!;
    const { s3Sink } = await import('../../fixtures/s3-sink.js');
    const sink = s3Sink(stack);
    // As the S3 console makes a folder; '0000/' sorts before every other key of the bucket.
    try {
      await sink.putObject('ars-public-export', '0000/', Buffer.alloc(0), {});
    } finally {
      sink.close();
    }
    const rescan = await runScan(runtime, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });
    expect(rescan.scan.status, rescan.scan.errors.join('\n')).to.equal('completed');
    expect(findingsAt(rescan.findings, 'ars-public-export', '0000/')).to.deep.equal([]);
    const open = rescan.findings.find((f) => f.bucket === 'ars-public-export' && f.rule === 'public-access')!;
    const probes = open.details['probes'] as { request: string; status: number }[];
    const objectProbe = probes.find((p) => p.request.includes('Range'))!;
    expect(objectProbe.request).to.not.include('0000');
    expect(objectProbe.status).to.equal(206);
  });

  it('hashes an image that does not decode once, and still finds a byte-for-byte copy of it', async () => {
    const stack = world.stacks.stacks.get('vendor-ars')!;
    const { s3Sink } = await import('../../fixtures/s3-sink.js');
    const sink = s3Sink(stack);
    const production = world.loaded.objects.find(
      (o) => o.bucket === 'ars-violations' && o.kind === 'image' && o.size > 2048,
    )!;
    try {
      // Images whose EXIF reads fine but whose markers after it are garbage: the reader sees nothing
      // wrong in their heads, the perceptual hash cannot decode them.
      const { bytes } = await sink.storage.readRange(production.bucket, production.key, 0, 65_536);
      const { jpegExifExtent } = await import('../../core/exif/image-head.js');
      const extent = jpegExifExtent(bytes);
      if (extent.kind !== 'exif') expect.fail('the production image has no EXIF segment');
      const garbage = (fill: number) =>
        Buffer.concat([
          bytes.subarray(0, extent.end),
          Buffer.alloc(300_000, fill),
          Buffer.from([0xff, 0xd9]),
        ]);
      await sink.putObject('ars-violations', 'broken/frame.jpg', garbage(0x5a), {
        'Content-Type': 'image/jpeg',
      });
      await sink.putObject('ars-acc-2019', 'broken/frame.jpg', garbage(0x5a), {
        'Content-Type': 'image/jpeg',
      });
      // Not a byte copy of anything: the check must hash it to compare it.
      await sink.putObject('ars-acc-2019', 'broken/other.jpg', garbage(0x3c), {
        'Content-Type': 'image/jpeg',
      });
    } finally {
      sink.close();
    }
    const rescan = await runScan(runtime, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });
    expect(rescan.scan.status, rescan.scan.errors.join('\n')).to.equal('completed');
    const copyOf = (key: string) =>
      rescan.findings.find(
        (f) =>
          f.bucket === 'ars-acc-2019' && f.key === key && f.rule === 'production-data-outside-production',
      )?.details['copyOf'];
    expect(copyOf('broken/frame.jpg')).to.deep.include({
      bucket: 'ars-violations',
      key: 'broken/frame.jpg',
      by: 'etag',
    });
    expect(copyOf('broken/other.jpg')).to.equal(undefined);
    const [state] = await db.store.listObjectStates('vendor-ars', 'ars-acc-2019', 'broken/frame.jpg', 1);
    const { UNDECODABLE_MARK } = await import('../../core/images/perceptual-hash.js');
    expect(state).to.include({ key: 'broken/other.jpg', readError: null, perceptualHash: UNDECODABLE_MARK });
    // Kept as undecodable: the next scan does not fetch it whole again.
    stack.gateway.resetCounts();
    const again = await runScan(runtime, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });
    expect(again.scan.status, again.scan.errors.join('\n')).to.equal('completed');
    expect(stack.gateway.counts().signedGets).to.equal(0);
  });
});
