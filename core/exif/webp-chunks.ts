/**
 * Where a WebP keeps its EXIF: RIFF chunks after the 12-byte header, each a four-character code, a
 * little-endian size and the data (padded to an even length). An extended WebP (VP8X first, its
 * flags saying EXIF) carries an `EXIF` chunk, usually after the image data, so near the end of the
 * file: the walk says which bytes to read next instead of reading the whole image. Pure.
 */

/** What the bytes in hand say about a WebP's EXIF chunk. Offsets count from the start of the file. */
export type WebpExifStep =
  /** The EXIF chunk's TIFF data is bytes [start, end) (an "Exif\0\0" prefix some writers add is skipped). */
  | { kind: 'exif'; start: number; end: number }
  /** The file carries no EXIF (a simple WebP, or VP8X flags without EXIF, or no EXIF chunk at all). */
  | { kind: 'none' }
  /** Bytes [at, at + atLeast) are needed to go on: a chunk header, or the EXIF chunk itself. */
  | { kind: 'need-more'; at: number; atLeast: number }
  | { kind: 'corrupt'; why: string };

const HEADER = 12;
/** VP8X flags bit that says an EXIF chunk is present. */
const VP8X_EXIF_FLAG = 0x08;
const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');

/**
 * Walks the chunks from `from` (12 for the first) over `window`, the file's bytes from offset
 * `windowStart`, until the EXIF chunk, its absence, or a chunk outside the window.
 * @param fileSize the object's size: a RIFF size past it is a truncated file, read no further.
 */
export function walkWebpChunks(
  window: Buffer,
  windowStart: number,
  from: number,
  fileSize: number,
): WebpExifStep {
  const at = (offset: number): number => offset - windowStart;
  let pos = from;
  while (pos + 8 <= fileSize) {
    if (at(pos) < 0 || at(pos) + 8 > window.length) return { kind: 'need-more', at: pos, atLeast: 8 };
    const code = window.subarray(at(pos), at(pos) + 4).toString('latin1');
    const size = window.readUInt32LE(at(pos) + 4);
    const dataStart = pos + 8;
    if (dataStart + size > fileSize)
      return { kind: 'corrupt', why: `chunk ${code} at byte ${pos} ends past the file` };
    if (code === 'EXIF') {
      if (at(dataStart) + size > window.length) return { kind: 'need-more', at: pos, atLeast: 8 + size };
      const data = window.subarray(at(dataStart), at(dataStart) + size);
      const skip = data.subarray(0, EXIF_PREFIX.length).equals(EXIF_PREFIX) ? EXIF_PREFIX.length : 0;
      return { kind: 'exif', start: dataStart + skip, end: dataStart + size };
    }
    if (pos === HEADER) {
      // A simple (lossy or lossless) WebP has no room for EXIF; an extended one says whether it has.
      if (code === 'VP8 ' || code === 'VP8L') return { kind: 'none' };
      if (code !== 'VP8X')
        return { kind: 'corrupt', why: `first chunk is ${JSON.stringify(code)}, not VP8/VP8L/VP8X` };
      if (at(dataStart) >= window.length) return { kind: 'need-more', at: pos, atLeast: 9 };
      if ((window[at(dataStart)]! & VP8X_EXIF_FLAG) === 0) return { kind: 'none' };
    }
    pos = dataStart + size + (size % 2);
  }
  return { kind: 'none' };
}

/** Whether a head is a WebP's, and the end of its RIFF data (capped at `fileSize`). */
export function webpFileEnd(head: Buffer, fileSize: number): number {
  if (head.length < HEADER) return fileSize;
  return Math.min(fileSize, 8 + head.readUInt32LE(4));
}
