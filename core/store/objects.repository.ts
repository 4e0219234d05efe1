/** What the auditor read from each object version, so an unchanged object is never fetched again. */
import type { Db } from './db.js';
import { clampLimit, isoParam, toObjectState, type ObjectRow } from './rows.js';
import type { CopyMatch } from '../model.js';
import type { BucketRef, CaptureWindow, ObjectState, ObjectVersion } from './store.js';

/** Keys per SELECT of `getObjectStates` and rows per INSERT of `putObjectStates`. */
export const OBJECT_KEYS_BATCH = 1000;
export const OBJECT_BATCH = 500;

const OBJECT_COLUMNS = `source, bucket, key, etag, size, last_modified, is_image, read_error, capture_time, capture_time_origin,
  exif_capture_time, camera_make, camera_model, plate_hash, signals, perceptual_hash, read_settings, copy_of`;

const PUT_SQL = `
INSERT INTO objects (source, bucket, key, etag, size, last_modified, is_image, read_error, capture_time,
  capture_time_origin, exif_capture_time, camera_make, camera_model, plate_hash, signals, perceptual_hash,
  read_settings, copy_of, updated_at)
SELECT *, now() FROM unnest(
  $1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[], $7::boolean[],
  $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
  $15::jsonb[], $16::text[], $17::text[], $18::jsonb[]
)
ON CONFLICT (source, bucket, key) DO UPDATE SET
  etag = EXCLUDED.etag,
  size = EXCLUDED.size,
  last_modified = EXCLUDED.last_modified,
  is_image = EXCLUDED.is_image,
  read_error = EXCLUDED.read_error,
  capture_time = EXCLUDED.capture_time,
  capture_time_origin = EXCLUDED.capture_time_origin,
  exif_capture_time = EXCLUDED.exif_capture_time,
  camera_make = EXCLUDED.camera_make,
  camera_model = EXCLUDED.camera_model,
  plate_hash = EXCLUDED.plate_hash,
  signals = EXCLUDED.signals,
  perceptual_hash = EXCLUDED.perceptual_hash,
  read_settings = EXCLUDED.read_settings,
  -- What an object copies is decided here, not by the writer's state (which may be older than a
  -- copy check that ran meanwhile): kept while the bytes and what EXIF says of the capture stay the
  -- same (a re-read under new settings may find another plate or time, which the match rested on).
  copy_of = CASE
    WHEN objects.etag = EXCLUDED.etag AND objects.size = EXCLUDED.size
      AND objects.capture_time IS NOT DISTINCT FROM EXCLUDED.capture_time
      AND objects.capture_time_origin IS NOT DISTINCT FROM EXCLUDED.capture_time_origin
      AND objects.plate_hash IS NOT DISTINCT FROM EXCLUDED.plate_hash
    THEN objects.copy_of
  END,
  updated_at = EXCLUDED.updated_at`;

function columns(batch: ObjectState[]): unknown[] {
  return [
    batch.map((o) => o.source),
    batch.map((o) => o.bucket),
    batch.map((o) => o.key),
    batch.map((o) => o.etag),
    batch.map((o) => o.size),
    batch.map((o) => isoParam(o.lastModified)),
    batch.map((o) => o.isImage),
    batch.map((o) => o.readError),
    batch.map((o) => isoParam(o.captureTime)),
    batch.map((o) => o.captureTimeOrigin),
    batch.map((o) => o.exifCaptureTime),
    batch.map((o) => o.cameraMake),
    batch.map((o) => o.cameraModel),
    batch.map((o) => o.plateHash),
    batch.map((o) => JSON.stringify({ metadata: o.signals.metadata, exif: o.signals.exif })),
    batch.map((o) => o.perceptualHash),
    batch.map((o) => o.readSettings),
    // A new row copies nothing yet; see copy_of in PUT_SQL for a row that exists.
    batch.map(() => null),
  ];
}

// One index look-up per bucket and ETag (objects_image_etag_idx), written so that the planner needs no
// statistics, as CANDIDATE_KEYS_SQL below.
const ETAG_SQL = `
SELECT DISTINCT ON (etag) ${OBJECT_COLUMNS}
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS location(in_source, in_bucket, in_position)
CROSS JOIN unnest($3::text[]) AS wanted(in_etag)
CROSS JOIN LATERAL (
  SELECT o.* FROM objects o
  WHERE o.source = location.in_source AND o.bucket = location.in_bucket AND o.is_image AND o.etag = wanted.in_etag
  OFFSET 0
) AS found
ORDER BY etag, in_position, key`;

