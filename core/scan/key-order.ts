/**
 * The order S3 lists keys in (strictly increasing UTF-8 bytes), checked page by page: key-range
 * shards, checkpoints and pruning all rest on it.
 */
import type { ListedObject } from '../storage/s3-storage.js';

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
  let previous = after === null ? null : Buffer.from(after);
  for (const object of objects) {
    const key = Buffer.from(object.key);
    if (previous !== null && Buffer.compare(previous, key) >= 0)
      return `key ${JSON.stringify(object.key)} follows ${JSON.stringify(previous.toString())}`;
    previous = key;
  }
  return null;
}
