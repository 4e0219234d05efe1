/**
 * Reads what the auditor needs from one object: the head of its bytes (64 KiB first, more only when
 * the EXIF segment needs it), its user metadata from the same response, and what they say.
 * Never throws for a bad object: every failure becomes `readError` on the state.
 */
import { createHash } from 'node:crypto';
import type { SourceConfig } from '../../config/load.js';
import {
  captureTimeFromExif,
  ExifParseError,
  readExif,
  readTextTag,
  type ExifFacts,
} from '../exif/exif-reader.js';
import {
  jpegExifExtent,
  jpegReachesEnd,
  sniffImageFormat,
  type ImageFormat,
  type JpegExifExtent,
} from '../exif/image-head.js';
import { walkWebpChunks, webpFileEnd } from '../exif/webp-chunks.js';
import { normalisePlate, plateHash } from '../plates/plates.js';
import type { ObjectState } from '../store/store.js';
import { describeS3Error, type ListedObject, type SourceStorage } from '../storage/s3-storage.js';

/** What the reader needs besides the object. */
export interface ReadContext {
  storage: SourceStorage;
  source: SourceConfig;
  bucket: string;
  timezone: string;
  headBytes: number;
  maxHeadBytes: number;
  plateHashKey: string | undefined;
  /** {@link readSettingsFingerprint} of this context, stored with each state read. */
  readSettings: string;
}

/**
 * The version of what the reader makes of an object's bytes, part of {@link readSettingsFingerprint}:
 * raise it when a change would read the same bytes differently, so that states read before it are
 * read again rather than kept for unchanged objects. 2: EXIF text ends at its NUL, UserComment is
 * read, a JPEG may be padded after its end marker. 3: a WebP's EXIF chunk is read; EXIF exifr
 * reports broken is a read error. 4: GIF, JPEG XL, JPEG 2000 and more HEIF brands are images;
 * UTF-16 UserComment in its file's byte order; EXIF with a broken block keeps its other values.
 */
export const READER_VERSION = 4;

/**
 * A fingerprint of the settings that shape what is read from an object: the reader's version, the
 * zone of EXIF times without an offset, the plate tag and the plate hash key, the violation
 * signals, and how far to read for the EXIF. A stored state whose fingerprint differs was read
 * under other settings and is read again (a corrected time zone or a rotated key must reach every
 * object, not only the ones that change). A SHA-256, so the key it includes cannot be read back
 * from the store.
 */
export function readSettingsFingerprint(
  ctx: Pick<ReadContext, 'source' | 'timezone' | 'maxHeadBytes' | 'plateHashKey'>,
  readerVersion: number = READER_VERSION,
): string {
  const settings = JSON.stringify([
    readerVersion,
    ctx.timezone,
    ctx.maxHeadBytes,
    ctx.plateHashKey ?? null,
    ctx.source.plateTag,
    ctx.source.violationSignal?.metadata ?? null,
    ctx.source.violationSignal?.exif ?? null,
  ]);
  return createHash('sha256').update(settings).digest('hex').slice(0, 32);
}

/** The result of reading one object: what to store, plus how many bytes it cost. */
export interface ReadResult {
  state: ObjectState;
  bytesRead: number;
  /** True when the read failed for a reason that may pass (throttling, network): not a finding. */
  transientError: string | null;
  /** True when the object was deleted between listing and reading: there is nothing to judge. */
  vanished?: boolean;
  /**
   * True when the server refused the read for good (access denied, an archived object): the state
   * carries the refusal as its read error, to be judged and reported, but not kept as what was read.
   */
  refused?: boolean;
}

/** S3 error codes that refuse one object for good: no retry, and no later attempt, changes them. */
const OBJECT_REFUSALS = new Set([
  'AccessDenied',
  'InvalidObjectState',
  'InvalidObjectName',
  'KeyTooLongError',
  'MethodNotAllowed',
]);

const TRUE_WORDS = new Set(['true', '1', 'yes', 'ja', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'nee', 'n']);

/** Reads a yes/no flag: true/false, 1/0, yes/no (and Dutch ja/nee); null for anything else. */
export function parseFlag(value: string | null | undefined): boolean | null {
  if (value === null || value === undefined) return null;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return null;
}

function emptyState(ctx: ReadContext, listed: ListedObject): ObjectState {
  return {
    source: ctx.source.id,
    bucket: ctx.bucket,
    key: listed.key,
    etag: listed.etag,
    size: listed.size,
    lastModified: listed.lastModified,
    isImage: false,
    readError: null,
    captureTime: null,
    captureTimeOrigin: null,
    exifCaptureTime: null,
    cameraMake: null,
    cameraModel: null,
    plateHash: null,
    signals: { metadata: null, exif: null },
    perceptualHash: null,
    readSettings: ctx.readSettings,
    copyOf: null,
  };
}

