/**
 * Benchmark objects: a small pool of real camera JPEGs rendered once with the fixtures' generator, and
 * N distinct objects made from them by rewriting bytes inside the EXIF (the DateTimeOriginal digits and
 * a fixed-width counter in the ImageDescription JSON). Lengths never change, so every object stays a
 * valid JPEG with valid EXIF, has its own bytes (its own ETag) and a plausible capture time.
 */
import { DateTime, FixedOffsetZone } from 'luxon';
import { generateCameraImage } from '../fixtures/camera-image.js';
import { readExif } from '../core/exif/exif-reader.js';

/** Placeholder capture time written into every base image, found again and rewritten per object. */
const PLACEHOLDER_TIME = '2000:01:01 00:00:00';
/** The counter in the ImageDescription JSON: `"seq":"00000000"`, eight digits. */
const SEQ_MARK = '"seq":"';
const SEQ_DIGITS = 8;
/** Capture times are spread over this window before `now`: a quarter is older than the 48 h edge limit. */
const WINDOW_SECONDS = 64 * 3600;
const CAMERAS = 8;
const MAKES = [
  { make: 'Hikvision', model: 'iDS-TCM403-BI' },
  { make: 'Vivotek', model: 'IP9165-LPC' },
  { make: 'Dahua', model: 'ITC237-PW6M' },
];

/** A rendered base image and where its rewritable fields sit. */
export interface BaseImage {
  bytes: Buffer;
  /** Byte offsets of the placeholder capture time (usually one: DateTimeOriginal). */
  timeOffsets: number[];
  seqOffset: number;
  /** OffsetTimeOriginal as written, or null for a camera that writes local time only. */
  offsetTime: string | null;
  camera: string;
  violation: boolean;
}

/** One object to upload. */
export interface BenchObject {
  key: string;
  bytes: Buffer;
  headers: Record<string, string>;
  /** DateTimeOriginal as written into this object. */
  exifTime: string;
  seq: string;
}

function allOffsets(haystack: Buffer, needle: string): number[] {
  const found: number[] = [];
  const bytes = Buffer.from(needle, 'latin1');
  for (let at = haystack.indexOf(bytes); at >= 0; at = haystack.indexOf(bytes, at + 1)) found.push(at);
  return found;
}

function plateFor(index: number): string {
  const letters = 'BDFGHJKLNPRSTVXZ';
  const l = (n: number) => letters[n % letters.length]!;
  return `${l(index * 7 + 3)}${l(index * 5 + 1)}-${String(100 + ((index * 37) % 900))}-${l(index * 11 + 2)}`;
}

/**
 * Renders `size` distinct base images (1280x960, 300-400 KiB) with the fixtures' EXIF: capture
 * time, OffsetTimeOriginal on every other one, make and model, a JSON ImageDescription.
 */
export async function renderPool(size: number, onProgress?: (done: number) => void): Promise<BaseImage[]> {
  const pool: BaseImage[] = [];
  for (let index = 0; index < size; index += 1) {
    const camera = `cam-${String(index % CAMERAS).padStart(2, '0')}`;
    const offsetTime = index % 2 === 0 ? '+01:00' : null;
    const violation = index % 5 === 0;
    const maker = MAKES[index % MAKES.length]!;
    const bytes = await generateCameraImage({
      seed: 1000 + index,
      plate: plateFor(index),
      captureTime: PLACEHOLDER_TIME,
      offsetTime: offsetTime ?? undefined,
      subSecTime: '000',
      make: maker.make,
      model: maker.model,
      description: {
        camera,
        violation,
        plate: plateFor(index),
        lane: (index % 3) + 1,
        seq: '0'.repeat(SEQ_DIGITS),
      },
    });
    const timeOffsets = allOffsets(bytes, PLACEHOLDER_TIME);
    const seqMarks = allOffsets(bytes, `${SEQ_MARK}${'0'.repeat(SEQ_DIGITS)}"`);
    if (timeOffsets.length === 0 || seqMarks.length !== 1) {
      throw new Error(`base image ${index}: expected the placeholder time and one seq counter in the EXIF`);
    }
    pool.push({
      bytes,
      timeOffsets,
      seqOffset: seqMarks[0]! + SEQ_MARK.length,
      offsetTime,
      camera,
      violation,
    });
    onProgress?.(index + 1);
  }
  return pool;
}

/** The capture instant of object `index`: spread over the window by a multiplicative hash. */
export function captureInstant(index: number, now: Date): Date {
  const spread = Number((BigInt(index) * 2654435761n) % BigInt(WINDOW_SECONDS));
  return new Date(now.getTime() - 60_000 - spread * 1000);
}

/**
 * Object `index`: a copy of base image `index % pool.length` with its own capture time and counter.
 * A camera that writes an offset writes the local time in that offset; the others write Amsterdam
 * local time, as the fixtures do.
 */
export function makeObject(pool: BaseImage[], index: number, now: Date): BenchObject {
  const base = pool[index % pool.length]!;
  const instant = captureInstant(index, now);
  const zone =
    base.offsetTime === null ? 'Europe/Amsterdam' : FixedOffsetZone.parseSpecifier(`UTC${base.offsetTime}`);
  const exifTime = DateTime.fromJSDate(instant, { zone }).toFormat('yyyy:MM:dd HH:mm:ss');
  const seq = String(index).padStart(SEQ_DIGITS, '0');
  if (seq.length !== SEQ_DIGITS) throw new Error(`object index ${index} does not fit ${SEQ_DIGITS} digits`);
  const bytes = Buffer.from(base.bytes);
  for (const at of base.timeOffsets) bytes.write(exifTime, at, 'latin1');
  bytes.write(seq, base.seqOffset, 'latin1');
  const utc = DateTime.fromJSDate(instant, { zone: 'utc' });
  const key = `${base.camera}/${utc.toFormat('yyyy-MM-dd')}/${utc.toFormat('HH')}/${utc.toFormat("yyyyMMdd'T'HHmmss")}_${seq}.jpg`;
  return {
    key,
    bytes,
    headers: { 'Content-Type': 'image/jpeg', 'x-amz-meta-violation': String(base.violation) },
    exifTime,
    seq,
  };
}

/**
 * Checks with exifr (through core/exif, the pipeline's own options) that a rewritten object parses
 * and carries what was written. Throws with the reason otherwise.
 */
export async function verifyObject(object: BenchObject): Promise<void> {
  const facts = await readExif(object.bytes.subarray(0, 64 * 1024));
  if (facts === null) throw new Error(`${object.key}: no EXIF after rewriting`);
  if (facts.dateTimeOriginal !== object.exifTime) {
    throw new Error(
      `${object.key}: DateTimeOriginal reads ${facts.dateTimeOriginal}, wrote ${object.exifTime}`,
    );
  }
  const description = JSON.parse(facts.text.ImageDescription ?? '{}') as { seq?: string };
  if (description.seq !== object.seq)
    throw new Error(`${object.key}: ImageDescription seq reads ${description.seq}`);
  if (
    object.bytes[0] !== 0xff ||
    object.bytes[1] !== 0xd8 ||
    object.bytes.at(-2) !== 0xff ||
    object.bytes.at(-1) !== 0xd9
  ) {
    throw new Error(`${object.key}: not a complete JPEG`);
  }
}
