/**
 * Shards for the first scan of a bucket, before any of its keys is known: key ranges cut at the
 * bucket's folders (the common prefixes of delimiter listings), so several workers share even the
 * first scan of a large bucket. Later scans cut at keys learned from the earlier one
 * (source-discovery.ts).
 */
import type { KeyRange } from '../queue/jobs.js';
import { byteOrder } from './key-order.js';

/** Lists the folders directly under a prefix ('' is the bucket's root), as far as one page shows. */
export type ListFolders = (prefix: string) => Promise<string[]>;

/** How deep below the root the cut may go (cameras, dates, hours...). */
const MAX_DEPTH = 4;

/**
 * Cuts a bucket into at most `maxShards` key ranges that begin at its folders, or returns null when
 * it shows no two folders. Goes down from the root level by level (each folder replaced by the
 * folders under it, a folder without any kept as it is), at most four levels deep and with at most
 * 2 x `maxShards` listings, to the finest level that has at most `maxShards` folders; when already
 * the first level with two folders has more, they are grouped evenly in key order.
 *
 * The ranges are key ranges, not prefixes: together they hold every key of the bucket exactly once
 * whatever the folder listings say (objects beside folders, a listing cut off after a page, or a
 * server that leaves folders out), so a wrong listing can only make the shards uneven, never lose an
 * object. The price: a range's last listing page may run past its end (up to a page per shard).
 * A listing that throws is not caught: the caller scans the bucket as one shard.
 */
export async function planFolderShards(list: ListFolders, maxShards: number): Promise<KeyRange[] | null> {
  if (maxShards < 2) return null;
  let listings = 0;
  let level = [''];
  let cut: string[] = [];
  for (let depth = 0; depth < MAX_DEPTH && cut.length < maxShards; depth++) {
    if (listings + level.length > 2 * maxShards) break;
    const next: string[] = [];
    let deeper = false;
    for (const prefix of level) {
      listings++;
      const folders = await list(prefix);
      if (folders.length > 0) {
        next.push(...folders);
        deeper = true;
      } else if (prefix !== '') {
        next.push(prefix);
      }
      if (next.length > maxShards) break;
    }
    if (!deeper) break;
    if (next.length > maxShards) {
      // Too fine: keep the coarser cut, unless there was none yet.
      if (cut.length < 2) cut = next;
      break;
    }
    cut = next;
    level = next;
  }
  // Sorted and without repeats: a server may list folders out of order or twice.
  const folders = [...new Set(cut)].sort(byteOrder);
  return folders.length < 2 ? null : groupedRanges(folders, maxShards);
}

/**
 * At most `maxShards` key ranges over `folders` (distinct, in byte order), each starting after a
 * folder's name: the first holds everything up to its end, the last everything after its start.
 * Ranges (startAfter, endAt] at any boundaries hold every key exactly once.
 */
export function groupedRanges(folders: string[], maxShards: number): KeyRange[] {
  const groups = Math.min(maxShards, folders.length);
  const ranges: KeyRange[] = [];
  let startAfter: string | null = null;
  for (let group = 1; group < groups; group++) {
    const boundary = folders[Math.floor((group * folders.length) / groups)]!;
    ranges.push({ startAfter, endAt: boundary });
    startAfter = boundary;
  }
  ranges.push({ startAfter, endAt: null });
  return ranges;
}
