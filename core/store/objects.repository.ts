/** What the auditor read from each object version, so an unchanged object is never fetched again. */
import type { Db } from './db.js';
import { clampLimit, isoParam, toObjectState, type ObjectRow } from './rows.js';
import type { ObjectState } from './store.js';

/** Keys per SELECT of `getObjectStates` and rows per INSERT of `putObjectStates`. */
export const OBJECT_KEYS_BATCH = 1000;
export const OBJECT_BATCH = 500;

const OBJECT_COLUMNS = `source, bucket, key, etag, size, last_modified, is_image, read_error, capture_time, capture_time_origin,
  exif_capture_time, camera_make, camera_model, plate_hash, signals, perceptual_hash, read_settings`;

const PUT_SQL = `
INSERT INTO objects (source, bucket, key, etag, size, last_modified, is_image, read_error, capture_time,
  capture_time_origin, exif_capture_time, camera_make, camera_model, plate_hash, signals, perceptual_hash,
  read_settings, updated_at)
SELECT *, now() FROM unnest(
  $1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[], $7::boolean[],
  $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
  $15::jsonb[], $16::text[], $17::text[]
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
  ];
}

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
      const rows = await this.db.query<ObjectRow>(
        `SELECT ${OBJECT_COLUMNS} FROM objects WHERE source = $1 AND bucket = $2 AND key = ANY($3::text[])`,
        [source, bucket, unique.slice(i, i + OBJECT_KEYS_BATCH)],
      );
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
}
