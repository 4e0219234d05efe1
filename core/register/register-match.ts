/**
 * Matches an image against the municipality's register of processed violations. Pure and fast: the
 * index is built once per register, and each image costs a handful of map look-ups, not a scan of
 * every row, because vendor buckets hold hundreds of thousands of images.
 */
import type { RegisterMatch } from '../model.js';
import type { RegisterEntry } from './register-entry.js';

/**
 * How far apart the register's capture time and the image's may be to count as the same capture.
 * The back office often records whole seconds while EXIF carries sub-seconds, and the two clocks
 * are not the same one; two seconds absorbs that without letting neighbouring passages match.
 */
export const MATCH_WINDOW_MS = 2000;

/** The register, indexed for {@link matchRegister}. Build with {@link buildRegisterIndex}. */
export interface RegisterIndex {
  /** Rows by source and object key. */
  readonly byKey: ReadonlySet<string>;
  /** Capture times (ms) by source, plate hash and {@link MATCH_WINDOW_MS}-wide time slot. */
  readonly byTime: ReadonlyMap<string, readonly number[]>;
  /** Rows indexed. */
  readonly size: number;
}

/** What {@link matchRegister} needs to know about one image. */
export interface RegisterQuery {
  /** The configured source id the image was found on. */
  source: string;
  /** The object key. */
  key: string;
  /**
   * The image's capture time from EXIF. Pass null when only LastModified is known: the register
   * records when the camera took the photo, and LastModified is a different event.
   */
  captureTime: Date | null;
  /** ObjectSnapshot.plateHash: plateHash() of the plate read from the image, with the same key. */
  plateHash: string | null;
}

// NUL cannot occur in a source id, an object key as exported, or a hex hash, so joined keys are unique.
// Keys are compared in NFC: a back office exports `Maastricht/Ü…` composed, while a client on macOS
// may have stored the object decomposed (U + combining diaeresis); S3 keeps the bytes it was given.
const keyOf = (source: string, key: string): string => `${source}\u0000${key.normalize('NFC')}`;
const slotOf = (source: string, hash: string, slot: number): string => `${source}\u0000${hash}\u0000${slot}`;

/**
 * Indexes register entries by (source, key) and by (source, plate hash, time slot). An entry whose
 * local capture time was ambiguous (autumn DST repeat) is indexed at both instants.
 */
export function buildRegisterIndex(entries: Iterable<RegisterEntry>): RegisterIndex {
  const byKey = new Set<string>();
  const byTime = new Map<string, number[]>();
  let size = 0;
  for (const entry of entries) {
    size += 1;
    if (entry.key !== null) byKey.add(keyOf(entry.source, entry.key));
    if (entry.plateHash === null) continue;
    for (const time of [entry.captureTime, entry.captureTimeLater]) {
      if (time === null) continue;
      const ms = time.getTime();
      const slot = slotOf(entry.source, entry.plateHash, Math.floor(ms / MATCH_WINDOW_MS));
      const times = byTime.get(slot);
      if (times === undefined) byTime.set(slot, [ms]);
      else times.push(ms);
    }
  }
  return { byKey, byTime, size };
}

/**
 * Whether the register holds this image: by the same source and object key, or by the same
 * source, the same plate hash and capture times at most {@link MATCH_WINDOW_MS} apart (2.000 s
 * matches, 2.001 s does not). A key match is tried first, being the stronger evidence. Both
 * require the same source: an object key or a plate at the same moment on another source is
 * another image.
 */
export function matchRegister(index: RegisterIndex, query: RegisterQuery): RegisterMatch {
  if (index.byKey.has(keyOf(query.source, query.key))) return { matched: true, by: 'key' };
  if (query.captureTime === null || query.plateHash === null) return { matched: false, by: null };
  const ms = query.captureTime.getTime();
  const slot = Math.floor(ms / MATCH_WINDOW_MS);
  // A time within the window lies in this slot or a neighbouring one, since slots are as wide as the window.
  for (const candidate of [slot - 1, slot, slot + 1]) {
    const times = index.byTime.get(slotOf(query.source, query.plateHash, candidate));
    if (times?.some((time) => Math.abs(time - ms) <= MATCH_WINDOW_MS)) {
      return { matched: true, by: 'capture-time+plate' };
    }
  }
  return { matched: false, by: null };
}
