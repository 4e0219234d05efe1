/**
 * What makes one image a copy of another beyond their hashes, and when a copy found once still
 * counts: pure rules of the copy check (`copy-check.ts`), free of the store and of S3.
 */
import type { CopyMatch } from '../model.js';
import type { BucketRef, CaptureWindow, ObjectState } from '../store/store.js';

/** Capture times within this are the same capture (as the register matching window). */
export const SAME_CAPTURE_MS = 2000;

/** The EXIF capture time of an image; null when only LastModified (or nothing) is known. */
export const exifTime = (state: ObjectState): Date | null =>
  state.captureTimeOrigin === 'last-modified' ? null : state.captureTime;

/**
 * Whether EXIF leaves `original` possible as the source of `copy`. A 64-bit hash of a whole road
 * scene cannot see a plate (about 1 % of the picture): two passages of different cars in the same
 * camera view hash alike. So a hash match must not be contradicted by what EXIF says: when both
 * images carry a capture time, those are within {@link SAME_CAPTURE_MS}, and when both carry a
 * plate, the plates are the same. An image whose EXIF was stripped has nothing to contradict the
 * hash, and the hash decides.
 */
export function corroborated(copy: ObjectState, original: ObjectState): boolean {
  const copyTime = exifTime(copy);
  const originalTime = exifTime(original);
  if (copyTime && originalTime && Math.abs(copyTime.getTime() - originalTime.getTime()) > SAME_CAPTURE_MS) {
    return false;
  }
  if (copy.plateHash && original.plateHash && copy.plateHash !== original.plateHash) return false;
  return true;
}

/**
 * The capture window of an image with an EXIF capture time: the production images that
 * {@link corroborated} allows as its original and that carry a capture time lie in it. Throws for
 * an image without one.
 */
export function captureWindow(copy: ObjectState): CaptureWindow {
  const time = exifTime(copy)?.getTime();
  if (time === undefined) throw new Error(`${copy.bucket}/${copy.key} has no EXIF capture time`);
  return {
    from: new Date(time - SAME_CAPTURE_MS),
    to: new Date(time + SAME_CAPTURE_MS),
    plateHash: copy.plateHash,
  };
}

/**
 * Whether a copy found by an earlier scan still counts: its original's bucket is still production
 * (config may have dropped or renamed it), and a perceptual match is within today's distance.
 */
export function storedMatchHolds(match: CopyMatch, production: BucketRef[], maxDistance: number): boolean {
  if (!production.some((p) => p.source === match.source && p.bucket === match.bucket)) return false;
  return match.by === 'etag' || match.distance <= maxDistance;
}