// One index range scan per window (objects_exif_time_idx: source and bucket, then the time). Plans
// that need no table statistics (PGlite never gathers any): without them the planner took the table
// for one row and joined the windows to a scan of the whole bucket (3 s for 200 windows over 50,000
// images, against 3 ms). OFFSET 0 keeps the subquery from being pulled up into that join.
const CANDIDATE_KEYS_SQL = `
SELECT DISTINCT c.key FROM unnest($3::timestamptz[], $4::timestamptz[], $5::text[]) AS w(from_time, to_time, plate_hash)
CROSS JOIN LATERAL (
  SELECT o.key FROM objects o
  WHERE o.source = $1 AND o.bucket = $2 AND o.is_image
    AND o.capture_time_origin IN ('exif-offset', 'exif-local')
    AND o.capture_time BETWEEN w.from_time AND w.to_time
    AND (w.plate_hash IS NULL OR o.plate_hash IS NULL OR o.plate_hash = w.plate_hash)
  OFFSET 0
) AS c
ORDER BY 1`;

// One primary-key look-up per key, whatever the statistics. PostgreSQL 15 without statistics (a table
// just filled, before autovacuum analyzes it) read `key = ANY(...)` as a filter over an index scan
// of the whole bucket: 42 ms for 200 keys among 200,000 objects, against 2.7 ms so. PGlite planned
// ANY well and pays a little for this (24.4 against 20.7 ms per 1,000 stored keys among 100,000;
// 3.6 against 1.4 ms for 1,000 new ones): a few microseconds per object scanned, against a cost
// that grew with the bucket.
const STATES_BY_KEY_SQL = `
SELECT o.* FROM unnest($3::text[]) AS wanted(key)
CROSS JOIN LATERAL (
  SELECT ${OBJECT_COLUMNS} FROM objects
  WHERE source = $1 AND bucket = $2 AND key = wanted.key
  OFFSET 0
) AS o`;

// Its condition is objects_untimed_image_idx's own, so the index serves it in key order.
const UNTIMED_IMAGES_SQL = `
SELECT ${OBJECT_COLUMNS} FROM objects
WHERE source = $1 AND bucket = $2 AND is_image
  AND (capture_time_origin IS NULL OR capture_time_origin = 'last-modified')
  AND ($3::text IS NULL OR key > $3::text)
ORDER BY key
LIMIT $4`;

/** Implements the object-state methods of `Store`. */
export class ObjectsRepository {
  constructor(private readonly db: Db) {}

