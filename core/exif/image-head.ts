/**
 * What the first bytes of an object say before any parser runs: the image format, and how many
 * bytes the EXIF segment needs (so a ranged read can ask for more only when it must). Pure.
 */

export type ImageFormat = 'jpeg' | 'png' | 'tiff' | 'heic' | 'webp' | 'gif' | 'jxl' | 'jp2';

/** ISO base media brands of still images and image sequences (HEIF, HEIC, AVIF). */
const HEIF_BRANDS = /^(heic|heix|hevc|hevx|heim|heis|hevm|hevs|mif1|msf1|avif|avis)$/;

/** Magic bytes at offset 0, per format; checked in order. */
const SIGNATURES: ReadonlyArray<[ImageFormat, Buffer]> = [
  ['jpeg', Buffer.from([0xff, 0xd8, 0xff])],
  ['png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['tiff', Buffer.from('II*\0', 'latin1')],
  ['tiff', Buffer.from('MM\0*', 'latin1')],
  ['gif', Buffer.from('GIF87a', 'latin1')],
  ['gif', Buffer.from('GIF89a', 'latin1')],
  // JPEG XL: the bare codestream, and the ISO container.
  ['jxl', Buffer.from([0xff, 0x0a])],
  ['jxl', Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])],
  ['jp2', Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a])],
];

/**
 * Recognises an image format by its magic bytes; null when the bytes are not an image format we
 * know. What is null is reported as not an image, and `violations-only` leaves it to
 * `unreadable-object`: every format a camera or a re-export writes belongs here.
 */
export function sniffImageFormat(head: Buffer): ImageFormat | null {
  for (const [format, magic] of SIGNATURES) {
    if (head.length >= magic.length && head.subarray(0, magic.length).equals(magic)) return format;
  }
  if (
    head.length >= 12 &&
    head.subarray(4, 8).toString('latin1') === 'ftyp' &&
    HEIF_BRANDS.test(head.subarray(8, 12).toString('latin1'))
  ) {
    return 'heic';
  }
  if (
    head.length >= 12 &&
    head.subarray(0, 4).toString('latin1') === 'RIFF' &&
    head.subarray(8, 12).toString('latin1') === 'WEBP'
  ) {
    return 'webp';
  }
  return null;
}

/** Where a JPEG's EXIF lives, as far as the head shows. */
export type JpegExifExtent =
  /** The EXIF APP1 segment ends at byte `end` (exclusive). */
  | { kind: 'exif'; end: number }
  /** The markers before the image data hold no EXIF. */
  | { kind: 'none' }
  /** The head ends before the markers tell: read more (at least `atLeast` bytes). */
  | { kind: 'need-more'; atLeast: number }
  /** The marker structure is broken. */
  | { kind: 'corrupt'; why: string };

/** Where a walk of the marker segments stopped, when no segment stopped it. */
type WalkEnd =
  /** At the first scan (SOS) or an end of image (EOI) marker, at byte `offset`. */
  | { kind: 'image-data'; offset: number }
  | { kind: 'need-more'; atLeast: number }
  | { kind: 'corrupt'; why: string };

/**
 * Walks the JPEG marker segments from SOI to the first scan, calling `visit` with each segment's
 * marker and byte range; stops at the first segment `visit` returns a value for.
 */
function walkSegments<T>(
  head: Buffer,
  visit: (marker: number, offset: number, end: number) => T | undefined,
): T | WalkEnd {
  let offset = 2;
  while (offset + 2 <= head.length) {
    if (head[offset] !== 0xff) return { kind: 'corrupt', why: `no JPEG marker at byte ${offset}` };
    const marker = head[offset + 1]!;
    // Fill bytes (0xFF 0xFF) may pad between segments.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return { kind: 'image-data', offset };
    if (offset + 4 > head.length) break;
    const length = head.readUInt16BE(offset + 2);
    if (length < 2) return { kind: 'corrupt', why: `segment length ${length} at byte ${offset}` };
    const end = offset + 2 + length;
    const found = visit(marker, offset, end);
    if (found !== undefined) return found;
    offset = end;
  }
  return { kind: 'need-more', atLeast: offset + 4 };
}

/**
 * Walks the JPEG marker segments from SOI to the first scan, looking for the APP1 "Exif" segment.
 * Cameras put EXIF first, so this usually stops within the first few dozen bytes.
 */
export function jpegExifExtent(head: Buffer): JpegExifExtent {
  const found = walkSegments<JpegExifExtent>(head, (marker, offset, end) => {
    if (marker !== 0xe1) return undefined;
    if (head.length < offset + 10) return { kind: 'need-more', atLeast: offset + 10 };
    return head.subarray(offset + 4, offset + 10).toString('latin1') === 'Exif\0\0'
      ? { kind: 'exif', end }
      : undefined;
  });
  // Start of scan or end of image: no EXIF before the image data.
  return found.kind === 'image-data' ? { kind: 'none' } : found;
}

const END_OF_IMAGE = Buffer.from([0xff, 0xd9]);

/**
 * Whether a whole JPEG in `bytes` reaches its end-of-image marker. It is looked for after the
 * first scan begins (a thumbnail inside EXIF has its own), and may be followed by padding or a
 * trailer: a file cut short has none.
 */
export function jpegReachesEnd(bytes: Buffer): boolean {
  const walked = walkSegments<never>(bytes, () => undefined);
  if (walked.kind !== 'image-data') return false;
  return bytes.indexOf(END_OF_IMAGE, walked.offset) !== -1;
}