/**
 * The state of an object judged without reading it (`why` starts with "not read: "): nothing is
 * known of its bytes, so `unreadable-object` flags it and the retention rules fall back to its
 * LastModified. Never to be stored as what the object holds.
 */
export function notReadState(ctx: ReadContext, listed: ListedObject, why: string): ObjectState {
  return { ...emptyState(ctx, listed), readError: why };
}

/** Extra bytes to ask for when the head ends inside the markers: one small read, not many tiny ones. */
const EXTEND_MIN = 16 * 1024;

/**
 * Reads the head of `listed`: the first `headBytes`, then more only while the JPEG markers say the
 * EXIF segment (or the marker walk that leads to it) lies past what was read.
 */
interface Head {
  bytes: Buffer;
  /**
   * What EXIF is parsed from when not `bytes`: a WebP's EXIF chunk, read apart from the head, or
   * null for a WebP without one (exifr does not read WebP files themselves).
   */
  exif?: Buffer | null;
  /** Bytes fetched in all, when more than `bytes` holds. */
  bytesRead?: number;
  metadata: Record<string, string>;
  /** What the first bytes say the object is; null when no known image signature. */
  format: ImageFormat | null;
  /** For a JPEG, the marker walk over `bytes` (the last one made, so the caller need not walk again). */
  extent: JpegExifExtent | null;
  error?: string;
}

async function readHead(ctx: ReadContext, listed: ListedObject): Promise<Head> {
  const first = await ctx.storage.readRange(ctx.bucket, listed.key, 0, Math.min(listed.size, ctx.headBytes));
  const format = sniffImageFormat(first.bytes);
  if (format === 'webp') return readWebpExif(ctx, listed, first);
  // Formats exifr does not read: the image has no capture time to offer, which is no read error.
  if (format === 'gif' || format === 'jxl' || format === 'jp2') {
    return { ...first, format, extent: null, exif: null };
  }
  if (format !== 'jpeg') return { ...first, format, extent: null };
  const metadata = first.metadata;
  let bytes = first.bytes;
  for (;;) {
    const extent = jpegExifExtent(bytes);
    const needed = extent.kind === 'exif' ? extent.end : extent.kind === 'need-more' ? extent.atLeast : 0;
    if (needed <= bytes.length || bytes.length >= listed.size) {
      if (extent.kind === 'exif' && extent.end > listed.size) {
        return {
          bytes,
          metadata,
          format,
          extent,
          error: `truncated JPEG: its EXIF segment needs ${extent.end} bytes but the object has ${listed.size}`,
        };
      }
      return { bytes, metadata, format, extent };
    }
    if (needed > ctx.maxHeadBytes) {
      return {
        bytes,
        metadata,
        format,
        extent,
        error: `EXIF segment ends past scan.maxHeadBytes (${ctx.maxHeadBytes} bytes)`,
      };
    }
    const upTo = Math.min(listed.size, ctx.maxHeadBytes, Math.max(needed, bytes.length + EXTEND_MIN));
    const asked = upTo - bytes.length;
    const rest = await ctx.storage.readRange(ctx.bucket, listed.key, bytes.length, asked);
    bytes = Buffer.concat([bytes, rest.bytes]);
    // Fewer bytes than asked: the object is shorter than listed (rewritten since). Asking again would
    // get nothing more, so this is where its bytes end.
    if (rest.bytes.length < asked) {
      return {
        bytes,
        metadata,
        format,
        extent: jpegExifExtent(bytes),
        error: `the object ended after ${bytes.length} of the ${listed.size} bytes listed (changed while being read)`,
      };
    }
  }
}

/** Most reads past the head a WebP walk makes before it gives up on finding EXIF. */
const WEBP_MAX_HOPS = 4;

/**
 * A WebP's head and its EXIF chunk: the chunks are walked from the head, and bytes past it are read
 * only where a chunk header or the EXIF chunk lies (usually one read near the end of the file).
 */
async function readWebpExif(
  ctx: ReadContext,
  listed: ListedObject,
  first: Omit<Head, 'format' | 'extent'>,
): Promise<Head> {
  const head: Head = { ...first, format: 'webp', extent: null };
  const fileEnd = webpFileEnd(first.bytes, listed.size);
  let window = first.bytes;
  let windowStart = 0;
  let from = 12;
  let bytesRead = first.bytes.length;
  // No EXIF to parse from here on, with the reason when that is an error.
  const without = (error?: string): Head => ({ ...head, bytesRead, exif: null, ...(error ? { error } : {}) });
  for (let hop = 0; ; hop++) {
    const step = walkWebpChunks(window, windowStart, from, fileEnd);
    if (step.kind === 'none') return without();
    if (step.kind === 'corrupt') return without(`corrupt WebP: ${step.why}`);
    if (step.kind === 'exif') {
      return { ...head, bytesRead, exif: window.subarray(step.start - windowStart, step.end - windowStart) };
    }
    if (step.atLeast > ctx.maxHeadBytes) {
      return without(`WebP EXIF chunk is larger than scan.maxHeadBytes (${ctx.maxHeadBytes} bytes)`);
    }
    if (hop >= WEBP_MAX_HOPS) {
      return without(
        `no EXIF chunk found within ${WEBP_MAX_HOPS} reads past the head, though VP8X says there is one`,
      );
    }
    const length = Math.min(fileEnd - step.at, Math.max(step.atLeast, EXTEND_MIN));
    window = (await ctx.storage.readRange(ctx.bucket, listed.key, step.at, length)).bytes;
    windowStart = step.at;
    from = step.at;
    bytesRead += window.length;
  }
}

