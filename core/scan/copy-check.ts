/**
 * Finds copies of production images outside production: an image in an undeclared or test-like
 * bucket that has the ETag of a production image, or a perceptual hash within a small Hamming
 * distance of one (re-encoded, resized or slightly cropped copies). Hashing needs the whole image,
 * so it runs only here, and every hash is kept in the store by (bucket, key, etag): computed once.
 *
 * Production may hold millions of images across sources, so nothing here holds production in
 * memory, and an image is hashed only when a copy could match it. A copy found once is kept with
 * the copy's state, so it stays a finding after its original is deleted (as edge devices must).
 */
import pLimit from 'p-limit';
import type { CopyMatch } from '../model.js';
import {
  hashWords,
  isUndecodableMark,
  perceptualHash,
  UNDECODABLE_MARK,
  wordsDistance,
  type HashWords,
} from '../images/perceptual-hash.js';
import { classifyBucketName } from '../rules/bucket-names.js';
import { captureWindow, corroborated, exifTime, storedMatchHolds } from './copy-match.js';
import type { BucketRef, CaptureWindow, ObjectState } from '../store/store.js';
import { describeS3Error } from '../storage/s3-storage.js';
import type { ScanDeps } from './scan-deps.js';

/** Whole images larger than this are not hashed (a camera JPEG is well under it). */
const MAX_HASH_BYTES = 32 * 1024 * 1024;
/** Suspicious images looked up together: one ETag query and one candidate query per batch. */
const COPY_BATCH = 200;
/**
 * Suspicious images that no look-up can narrow down are gathered up to this many for each pass over
 * the production images they could copy: one without an EXIF capture time (a stripped copy) could
 * copy any of them; one with a capture time that no production image shares could copy those without
 * one.
 */
const PASS_BATCH = 2000;
/** Production images per candidate page. */
const CANDIDATE_PAGE = 500;
/** Whole images read at once by the check (each up to MAX_HASH_BYTES in memory). */
const HASH_PARALLEL = 4;

/** A suspicious image and the production image it copies. */
export interface CopyHit {
  state: ObjectState;
  copyOf: CopyMatch;
}

export interface CopyCheckResult {
  /** Copies found (and handed to `onHits`). */
  found: number;
  errors: string[];
  /** Whole-image reads this check made (hashes not yet in the store). */
  hashed: number;
}

/** Production storage: the declared, not test-like buckets of every configured source. */
export function productionLocations(deps: ScanDeps): BucketRef[] {
  return deps.config.sources.flatMap((source) =>
    source.buckets
      .filter((bucket) => !classifyBucketName(bucket).testLike)
      .map((bucket) => ({ source: source.id, bucket })),
  );
}

/**
 * The production images a group of copies is compared with: those taken within their capture
 * windows, those without an EXIF capture time, or all.
 */
type Among = CaptureWindow[] | 'untimed' | 'all';

/** A suspicious image with its parsed hash, waiting for the production image nearest to it. */
interface Copy {
  state: ObjectState;
  words: HashWords;
  best: { original: ObjectState; distance: number } | null;
}

/** An object version as one string, for sets. */
const versionOf = (state: ObjectState): string =>
  JSON.stringify([state.source, state.bucket, state.key, state.etag]);

/** One run of the check: the hashing it does, and what went wrong. */
class CopyCheck {
  readonly errors: string[] = [];
  hashed = 0;
  private readonly hashing = pLimit(HASH_PARALLEL);
  /** Object versions this check could not fetch, by JSON of (source, bucket, key, etag). */
  private readonly unfetched = new Set<string>();
  readonly production: BucketRef[];
  private readonly maxDistance: number;

  constructor(private readonly deps: ScanDeps) {
    this.production = productionLocations(deps);
    this.maxDistance = deps.config.scan.copyMaxDistance;
  }

  /** Whether a copy found by an earlier scan still counts under today's config. */
  storedMatchHolds(match: CopyMatch): boolean {
    return storedMatchHolds(match, this.production, this.maxDistance);
  }

  /**
   * The copies among `kept` whose perceptual match the original's own state now contradicts: the
   * version matched is still stored, and a re-read of it (under corrected read settings) found a
   * capture time or plate that disagrees with the copy's. An original deleted, or replaced by
   * another image under its key (a camera that reuses names), contradicts nothing: the copy still
   * is a copy of what was production. An ETag match is proof on its own.
   */
  async contradicted(kept: ObjectState[]): Promise<Set<ObjectState>> {
    const byBucket = new Map<string, ObjectState[]>();
    for (const state of kept) {
      if (state.copyOf?.by !== 'perceptual-hash' || state.copyOf.etag === undefined) continue;
      const at = JSON.stringify([state.copyOf.source, state.copyOf.bucket]);
      const group = byBucket.get(at);
      if (group) group.push(state);
      else byBucket.set(at, [state]);
    }
    const found = new Set<ObjectState>();
    for (const copies of byBucket.values()) {
      const { source, bucket } = copies[0]!.copyOf!;
      const originals = await this.deps.store.getObjectStates(
        source,
        bucket,
        copies.map((copy) => copy.copyOf!.key),
      );
      for (const copy of copies) {
        const original = originals.get(copy.copyOf!.key);
        if (original && original.etag === copy.copyOf!.etag && !corroborated(copy, original)) {
          found.add(copy);
        }
      }
    }
    return found;
  }

