/**
 * Reading object heads from a real S3 server: ranged GETs (64 KiB, more only when EXIF needs it),
 * user metadata from the same response, and every kind of bad object becoming a state, not a crash.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type SourceConfig } from '../../../config/load.js';
import { readObject, type ReadContext } from '../../../core/scan/object-reader.js';
import type { ListedObject } from '../../../core/storage/s3-storage.js';
import { corruptJpeg, generateCameraImage, toWebp, truncatedJpeg } from '../../../fixtures/camera-image.js';
import { startS3Stack, type S3Stack } from '../../../fixtures/s3-server.js';
import sharp from 'sharp';
import { asciiEntry, EXIF_TAG, jpegWithExifEntries } from '../../../fixtures/exif-entries.js';
import { s3Sink } from '../../../fixtures/s3-sink.js';

/** Puts a filler APP segment before everything else, so the EXIF segment ends past `offset`. */
function pushExifBeyond(jpeg: Buffer, filler: number): Buffer {
  const segment = Buffer.alloc(4 + filler);
  segment.writeUInt16BE(0xffeb, 0);
  segment.writeUInt16BE(filler + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

describe('object reader against a real S3 server', function () {
  this.timeout(60_000);
  let stack: S3Stack;
  let dir: string;
  let sink: ReturnType<typeof s3Sink>;
  let ctx: ReadContext;
  const listed = new Map<string, ListedObject>();
  const BUCKET = 'camera-heads';

  const put = async (key: string, bytes: Buffer, headers: Record<string, string> = {}) => {
    await sink.putObject(BUCKET, key, bytes, headers);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anpr-reader-'));
    stack = await startS3Stack({ directory: dir });
    sink = s3Sink(stack);
    await sink.makeBucket(BUCKET);
    const camera = await generateCameraImage({
      width: 320,
      height: 240,
      captureTime: '2026:11:20 08:30:00',
      offsetTime: '-05:00',
      subSecTime: '250',
      make: 'ARS',
      model: 'sentinel-4',
      description: { violation: true, plate: 'GX-123-B' },
    });
    const local = await generateCameraImage({ width: 320, height: 240, captureTime: '2026:10:25 02:30:00' });
    await put('offset.jpg', camera, { 'x-amz-meta-violation': 'yes' });
    await put('local.jpg', local);
    await put('far-exif.jpg', pushExifBeyond(camera, 65_533));
    await put('no-exif.jpg', await generateCameraImage({ width: 320, height: 240, exif: false }));
    await put('corrupt.jpg', corruptJpeg());
    await put('truncated.jpg', truncatedJpeg(camera, 1024));
    await put('zero.jpg', Buffer.alloc(0));
    await put('notes.txt', Buffer.from('kentekenlijst\n'));
    await put('Joseph Bechlaan/passage é 1.jpg', local);
    // A small crop whose writer pads the file after its end-of-image marker.
    const crop = await generateCameraImage({ width: 240, height: 60, captureTime: '2026:11:20 08:30:00' });
    await put('padded.jpg', Buffer.concat([crop, Buffer.alloc(2)]));
    for (const [name, plate] of [
      ['dash', '-'],
      ['blank', ' '],
    ]) {
      const noPlate = await generateCameraImage({
        width: 96,
        height: 72,
        captureTime: '2026:11:20 08:30:00',
        description: { violation: false, plate },
      });
      await put(`no-plate-${name}.jpg`, noPlate);
    }
    // Full size, so that the EXIF chunk after the image data lies well past the 64 KiB head.
    const fullSize = await generateCameraImage({
      width: 1280,
      height: 960,
      captureTime: '2026:11:20 08:30:00',
      offsetTime: '-05:00',
      subSecTime: '250',
      make: 'ARS',
      description: { violation: true, plate: 'GX-123-B' },
    });
    await put('camera.webp', await toWebp(fullSize));
    await put('stripped.webp', await toWebp(camera, { keepExif: false }));
    await put('passage.gif', await sharp(local).resize(64).gif().toBuffer());
    await put('camera.avif', await sharp(local).avif({ quality: 50 }).keepExif().toBuffer());
    await put(
      'make-junk.jpg',
      jpegWithExifEntries({
        ifd0: [asciiEntry(EXIF_TAG.Make, 'ARS\0xyz')],
        exif: [asciiEntry(EXIF_TAG.DateTimeOriginal, '2026:11:20 08:30:00')],
      }),
    );
    const config = parseConfig(
      `sources:\n  - { id: edge-test, role: edge, endpoint: '${stack.url}', accessKeyEnv: A, secretKeyEnv: S, buckets: [${BUCKET}], violationSignal: { metadata: violation, exif: ImageDescription.violation } }\n`,
      '/x.yaml',
      { A: stack.accessKey, S: stack.secretKey },
    );
    const source = config.sources[0] as SourceConfig;
    ctx = {
      storage: sink.storage,
      source,
      bucket: BUCKET,
      timezone: 'Europe/Amsterdam',
      headBytes: 65536,
      maxHeadBytes: 1 << 20,
      plateHashKey: undefined,
      readSettings: 'settings-1',
    };
    for (const object of (await sink.storage.listPage(BUCKET, {})).objects) listed.set(object.key, object);
    stack.gateway.resetCounts();
  });

  after(async () => {
    sink?.close();
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const read = (key: string) => readObject(ctx, listed.get(key)!);

  it('reads capture time with offset and sub-seconds, camera, signals and a plate hash from one ranged GET', async () => {
    const { state, bytesRead } = await read('offset.jpg');
    expect(state.captureTime!.toISOString()).to.equal('2026-11-20T13:30:00.250Z');
    expect(state.captureTimeOrigin).to.equal('exif-offset');
    expect(state.exifCaptureTime).to.equal('2026:11:20 08:30:00.250 -05:00');
    expect(state).to.include({
      isImage: true,
      readError: null,
      cameraMake: 'ARS',
      cameraModel: 'sentinel-4',
    });
    expect(state.signals).to.deep.equal({ metadata: true, exif: true });
    expect(state.plateHash).to.match(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(state)).not.to.include('GX-123-B');
    expect(bytesRead).to.equal(listed.get('offset.jpg')!.size);
    expect(stack.gateway.counts().byBucket[BUCKET]!.rangedGets).to.equal(1);
  });

  it('reads local time in the configured zone (the autumn repeat takes the earlier instant)', async () => {
    const { state } = await read('local.jpg');
    expect(state.captureTimeOrigin).to.equal('exif-local');
    expect(state.captureTime!.toISOString()).to.equal('2026-10-25T00:30:00.000Z');
  });

  it('fetches more than 64 KiB only when the EXIF segment ends past it', async () => {
    stack.gateway.resetCounts();
    const { state, bytesRead } = await read('far-exif.jpg');
    expect(state.captureTime!.toISOString()).to.equal('2026-11-20T13:30:00.250Z');
    expect(bytesRead).to.be.greaterThan(65536);
    expect(bytesRead).to.be.at.most(65536 + 16 * 1024);
    expect(stack.gateway.counts().rangedGets).to.equal(2);
  });

  it('leaves the capture time empty for an image without EXIF (the rules fall back and flag it)', async () => {
    const { state } = await read('no-exif.jpg');
    expect(state).to.include({ isImage: true, readError: null, captureTime: null, captureTimeOrigin: null });
  });

  it('turns corrupt, truncated, zero-byte and non-image objects into read errors, never throws', async () => {
    expect((await read('corrupt.jpg')).state.readError).to.match(/corrupt JPEG|truncated|EXIF/);
    expect((await read('truncated.jpg')).state.readError).to.match(/truncated/);
    const zero = await read('zero.jpg');
    expect(zero.state.readError).to.match(/zero-byte/);
    expect(zero.bytesRead).to.equal(0);
    const padded = await read('padded.jpg');
    expect(padded.state.readError, 'padding after the end-of-image marker').to.equal(null);
    const text = await read('notes.txt');
    expect(text.state).to.include({ isImage: false });
    expect(text.state.readError).to.match(/not an image/);
  });

  it('reads a plate tag of "-" or " " as no plate, not as a failure of the object', async () => {
    for (const key of ['no-plate-dash.jpg', 'no-plate-blank.jpg']) {
      const { state } = await read(key);
      expect(state, key).to.include({ readError: null, plateHash: null, isImage: true });
      expect(state.captureTime, key).to.not.equal(null);
    }
  });

  it('keeps an EXIF text only up to its NUL terminator, which PostgreSQL could not store', async () => {
    const { state } = await read('make-junk.jpg');
    expect(state).to.include({ readError: null, cameraMake: 'ARS' });
  });

  it('turns any failure in interpreting the bytes into a read error of that object', async () => {
    // An empty hash key makes plate hashing throw: the object gets a read error, the call resolves.
    const { state, transientError } = await readObject(
      { ...ctx, plateHashKey: '' },
      listed.get('offset.jpg')!,
    );
    expect(transientError).to.equal(null);
    expect(state.readError).to.equal('cannot interpret the object: plate hash key must not be empty');
  });

  it("reads a WebP's EXIF chunk from near its end, without reading the image data", async () => {
    stack.gateway.resetCounts();
    const { state, bytesRead } = await read('camera.webp');
    expect(state).to.include({ isImage: true, readError: null, cameraMake: 'ARS' });
    expect(state.captureTime!.toISOString()).to.equal('2026-11-20T13:30:00.250Z');
    expect(state.signals.exif).to.equal(true);
    // The head, then one read from the EXIF chunk's header to the end of the file.
    expect(stack.gateway.counts().rangedGets).to.equal(2);
    expect(bytesRead).to.be.at.most(65_536 + 16 * 1024);
    expect(listed.get('camera.webp')!.size).to.be.above(200_000);
  });

  it('reads a WebP without EXIF with one request, as an image without a capture time', async () => {
    stack.gateway.resetCounts();
    const { state } = await read('stripped.webp');
    expect(state).to.include({ isImage: true, readError: null, captureTime: null });
    expect(stack.gateway.counts().rangedGets).to.equal(1);
  });

  it("calls EXIF that exifr reports broken (sharp's AVIF) unparsable, not absent", async () => {
    const { state } = await read('camera.avif');
    expect(state).to.include({
      isImage: true,
      captureTime: null,
      readError: 'EXIF cannot be parsed: Malformed EXIF data',
    });
  });

  it('reads a GIF as an image without a capture time, not as a read error', async () => {
    const { state } = await read('passage.gif');
    expect(state).to.include({ isImage: true, readError: null, captureTime: null });
  });

  it('reads keys with spaces and unicode', async () => {
    const { state } = await read('Joseph Bechlaan/passage é 1.jpg');
    expect(state.readError).to.equal(null);
    expect(state.captureTimeOrigin).to.equal('exif-local');
  });

  it('reports an object deleted between listing and reading as vanished, not as a finding', async () => {
    await put('short-lived.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    const entry = (await sink.storage.listPage(BUCKET, { prefix: 'short-lived' })).objects[0]!;
    await sink.storage.removeObject(BUCKET, 'short-lived.jpg');
    const result = await readObject(ctx, entry);
    expect(result.vanished).to.equal(true);
    expect(result.transientError).to.equal(null);
  });
});