/** Applies what the EXIF says to the state: capture time, camera, signals, plate hash. */
function applyExif(state: ObjectState, facts: ExifFacts, ctx: ReadContext): void {
  state.cameraMake = facts.make;
  state.cameraModel = facts.model;
  const capture = captureTimeFromExif(facts, ctx.timezone);
  if (capture) {
    state.captureTime = capture.instant;
    state.captureTimeOrigin = capture.origin;
    state.exifCaptureTime = capture.raw;
  }
  const exifSignal = ctx.source.violationSignal?.exif;
  if (exifSignal !== undefined) state.signals.exif = parseFlag(readTextTag(facts, exifSignal));
  const plate = readTextTag(facts, ctx.source.plateTag);
  // A camera that read no plate may write "-" or " ": no plate, not an error.
  if (plate && normalisePlate(plate) !== '') state.plateHash = plateHash(plate, ctx.plateHashKey);
}

/** Whether reading `listed` asks the storage at all: a zero-byte object is judged from its listing. */
export function readAsksStorage(listed: ListedObject): boolean {
  return listed.size > 0;
}

/**
 * Reads one listed object into an ObjectState. Capture time stays null when EXIF has none: the
 * snapshot builder falls back to LastModified and the rules raise `missing-timestamp`.
 */
export async function readObject(ctx: ReadContext, listed: ListedObject): Promise<ReadResult> {
  const state = emptyState(ctx, listed);
  if (!readAsksStorage(listed)) {
    state.readError = 'zero-byte object: no image data';
    return { state, bytesRead: 0, transientError: null };
  }
  let head: Head;
  try {
    head = await readHead(ctx, listed);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchBucket') {
      // Deleted (or its whole bucket) between LIST and GET: the next scan will not list it; nothing
      // to judge now. A bucket deleted mid-scan fails the job's next listing, if one is left; after
      // the last page its objects count as deleted, which they are.
      return { state, bytesRead: 0, transientError: null, vanished: true };
    }
    const why = `cannot read object: ${describeS3Error(error)}`;
    // The server refused this object for good: judge it as unreadable, so that one object cannot
    // hold back every key after it (the bucket job would fail on its page at each attempt, and at
    // each scan). Any other failure may pass, and fails the job for a retry.
    if (code !== undefined && OBJECT_REFUSALS.has(code)) {
      state.readError = why;
      return { state, bytesRead: 0, transientError: null, refused: true };
    }
    return { state, bytesRead: 0, transientError: why };
  }
  try {
    await interpretHead(state, head, listed, ctx);
  } catch (error) {
    // Whatever one object's bytes do to a parser, they must not fail its page: the bucket job
    // would fail at every attempt and every scan, and no key after this one would be judged.
    state.readError ??= `cannot interpret the object: ${(error as Error)?.message ?? String(error)}`;
  }
  return { state, bytesRead: head.bytesRead ?? head.bytes.length, transientError: null };
}

/** Fills `state` from the head read: user metadata signal, image format, JPEG checks, EXIF. */
async function interpretHead(
  state: ObjectState,
  head: Head,
  listed: ListedObject,
  ctx: ReadContext,
): Promise<void> {
  const metadataSignal = ctx.source.violationSignal?.metadata;
  if (metadataSignal !== undefined) state.signals.metadata = parseFlag(head.metadata[metadataSignal]);

  const { format, extent } = head;
  if (format === null) {
    state.readError = 'not an image: the bytes do not start with a known image signature';
    return;
  }
  state.isImage = true;
  if (head.error) state.readError = head.error;
  else if (extent) {
    if (extent.kind === 'corrupt') state.readError = `corrupt JPEG: ${extent.why}`;
    // The whole object is in hand when it is smaller than the head: check that it ends properly.
    else if (head.bytes.length === listed.size && !jpegReachesEnd(head.bytes)) {
      state.readError = 'truncated JPEG: the object ends before the end-of-image marker';
    }
  }
  try {
    const exif = head.exif === undefined ? head.bytes : head.exif;
    const facts = exif === null ? null : await readExif(exif);
    if (facts?.parseError) state.readError ??= facts.parseError;
    if (facts) applyExif(state, facts, ctx);
  } catch (error) {
    if (!(error instanceof ExifParseError)) throw error;
    state.readError ??= error.message;
  }
}