  /** The perceptual hashes of these images, computed (a whole-image read each) where not stored. */
  async hashes(states: ObjectState[]): Promise<Array<string | null>> {
    return Promise.all(
      states.map((state) => {
        const known = this.knownHash(state);
        return known === undefined ? this.hashing(() => this.fetchHash(state)) : known;
      }),
    );
  }

  /** The hash this check has without a read (null: none to be had), or undefined: fetch it. */
  private knownHash(state: ObjectState): string | null | undefined {
    // An image that does not decode is still compared by ETag, and is not fetched whole again while
    // its bytes and the decoder stay the same.
    if (state.perceptualHash === UNDECODABLE_MARK) return null;
    if (state.perceptualHash && !isUndecodableMark(state.perceptualHash)) return state.perceptualHash;
    if (state.size > MAX_HASH_BYTES) return null;
    // An image that could not be fetched is a candidate of many batches and passes (one without an
    // EXIF time, of every pass): it is asked for once per check, and its error reported once.
    if (this.unfetched.has(versionOf(state))) return null;
    return undefined;
  }

  private async fetchHash(state: ObjectState): Promise<string | null> {
    try {
      const { storage, limit } = this.deps.source(state.source);
      const hash = await limit(async () => {
        const whole = await storage.readRange(state.bucket, state.key, 0, state.size);
        // Bytes that do not decode are the image's own fault, not the scan's: no error, and not
        // fetched again. (The reader reports what it found broken as unreadable-object.)
        return perceptualHash(whole.bytes).catch(() => UNDECODABLE_MARK);
      });
      await this.deps.store.setPerceptualHash(state.source, state.bucket, state.key, state.etag, hash);
      state.perceptualHash = hash;
      this.hashed += 1;
      return hash === UNDECODABLE_MARK ? null : hash;
    } catch (error) {
      this.unfetched.add(versionOf(state));
      const code = (error as { code?: string }).code;
      // Gone since it was listed (edge devices delete by design): nothing to compare, not an error.
      if (code === 'NoSuchKey' || code === 'NotFound') return null;
      this.errors.push(`perceptual hash of ${state.bucket}/${state.key} failed: ${describeS3Error(error)}`);
      return null;
    }
  }

  /** Compares the copies with the production images `among`, and returns those that matched. */
  async match(copies: Copy[], among: Among): Promise<CopyHit[]> {
    for (const location of this.production) {
      for await (const page of this.candidates(location, among)) {
        const hashes = await this.hashes(page);
        page.forEach((original, i) => {
          const hash = hashes[i];
          if (hash) this.compare(copies, original, hashWords(hash));
        });
      }
    }
    return copies.flatMap(({ state, best }) =>
      best === null
        ? []
        : [
            {
              state,
              copyOf: {
                source: best.original.source,
                bucket: best.original.bucket,
                key: best.original.key,
                etag: best.original.etag,
                by: 'perceptual-hash' as const,
                distance: best.distance,
              },
            },
          ],
    );
  }

  /** The images `among` a production bucket's, a page at a time. */
  private async *candidates(location: BucketRef, among: Among): AsyncGenerator<ObjectState[]> {
    const { store } = this.deps;
    if (typeof among === 'string') {
      let after: string | null = null;
      for (;;) {
        const page: ObjectState[] =
          among === 'all'
            ? await store.listObjectStates(location.source, location.bucket, after, CANDIDATE_PAGE)
            : await store.listUntimedImages(location, after, CANDIDATE_PAGE);
        yield page.filter((state) => state.isImage);
        if (page.length < CANDIDATE_PAGE) return;
        after = page[page.length - 1]!.key;
      }
    }
    const keys = await store.copyCandidateKeys(location, among);
    for (let i = 0; i < keys.length; i += CANDIDATE_PAGE) {
      const page = keys.slice(i, i + CANDIDATE_PAGE);
      const states = await store.getObjectStates(location.source, location.bucket, page);
      // In key order, so that the first of equally near originals wins as in a full pass.
      yield page.flatMap((key) => {
        const state = states.get(key);
        return state ? [state] : [];
      });
    }
  }

  /**
   * Keeps `original` as each copy's best match where it is the nearest so far: of equally near
   * originals, the first in the order of production's buckets in the config, then of keys. (Within
   * one look-up or pass: a copy placed by its capture window never goes on to a pass.)
   */
  private compare(copies: Copy[], original: ObjectState, words: HashWords): void {
    for (const copy of copies) {
      const distance = wordsDistance(copy.words, words);
      if (
        distance <= this.maxDistance &&
        (copy.best === null || distance < copy.best.distance) &&
        corroborated(copy.state, original)
      ) {
        copy.best = { original, distance };
      }
    }
  }
}

