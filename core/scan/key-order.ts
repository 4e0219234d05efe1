/**
 * The order S3 lists keys in (strictly increasing UTF-8 bytes), checked page by page: key-range
 * shards, checkpoints and pruning all rest on it.
 */
import type { ListedObject } from '../storage/s3-storage.js';

/** UTF-8 byte order, the order S3 lists keys in (JS compares strings by UTF-16 units). */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A listing page whose keys are not in S3's order (see keyOrderProblem): no retry changes it. */
export class KeyOrderError extends Error {
  override name = 'KeyOrderError';
}

/**
 * Why a page's keys are not in the order S3 lists them (strictly increasing UTF-8 bytes, all after
 * the key the page started after), or null. Shards, checkpoints and pruning rest on that order: a
 * server, proxy or parser that breaks it would let objects drop out of the scan unseen, so such a
 * page fails its bucket job at once (the bucket is then `incomplete`).
 */
export function keyOrderProblem(objects: ListedObject[], after: string | null): string | null {
  let previous = after;
  for (const { key } of objects) {
    if (previous !== null && byteOrder(previous, key) >= 0)
      return `key ${JSON.stringify(key)} follows ${JSON.stringify(previous)}`;
    previous = key;
  }
  return null;
}