  /**
   * See `Store.getObjectStates`: one query per {@link OBJECT_KEYS_BATCH} keys. Keys the store
   * does not know are absent from the map; the caller compares the etag to tell a changed object.
   */
  async getObjectStates(source: string, bucket: string, keys: string[]): Promise<Map<string, ObjectState>> {
    const states = new Map<string, ObjectState>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += OBJECT_KEYS_BATCH) {
      const rows = await this.db.query<ObjectRow>(STATES_BY_KEY_SQL, [
        source,
        bucket,
        unique.slice(i, i + OBJECT_KEYS_BATCH),
      ]);
      for (const row of rows) states.set(row.key, toObjectState(row));
    }
    return states;
  }

  /**
   * See `Store.putObjectStates`: insert or replace by (source, bucket, key), one statement per
   * {@link OBJECT_BATCH} rows, all in one transaction; the last state of a key in the input wins.
   */
  async putObjectStates(states: ObjectState[]): Promise<void> {
    const byKey = new Map(states.map((s) => [JSON.stringify([s.source, s.bucket, s.key]), s]));
    // Sorted so concurrent writers take row locks in the same order and cannot deadlock each other.
    const unique = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
    if (unique.length === 0) return;
    const run = async (db: Db): Promise<void> => {
      for (let i = 0; i < unique.length; i += OBJECT_BATCH) {
        await db.query(PUT_SQL, columns(unique.slice(i, i + OBJECT_BATCH)));
      }
    };
    await (unique.length > OBJECT_BATCH ? this.db.transaction(run) : run(this.db));
  }

  /** See `Store.listObjectStates`; the limit is floored into 1..{@link OBJECT_KEYS_BATCH}. */
  async listObjectStates(
    source: string,
    bucket: string,
    afterKey: string | null,
    limit: number,
  ): Promise<ObjectState[]> {
    const rows = await this.db.query<ObjectRow>(
      `SELECT ${OBJECT_COLUMNS} FROM objects
       WHERE source = $1 AND bucket = $2 AND ($3::text IS NULL OR key > $3::text)
       ORDER BY key
       LIMIT $4`,
      [source, bucket, afterKey, clampLimit(limit, OBJECT_KEYS_BATCH, OBJECT_KEYS_BATCH)],
    );
    return rows.map(toObjectState);
  }

  /** See `Store.setPerceptualHash`: a conditional UPDATE, so a concurrent rewrite wins. */
  async setPerceptualHash(
    source: string,
    bucket: string,
    key: string,
    etag: string,
    hash: string,
  ): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE objects SET perceptual_hash = $5, updated_at = now()
       WHERE source = $1 AND bucket = $2 AND key = $3 AND etag = $4
       RETURNING key`,
      [source, bucket, key, etag, hash],
    );
    return rows.length > 0;
  }

  /** See `Store.keyBoundaries`: every `every`-th stored key of the bucket, in S3's byte order. */
  async keyBoundaries(source: string, bucket: string, every: number): Promise<string[]> {
    const rows = await this.db.query<{ key: string }>(
      `SELECT key FROM (
         SELECT key, row_number() OVER (ORDER BY key) AS position
         FROM objects WHERE source = $1 AND bucket = $2
       ) AS numbered
       WHERE position % $3 = 0
       ORDER BY key`,
      [source, bucket, Math.max(1, Math.floor(every))],
    );
    return rows.map((row) => row.key);
  }

  /** See `Store.pruneObjectStates`: one DELETE over the key range of a listing page. */
  async pruneObjectStates(
    source: string,
    bucket: string,
    afterKey: string | null,
    upToKey: string | null,
    keep: string[],
  ): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM objects
       WHERE source = $1 AND bucket = $2
         AND ($3::text IS NULL OR key > $3::text) AND ($4::text IS NULL OR key <= $4::text)
         AND NOT (key = ANY($5::text[]))
       RETURNING key`,
      [source, bucket, afterKey, upToKey, keep],
    );
    return rows.length;
  }

  /** See `Store.setCopyOf`: a conditional UPDATE, as setPerceptualHash. */
  async setCopyOf(object: ObjectVersion, copyOf: CopyMatch | null): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE objects SET copy_of = $5::jsonb, updated_at = now()
       WHERE source = $1 AND bucket = $2 AND key = $3 AND etag = $4
       RETURNING key`,
      [
        object.source,
        object.bucket,
        object.key,
        object.etag,
        copyOf === null ? null : JSON.stringify(copyOf),
      ],
    );
    return rows.length > 0;
  }

  /** See `Store.findImagesByEtag`: one query per {@link OBJECT_KEYS_BATCH} ETags. */
  async findImagesByEtag(locations: BucketRef[], etags: string[]): Promise<Map<string, ObjectState>> {
    const found = new Map<string, ObjectState>();
    const unique = [...new Set(etags)];
    if (locations.length === 0) return found;
    for (let i = 0; i < unique.length; i += OBJECT_KEYS_BATCH) {
      const rows = await this.db.query<ObjectRow>(ETAG_SQL, [
        ...locationColumns(locations),
        unique.slice(i, i + OBJECT_KEYS_BATCH),
      ]);
      for (const row of rows) found.set(row.etag, toObjectState(row));
    }
    return found;
  }

  /** See `Store.copyCandidateKeys`. */
  async copyCandidateKeys(bucket: BucketRef, windows: CaptureWindow[]): Promise<string[]> {
    const rows = await this.db.query<{ key: string }>(CANDIDATE_KEYS_SQL, [
      bucket.source,
      bucket.bucket,
      windows.map((w) => isoParam(w.from)),
      windows.map((w) => isoParam(w.to)),
      windows.map((w) => w.plateHash),
    ]);
    return rows.map((row) => row.key);
  }

  /** See `Store.listUntimedImages`; the limit is floored into 1..{@link OBJECT_KEYS_BATCH}. */
  async listUntimedImages(bucket: BucketRef, afterKey: string | null, limit: number): Promise<ObjectState[]> {
    const rows = await this.db.query<ObjectRow>(UNTIMED_IMAGES_SQL, [
      bucket.source,
      bucket.bucket,
      afterKey,
      clampLimit(limit, OBJECT_KEYS_BATCH, OBJECT_KEYS_BATCH),
    ]);
    return rows.map(toObjectState);
  }
}

function locationColumns(locations: BucketRef[]): [string[], string[]] {
  return [locations.map((l) => l.source), locations.map((l) => l.bucket)];
}
