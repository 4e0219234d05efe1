-- The copy check looks production images up instead of holding them all in memory: by ETag (a
-- byte-for-byte copy), by EXIF capture time (a re-encoded copy that kept its EXIF is compared only
-- with the production images taken within seconds of it), and the few production images without an
-- EXIF time, which any copy may match. Partial indexes: only images, only the rows each look-up asks;
-- each starts with source and bucket, as the look-ups do, so the planner takes them without
-- statistics (PGlite never gathers any).
CREATE INDEX objects_image_etag_idx ON objects (source, bucket, etag) WHERE is_image;
CREATE INDEX objects_exif_time_idx ON objects (source, bucket, capture_time)
  WHERE is_image AND capture_time_origin IN ('exif-offset', 'exif-local');
CREATE INDEX objects_untimed_image_idx ON objects (source, bucket, key)
  WHERE is_image AND (capture_time_origin IS NULL OR capture_time_origin = 'last-modified');

-- The production image an object was found to copy, kept while the object's bytes stay the same.
-- Edge devices delete their originals within 48 hours by contract: a copy outside production outlives
-- them, and must stay a finding after its original is gone.
ALTER TABLE objects ADD COLUMN copy_of jsonb;
