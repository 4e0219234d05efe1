/**
 * The order S3 lists keys in (strictly increasing UTF-8 bytes), checked page by page: key-range
 * shards, checkpoints and pruning all rest on it.
 */
import type { ListedObject } from '../storage/s3-storage.js';

/**
 * UTF-8 byte order, the order S3 lists keys in (JS compares strings by UTF-16 units). Compared unit
 * by unit without encoding either string: it runs for every key of every listing page.
 */
export function byteOrder(a: string, b: string): number {
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

/**
 * Where a UTF-16 unit sorts in UTF-8 byte order. UTF-16 units already sort as UTF-8 bytes do, but
 * for one pair: a surrogate (of a code point above U+FFFF, 4 UTF-8 bytes from F0) sorts before the
 * units U+E000-U+FFFF in UTF-16 and after them (3 bytes from EE) in UTF-8. Moving the surrogates
 * above those units mends it.
 */
function utf8Rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
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
