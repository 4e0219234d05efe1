/**
 * What was read of an object holds only for the settings it was read with: a rescan under another
 * time zone, violation signal or head limit reads every object again, and an unchanged config
 * reads none.
 */
import { expect } from 'chai';
import { runScan } from '../../../bin/commands/scan.command.js';
import { BULK_BUCKET, useBulkWorld } from '../../helpers/bulk-world.js';
import { generateCameraImage } from '../../../fixtures/camera-image.js';
import { s3Sink } from '../../../fixtures/s3-sink.js';
import { openTestRuntime } from '../../helpers/runtime.js';

const OBJECTS = 12;

describe('a rescan after a change of the read settings', function () {
  this.timeout(120_000);
  const bulk = useBulkWorld(OBJECTS);

  /** Scans with the config's extra YAML; returns the signed object GETs it made (the anonymous probes aside). */
  async function scanWith(opts: { top?: string; source?: string }): Promise<number> {
    const { config } = await bulk.world.config(opts);
    const runtime = await openTestRuntime(config, bulk.db.store);
    try {
      bulk.world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal('completed');
      return bulk.world.stack.gateway.counts().signedGets;
    } finally {
      await runtime.dispose();
    }
  }

  it('reads every object again, and only then', async () => {
    expect(await scanWith({}), 'first scan').to.equal(OBJECTS);
    expect(await scanWith({}), 'same settings').to.equal(0);
    const london = { top: 'contract: { timezone: Europe/London }' };
    expect(await scanWith(london), 'another time zone').to.equal(OBJECTS);
    expect(await scanWith(london), 'that zone again').to.equal(0);
    const flagged = { ...london, source: '\n    violationSignal: { metadata: violation }' };
    expect(await scanWith(flagged), 'a violation signal').to.equal(OBJECTS);
    const limited = { top: `${london.top}\nscan: { maxHeadBytes: 524288 }`, source: flagged.source };
    expect(await scanWith(limited), 'another head limit').to.equal(OBJECTS);
    const states = await bulk.db.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 100);
    expect(new Set(states.map((s) => s.readSettings)).size).to.equal(1);
  });

  it("reads a source's EXIF times without an offset in its cameras' own zone", async () => {
    const sink = s3Sink(bulk.world.stack);
    try {
      const local = await generateCameraImage({ width: 64, height: 48, captureTime: '2026:11:20 08:30:00' });
      await sink.putObject(BULK_BUCKET, 'zz-local-time.jpg', local, {});
    } finally {
      sink.close();
    }
    const captured = async (): Promise<string> => {
      const states = await bulk.db.store.listObjectStates('edge-bulk', BULK_BUCKET, 'zz', 10);
      expect(states[0]!.captureTimeOrigin).to.equal('exif-local');
      return states[0]!.captureTime!.toISOString();
    };
    await scanWith({});
    // 08:30 in Amsterdam in November is 07:30 UTC...
    expect(await captured()).to.equal('2026-11-20T07:30:00.000Z');
    // ...but a source whose cameras keep UTC wrote 08:30 UTC, and every object is read again.
    expect(await scanWith({ source: '\n    cameraTimezone: UTC' })).to.equal(OBJECTS + 1);
    expect(await captured()).to.equal('2026-11-20T08:30:00.000Z');
  });
});