/** The images among a suspicious bucket's stored states, in batches of {@link COPY_BATCH}. */
async function* imageBatches(deps: ScanDeps, location: BucketRef): AsyncGenerator<ObjectState[]> {
  let after: string | null = null;
  for (;;) {
    const page = await deps.store.listObjectStates(location.source, location.bucket, after, COPY_BATCH);
    // Images whose EXIF could not be read (a format exifr does not parse, a broken segment) are
    // compared too: a re-encoded copy must not escape the check by the format it was saved in.
    const images = page.filter((state) => state.isImage);
    if (images.length > 0) yield images;
    if (page.length < COPY_BATCH) return;
    after = page[page.length - 1]!.key;
  }
}

/**
 * Compares every image of the suspicious buckets with the production images it could copy, and
 * hands the copies found to `onHits`, a batch at a time (a test environment may hold hundreds of
 * thousands of them). Cost per suspicious image: a look-up by ETag; if that finds nothing, its
 * perceptual hash (one whole-image GET the first time), then the production images taken within
 * seconds of it, each hashed once. Passes of up to {@link PASS_BATCH} images compare the rest: an
 * image with an EXIF time that matched none of those with the production images without one (an
 * original whose time agrees is preferred to one with no time to agree), an image without an EXIF
 * time with all of production. A copy found once is not looked for again while its bytes stay the
 * same.
 */
export async function findProductionCopies(
  deps: ScanDeps,
  suspicious: BucketRef[],
  onHits: (hits: CopyHit[]) => Promise<void>,
): Promise<CopyCheckResult> {
  const check = new CopyCheck(deps);
  let found = 0;
  const report = async (hits: CopyHit[]): Promise<void> => {
    if (hits.length === 0) return;
    for (const hit of hits) {
      const stored = hit.state.copyOf;
      if (stored === null || JSON.stringify(stored) !== JSON.stringify(hit.copyOf)) {
        await deps.store.setCopyOf(hit.state, hit.copyOf);
        hit.state.copyOf = hit.copyOf;
      }
    }
    found += hits.length;
    await onHits(hits);
  };
  if (suspicious.length === 0 || check.production.length === 0) return { found, errors: [], hashed: 0 };

  // Copies waiting for a pass over the production images they could copy (see PASS_BATCH).
  const waiting: Record<'untimed' | 'all', Copy[]> = { untimed: [], all: [] };
  const pass = async (among: 'untimed' | 'all', least: number): Promise<void> => {
    if (waiting[among].length < least) return;
    const copies = waiting[among];
    waiting[among] = [];
    await report(await check.match(copies, among));
  };
  for (const location of suspicious) {
    for await (const batch of imageBatches(deps, location)) {
      const hits: CopyHit[] = [];
      const open: ObjectState[] = [];
      const kept = batch.filter((state) => state.copyOf !== null && check.storedMatchHolds(state.copyOf));
      const contradicted = await check.contradicted(kept);
      const holding = new Set(kept.filter((state) => !contradicted.has(state)));
      for (const state of batch) {
        if (holding.has(state)) {
          hits.push({ state, copyOf: state.copyOf! });
          continue;
        }
        if (state.copyOf !== null) {
          // Found under another config (a wider copyMaxDistance, an original's bucket that was
          // production then), or against an original read differently since: looked for again, as
          // if never found.
          await deps.store.setCopyOf(state, null);
          state.copyOf = null;
        }
        open.push(state);
      }
      const byEtag = await deps.store.findImagesByEtag(
        check.production,
        open.map((state) => state.etag),
      );
      const unmatched: ObjectState[] = [];
      for (const state of open) {
        const same = byEtag.get(state.etag);
        if (same) {
          const { source, bucket, key, etag } = same;
          hits.push({ state, copyOf: { source, bucket, key, etag, by: 'etag', distance: 0 } });
        } else unmatched.push(state);
      }
      const hashes = await check.hashes(unmatched);
      const timed: Copy[] = [];
      unmatched.forEach((state, i) => {
        const hash = hashes[i];
        if (!hash) return;
        const copy: Copy = { state, words: hashWords(hash), best: null };
        (exifTime(state) === null ? waiting.all : timed).push(copy);
      });
      if (timed.length > 0) {
        hits.push(
          ...(await check.match(
            timed,
            timed.map((copy) => captureWindow(copy.state)),
          )),
        );
        waiting.untimed.push(...timed.filter((copy) => copy.best === null));
      }
      await report(hits);
      await pass('untimed', PASS_BATCH);
      await pass('all', PASS_BATCH);
    }
  }
  await pass('untimed', 1);
  await pass('all', 1);
  return { found, errors: check.errors, hashed: check.hashed };
}
