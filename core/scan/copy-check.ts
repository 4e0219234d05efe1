/**
 * Finds copies of production images outside production: an image in an undeclared or test-like
 * bucket that has the ETag of a production image, or a perceptual hash within a small Hamming
 * distance of one (re-encoded, resized or slightly cropped copies). Hashing needs the whole image,
 * so it runs only here, and every hash is kept in the store by (bucket, key, etag): computed once.
 */
import type { CopyMatch } from '../model.js';
import { hammingDistance, perceptualHash } from '../images/perceptual-hash.js';
import { classifyBucketName } from '../rules/bucket-names.js';
import type { ObjectState } from '../store/store.js';
import { describeS3Error } from '../storage/s3-storage.js';
import type { ScanDeps } from './scan-deps.js';

/** Whole images larger than this are not hashed (a camera JPEG is well under it). */
const MAX_HASH_BYTES = 32 * 1024 * 1024;
const PAGE = 500;

interface HashedImage {
  source: string;
  bucket: string;
  key: string;
  etag: string;
  /** Null when it could not be hashed (undecodable, too large): compared by ETag only. */
  hash: string | null;
  captureTime: Date | null;
  plateHash: string | null;
}

/** Capture times within this are the same capture (as the register matching window). */
const SAME_CAPTURE_MS = 2000;

/**
 * A 64-bit hash of a whole road scene cannot see a plate (about 1 % of the picture): two passages
 * of different cars in the same camera view hash alike. So a hash match must not be contradicted by
 * what EXIF says: when both images carry a capture time, or both a plate, those must agree. An image
 * whose EXIF was stripped has nothing to contradict the hash, and the hash decides.
 */
function corroborated(copy: ObjectState, original: HashedImage): boolean {
  const copyTime = copy.captureTimeOrigin === 'last-modified' ? null : copy.captureTime;
  if (
    copyTime &&
    original.captureTime &&
    Math.abs(copyTime.getTime() - original.captureTime.getTime()) > SAME_CAPTURE_MS
  ) {
    return false;
  }
  if (copy.plateHash && original.plateHash && copy.plateHash !== original.plateHash) return false;
  return true;
}

/** A suspicious image and the production image it copies. */
export interface CopyHit {
  state: ObjectState;
  copyOf: CopyMatch;
}

export interface CopyCheckResult {
  hits: CopyHit[];
  errors: string[];
  /** Whole-image reads this check made (hashes not yet in the store). */
  hashed: number;
}

/** Production storage: the declared, not test-like buckets of every configured source. */
export function productionLocations(deps: ScanDeps): Array<{ source: string; bucket: string }> {
  return deps.config.sources.flatMap((source) =>
    source.buckets
      .filter((bucket) => !classifyBucketName(bucket).testLike)
      .map((bucket) => ({ source: source.id, bucket })),
  );
}

/**
 * Kept as the perceptual hash of an image that does not decode, so that it is not fetched whole
 * again at every scan while its bytes stay the same. Such an image can still be copied byte for
 * byte: its ETag is compared all the same.
 */
const UNDECODABLE = 'undecodable';

async function ensureHash(deps: ScanDeps, state: ObjectState, errors: string[]): Promise<string | null> {
  if (state.perceptualHash === UNDECODABLE) return null;
  if (state.perceptualHash) return state.perceptualHash;
  if (state.size > MAX_HASH_BYTES) return null;
  try {
    const { storage, limit } = deps.source(state.source);
    const hash = await limit(async () => {
      const whole = await storage.readRange(state.bucket, state.key, 0, state.size);
      // Bytes that do not decode are the image's own fault, not the scan's: no error, and not
      // fetched again. (The reader reports what it found broken as unreadable-object.)
      return perceptualHash(whole.bytes).catch(() => UNDECODABLE);
    });
    await deps.store.setPerceptualHash(state.source, state.bucket, state.key, state.etag, hash);
    state.perceptualHash = hash;
    return hash === UNDECODABLE ? null : hash;
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Gone since it was listed (edge devices delete by design): nothing to compare, not an error.
    if (code === 'NoSuchKey' || code === 'NotFound') return null;
    errors.push(`perceptual hash of ${state.bucket}/${state.key} failed: ${describeS3Error(error)}`);
    return null;
  }
}

async function* imageStates(deps: ScanDeps, source: string, bucket: string): AsyncGenerator<ObjectState> {
  let after: string | null = null;
  for (;;) {
    const page = await deps.store.listObjectStates(source, bucket, after, PAGE);
    // Images whose EXIF could not be read (a format exifr does not parse, a broken segment) are
    // compared too: a re-encoded copy must not escape the check by the format it was saved in.
    for (const state of page) if (state.isImage) yield state;
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.key;
  }
}

/**
 * Compares every image of the suspicious buckets with every production image.
 * Cost: one whole-image GET + hash per image not hashed before (production and suspicious), then a
 * linear comparison of 64-bit hashes (cheap: millions per second).
 */
export async function findProductionCopies(
  deps: ScanDeps,
  suspicious: Array<{ source: string; bucket: string }>,
): Promise<CopyCheckResult> {
  const errors: string[] = [];
  const hits: CopyHit[] = [];
  if (suspicious.length === 0) return { hits, errors, hashed: 0 };
  let hashed = 0;
  const byEtag = new Map<string, HashedImage>();
  const production: Array<HashedImage & { hash: string }> = [];
  for (const location of productionLocations(deps)) {
    for await (const state of imageStates(deps, location.source, location.bucket)) {
      const had = state.perceptualHash !== null;
      const hash = await ensureHash(deps, state, errors);
      if (!had && state.perceptualHash !== null) hashed += 1;
      const image: HashedImage = {
        source: state.source,
        bucket: state.bucket,
        key: state.key,
        etag: state.etag,
        hash,
        captureTime: state.captureTimeOrigin === 'last-modified' ? null : state.captureTime,
        plateHash: state.plateHash,
      };
      byEtag.set(state.etag, image);
      if (hash) production.push({ ...image, hash });
    }
  }
  const maxDistance = deps.config.scan.copyMaxDistance;
  for (const location of suspicious) {
    for await (const state of imageStates(deps, location.source, location.bucket)) {
      const same = byEtag.get(state.etag);
      if (same) {
        hits.push({
          state,
          copyOf: { source: same.source, bucket: same.bucket, key: same.key, by: 'etag', distance: 0 },
        });
        continue;
      }
      const had = state.perceptualHash !== null;
      const hash = await ensureHash(deps, state, errors);
      if (!had && state.perceptualHash !== null) hashed += 1;
      if (!hash) continue;
      let best: { image: HashedImage; distance: number } | null = null;
      for (const image of production) {
        const distance = hammingDistance(hash, image.hash);
        if (
          distance <= maxDistance &&
          (best === null || distance < best.distance) &&
          corroborated(state, image)
        ) {
          best = { image, distance };
        }
      }
      if (best) {
        const { source, bucket, key } = best.image;
        hits.push({ state, copyOf: { source, bucket, key, by: 'perceptual-hash', distance: best.distance } });
      }
    }
  }
  return { hits, errors, hashed };
}
