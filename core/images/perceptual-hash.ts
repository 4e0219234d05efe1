/**
 * Perceptual hashes: 64-bit fingerprints of what a picture looks like, so a copy of a production photo
 * is recognised after a re-encode, a resize or a small crop changed every byte (and so the ETag).
 * Measurements and the choice of algorithm: core/images/README.md.
 */
import sharp from 'sharp';

/** Side of the greyscale thumbnail the DCT runs on. */
const DCT_SIZE = 32;
/** Side of the block of lowest frequencies kept: 8x8 = 64 bits. */
const KEPT = 8;

/** cos((2x + 1) u pi / 2N) for u in 0..KEPT-1 and x in 0..N-1, computed once. */
const COSINES: Float64Array[] = Array.from({ length: KEPT }, (_, u) =>
  Float64Array.from({ length: DCT_SIZE }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * DCT_SIZE))),
);

const HASH_PATTERN = /^[0-9a-f]{16}$/i;

/**
 * Decodes to a small greyscale thumbnail. `fit: 'fill'` squashes to a square instead of cropping, so a
 * resized copy (same aspect) lands on the same grid; shrink-on-load lets libjpeg decode at 1/8 scale,
 * which is most of why a hash costs milliseconds and not tens of them.
 */
async function greyThumbnail(bytes: Buffer, width: number, height: number): Promise<Uint8Array> {
  const { data, info } = await sharp(bytes)
    .autoOrient()
    .greyscale()
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return data;
  // Greyscale output normally has one channel; keep the first if libvips added alpha.
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i += 1) grey[i] = data[i * info.channels] ?? 0;
  return grey;
}

/** 64 booleans (row-major, most significant first) as 16 lower-case hex digits. */
function bitsToHex(bits: readonly boolean[]): string {
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble += 1) {
    let value = 0;
    for (let b = 0; b < 4; b += 1) value = (value << 1) | (bits[nibble * 4 + b] ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/**
 * DCT perceptual hash, the construction of Python's `imagehash.phash`: greyscale 32x32 thumbnail,
 * 2-D DCT-II, the 8x8 block of lowest frequencies (row-major, DC first), one bit per coefficient: above
 * the block's median. The DC bit is always 1; keeping the DC row and column anyway (pHash.org drops
 * them) measured better on crops, because the broad gradients they hold (sky above, asphalt below)
 * survive a crop while the 4-cycle frequencies the other layout adds do not. README.md has the figures.
 * Returns 16 lower-case hex digits.
 *
 * @throws when the bytes are not an image sharp can decode (callers record that per object).
 */
export async function perceptualHash(bytes: Buffer): Promise<string> {
  const pixels = await greyThumbnail(bytes, DCT_SIZE, DCT_SIZE);
  // Separable DCT, computing only the KEPT lowest frequencies in each direction.
  const rows = new Float64Array(DCT_SIZE * KEPT);
  for (let y = 0; y < DCT_SIZE; y += 1) {
    for (let u = 0; u < KEPT; u += 1) {
      const cos = COSINES[u] as Float64Array;
      let sum = 0;
      for (let x = 0; x < DCT_SIZE; x += 1) sum += (pixels[y * DCT_SIZE + x] ?? 0) * (cos[x] ?? 0);
      rows[y * KEPT + u] = sum;
    }
  }
  const coefficients: number[] = [];
  for (let v = 0; v < KEPT; v += 1) {
    const cos = COSINES[v] as Float64Array;
    for (let u = 0; u < KEPT; u += 1) {
      let sum = 0;
      for (let y = 0; y < DCT_SIZE; y += 1) sum += (rows[y * KEPT + u] ?? 0) * (cos[y] ?? 0);
      coefficients.push(sum);
    }
  }
  const sorted = [...coefficients].sort((a, b) => a - b);
  const median = ((sorted[31] ?? 0) + (sorted[32] ?? 0)) / 2;
  return bitsToHex(coefficients.map((c) => c > median));
}

/**
 * Difference hash: greyscale 9x8 thumbnail, one bit per horizontally adjacent pair (left brighter than
 * right). Cheaper than the DCT hash but weaker on crops; kept for the measurements in README.md.
 */
export async function differenceHash(bytes: Buffer): Promise<string> {
  const pixels = await greyThumbnail(bytes, 9, 8);
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y += 1) {
    for (let x = 0; x < 8; x += 1) bits.push((pixels[y * 9 + x] ?? 0) > (pixels[y * 9 + x + 1] ?? 0));
  }
  return bitsToHex(bits);
}

/**
 * What is kept in place of the hash of an image that does not decode, so that it is not fetched
 * whole again while its bytes stay the same. It names the decoder: a later sharp or libvips may
 * decode the image, and an image marked by another decoder is hashed again.
 */
export const UNDECODABLE_MARK = `undecodable by sharp ${sharp.versions.sharp ?? 'unknown'} (libvips ${sharp.versions.vips})`;

/** Whether a kept hash is the mark of an image that did not decode, by this decoder or another. */
export function isUndecodableMark(value: string): boolean {
  return value.startsWith('undecodable');
}

/** Whether a string is a 64-bit hash as these functions write it (16 hex digits). */
export function isPerceptualHash(value: string): boolean {
  return HASH_PATTERN.test(value);
}

function popcount32(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * Number of differing bits (0-64) between two 64-bit hashes of 16 hex digits.
 * @throws when either is not 16 hex digits: comparing malformed hashes would give a meaningless verdict.
 */
export function hammingDistance(a: string, b: string): number {
  return wordsDistance(hashWords(a), hashWords(b));
}

/** A 64-bit hash as its two 32-bit halves: parsed once, compared many times. */
export interface HashWords {
  readonly high: number;
  readonly low: number;
}

/**
 * Parses a hash of 16 hex digits into {@link HashWords}, for comparing one hash with many.
 * @throws when it is not 16 hex digits: comparing malformed hashes would give a meaningless verdict.
 */
export function hashWords(hash: string): HashWords {
  if (!HASH_PATTERN.test(hash)) {
    throw new Error(`expected a 16-hex-digit perceptual hash, got "${hash}"`);
  }
  return { high: parseInt(hash.slice(0, 8), 16), low: parseInt(hash.slice(8), 16) };
}

/** Number of differing bits (0-64) between two parsed hashes; as {@link hammingDistance}. */
export function wordsDistance(a: HashWords, b: HashWords): number {
  return popcount32((a.high ^ b.high) >>> 0) + popcount32((a.low ^ b.low) >>> 0);
}
