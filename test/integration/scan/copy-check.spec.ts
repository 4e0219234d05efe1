/**
 * The copy check at the scale of production: it hashes only the production images a copy could come
 * from (whole-image GETs counted at the S3 server), and a copy stays a finding after its original is
 * deleted, as edge devices must delete it.
 */
import { expect } from 'chai';
import { runScan, type ScanOutcome } from '../../../bin/commands/scan.command.js';
import type { Finding } from '../../../core/model.js';
import type { ObjectState } from '../../../core/store/store.js';
import { generateCameraImage, reencode, toExifTime } from '../../../fixtures/camera-image.js';
import { s3Sink } from '../../../fixtures/s3-sink.js';
import { isPerceptualHash, UNDECODABLE_MARK } from '../../../core/images/perceptual-hash.js';
import { BULK_BUCKET, bulkKey, useBulkWorld } from '../../helpers/bulk-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

const OBJECTS = 48;
/** Undeclared on the edge source, so suspicious; its name is not test-like. */
const COPIES = 'bulk-archive';
const RULE = 'production-data-outside-production';

describe('the copy check', function () {
  this.timeout(120_000);
  const bulk = useBulkWorld(OBJECTS);

  async function scan(status: 'completed' | 'incomplete' = 'completed'): Promise<ScanOutcome> {
    const { config } = await bulk.world.config();
    const runtime = await openTestRuntime(config, bulk.db.store);
    try {
      bulk.world.stack.gateway.resetCounts();
      const outcome = await runScan(runtime, { sources: ['edge-bulk'], now: bulk.world.now, pollMs: 50 });
      expect(outcome.scan.status, outcome.scan.errors.join('\n')).to.equal(status);
      return outcome;
    } finally {
      await runtime.dispose();
    }
  }

  /** Signed object GETs of the last scan in a bucket (the anonymous probes aside). */
  const readsIn = (bucket: string): number =>
    bulk.world.stack.gateway.counts().byBucket[bucket]?.signedGets ?? 0;

  const production = (): Promise<ObjectState[]> =>
    bulk.db.store.listObjectStates('edge-bulk', BULK_BUCKET, null, 1000);

  async function withSink<T>(use: (sink: ReturnType<typeof s3Sink>) => Promise<T>): Promise<T> {
    const sink = s3Sink(bulk.world.stack);
    try {
      return await use(sink);
    } finally {
      sink.close();
    }
  }

  async function original(index: number): Promise<{ state: ObjectState; bytes: Buffer }> {
    const state = (await production()).find((s) => s.key === bulkKey(index))!;
    const { bytes } = await withSink((sink) => sink.storage.readRange(BULK_BUCKET, state.key, 0, state.size));
    return { state, bytes };
  }

  const put = (key: string, bytes: Buffer, bucket = COPIES): Promise<void> =>
    withSink(async (sink) => {
      await sink.makeBucket(bucket);
      await sink.putObject(bucket, key, bytes, { 'Content-Type': 'image/jpeg' });
    });

  /** A photo of its own (`seed`), taken `minutesAgo` as its EXIF says, or without EXIF (null). */
  async function photo(seed: number, minutesAgo: number | null): Promise<Buffer> {
    const scene = { width: 96, height: 72, noise: 0, seed };
    if (minutesAgo === null) return reencode(await generateCameraImage(scene), 80, { keepExif: false });
    const time = new Date(bulk.world.now.getTime() - minutesAgo * 60_000);
    return generateCameraImage({ ...scene, captureTime: toExifTime(time, 'Europe/Amsterdam').dateTime });
  }

  const copyFinding = (outcome: ScanOutcome, key: string): Finding | undefined =>
    outcome.findings.find((f) => f.bucket === COPIES && f.key === key && f.rule === RULE);

  before(async () => {
    await scan();
  });

  it('hashes only the production images taken within seconds of a copy that kept its EXIF', async () => {
    const five = await original(5);
    const seven = await original(7);
    await put('copy-5.jpg', await reencode(five.bytes, 60));
    await put('exact-7.jpg', seven.bytes);
    // A photo of its own, taken at a time no production image was.
    await put('unrelated.jpg', await photo(999, 30 * 60 + 17));

    const outcome = await scan();

    expect(copyFinding(outcome, 'copy-5.jpg')?.details['copyOf']).to.deep.include({
      key: bulkKey(5),
      etag: five.state.etag,
      by: 'perceptual-hash',
    });
    expect(copyFinding(outcome, 'exact-7.jpg')?.details['copyOf']).to.deep.include({
      key: bulkKey(7),
      etag: seven.state.etag,
      by: 'etag',
    });
    expect(copyFinding(outcome, 'unrelated.jpg')).to.equal(undefined);
    const sameCapture = (await production()).filter(
      (s) => Math.abs(s.captureTime!.getTime() - five.state.captureTime!.getTime()) <= 2000,
    );
    expect(sameCapture.length).to.be.within(1, OBJECTS / 8);
    expect(readsIn(BULK_BUCKET), 'whole-image reads in production').to.equal(sameCapture.length);
    const hashed = (await production()).filter((s) => s.perceptualHash !== null).map((s) => s.key);
    expect(hashed.sort()).to.deep.equal(sameCapture.map((s) => s.key).sort());
  });

  it('compares a copy without EXIF with every production image, hashing each once', async () => {
    const eleven = await original(11);
    await put('stripped-11.jpg', await reencode(eleven.bytes, 70, { keepExif: false }));
    const unhashed = (await production()).filter((s) => s.perceptualHash === null).length;

    const outcome = await scan();

    expect(copyFinding(outcome, 'stripped-11.jpg')?.details['copyOf']).to.deep.include({
      key: bulkKey(11),
      by: 'perceptual-hash',
    });
    expect(readsIn(BULK_BUCKET), 'whole-image reads in production').to.equal(unhashed);
    expect(readsIn(COPIES), 'the new copy, hashed').to.equal(2);

    const again = await scan();
    expect(readsIn(BULK_BUCKET) + readsIn(COPIES), 'reads at the next scan').to.equal(0);
    expect(copyFinding(again, 'stripped-11.jpg')?.id).to.equal(copyFinding(outcome, 'stripped-11.jpg')?.id);
  });

  it('looks again for a copy whose original a re-read has since found taken at another time', async () => {
    const thirteen = await original(13);
    await put('copy-13.jpg', await reencode(thirteen.bytes, 60));
    await put('exact-13.jpg', thirteen.bytes);
    const first = await scan();
    const lookalike = copyFinding(first, 'copy-13.jpg');
    expect(lookalike?.details['copyOf']).to.deep.include({ key: bulkKey(13), by: 'perceptual-hash' });

    // As a re-read under a corrected camera zone would store it: taken an hour later than it said.
    const later = new Date(thirteen.state.captureTime!.getTime() + 3_600_000);
    await bulk.db.store.putObjectStates([{ ...thirteen.state, captureTime: later }]);
    const outcome = await scan();

    expect(copyFinding(outcome, 'copy-13.jpg')).to.equal(undefined);
    expect((await bulk.db.store.getFinding(lookalike!.id))?.status).to.equal('remediated');
    // The same bytes are proof whatever the time read from them.
    expect(copyFinding(outcome, 'exact-13.jpg')?.id).to.equal(copyFinding(first, 'exact-13.jpg')?.id);
  });

  it('keeps a copy when its original was replaced by another image under the same key', async () => {
    const seventeen = await original(17);
    await put('copy-17.jpg', await reencode(seventeen.bytes, 60));
    const first = copyFinding(await scan(), 'copy-17.jpg');
    expect(first?.details['copyOf']).to.deep.include({ key: bulkKey(17), etag: seventeen.state.etag });

    // A camera that reuses its file names: another capture, at another time, under the same key.
    await put(bulkKey(17), await photo(1717, 3 * 60 + 9), BULK_BUCKET);
    const outcome = await scan();

    expect(copyFinding(outcome, 'copy-17.jpg')?.id).to.equal(first!.id);
    expect(copyFinding(outcome, 'copy-17.jpg')?.details['copyOf']).to.deep.include({
      etag: seventeen.state.etag,
    });
  });

  it('keeps a copy a finding after its original is deleted, and closes it when the copy changes', async () => {
    await withSink((sink) => sink.storage.removeObject(BULK_BUCKET, bulkKey(5)));
    const afterDeletion = await scan();
    const kept = copyFinding(afterDeletion, 'copy-5.jpg');
    expect(kept?.status).to.equal('open');
    expect(kept?.details['copyOf']).to.deep.include({ key: bulkKey(5), by: 'perceptual-hash' });

    await put('copy-5.jpg', await photo(1234, 20 * 60 + 41));
    const afterChange = await scan();
    expect(copyFinding(afterChange, 'copy-5.jpg')).to.equal(undefined);
    expect((await bulk.db.store.getFinding(kept!.id))?.status).to.equal('remediated');
  });

  it('hashes again an image marked undecodable by another decoder, and only then', async () => {
    const unrelated = async () =>
      (await bulk.db.store.getObjectStates('edge-bulk', COPIES, ['unrelated.jpg'])).get('unrelated.jpg')!;
    const { etag } = await unrelated();
    const mark = (value: string) =>
      bulk.db.store.setPerceptualHash('edge-bulk', COPIES, 'unrelated.jpg', etag, value);

    await mark(UNDECODABLE_MARK);
    await scan();
    expect(readsIn(COPIES), 'marked by this decoder').to.equal(0);

    await mark('undecodable by sharp 0.30.0 (libvips 8.12.0)');
    await scan();
    expect(readsIn(COPIES), 'marked by another decoder').to.equal(1);
    expect(isPerceptualHash((await unrelated()).perceptualHash!)).to.equal(true);
  });

  it('compares a copy that kept its EXIF with production images without one when none taken near it matches', async () => {
    // A vendor that strips EXIF on its production server, and a copy taken from the camera with it.
    await put('zy/stripped-original.jpg', await photo(5151, null), BULK_BUCKET);
    await put('zy-camera-copy.jpg', await photo(5151, 42));

    const outcome = await scan();

    expect(copyFinding(outcome, 'zy-camera-copy.jpg')?.details['copyOf']).to.deep.include({
      key: 'zy/stripped-original.jpg',
      by: 'perceptual-hash',
    });
    expect(copyFinding(outcome, 'unrelated.jpg')).to.equal(undefined);
  });

  it('asks once per check for a production image it could not fetch, and says so once', async () => {
    const key = 'zz/no-exif.jpg';
    await put(key, await photo(4242, null), BULK_BUCKET);
    await scan();
    // As if hashed by an older decoder: this check must fetch it again.
    const { etag } = (await bulk.db.store.getObjectStates('edge-bulk', BULK_BUCKET, [key])).get(key)!;
    await bulk.db.store.setPerceptualHash('edge-bulk', BULK_BUCKET, key, etag, 'undecodable by sharp 0.1.0');
    // A copy with an EXIF time and one without: a production image without one is a candidate of both.
    await put('zz-timed.jpg', await photo(777, 7 * 60 + 13));
    await put('zz-stripped.jpg', await photo(778, null));

    bulk.world.stack.gateway.setFaults({ failRate: 0, failStatus: 500, failKeys: [key] });
    try {
      const outcome = await scan('incomplete');
      const about = outcome.scan.errors.filter((e) => e.includes(`perceptual hash of ${BULK_BUCKET}/${key}`));
      expect(about, outcome.scan.errors.join('\n')).to.have.length(1);
    } finally {
      bulk.world.stack.gateway.setFaults({ failRate: 0 });
    }
  });
});
