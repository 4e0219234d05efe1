-- Scans, their per-bucket progress, findings (with the scans that saw them and their officer history)
-- and the per-object state that makes rescans incremental. Runs unchanged on PostgreSQL and PGlite.

CREATE TABLE scans (
  id text PRIMARY KEY,
  sources text[] NOT NULL,
  trigger text NOT NULL CHECK (trigger IN ('cli', 'api', 'schedule')),
  status text NOT NULL DEFAULT 'running'
    CHECK (status IN ('running', 'completed', 'incomplete', 'failed', 'cancelled')),
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  judged_at timestamptz NOT NULL,
  objects_listed bigint NOT NULL DEFAULT 0,
  objects_evaluated bigint NOT NULL DEFAULT 0,
  findings_by_rule jsonb NOT NULL DEFAULT '{}',
  errors text[] NOT NULL DEFAULT '{}',
  notes text[] NOT NULL DEFAULT '{}'
);

-- listScans: newest first, optionally those touching one source.
CREATE INDEX scans_started_at_idx ON scans (started_at DESC, id DESC);
CREATE INDEX scans_sources_idx ON scans USING gin (sources);

CREATE TABLE scan_buckets (
  scan_id text NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  source text NOT NULL,
  bucket text NOT NULL,
  -- Key-range shard of the bucket; 0 when it is scanned whole. Each shard's job owns its own row.
  shard integer NOT NULL DEFAULT 0,
  listed bigint NOT NULL DEFAULT 0,
  evaluated bigint NOT NULL DEFAULT 0,
  fetched bigint NOT NULL DEFAULT 0,
  state text NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'incomplete')),
  PRIMARY KEY (scan_id, source, bucket, shard)
);

-- Keys use the "C" collation: byte order is S3's listing order, so key-range shards (StartAfter) and
-- the bounds of remediateUnseen agree whatever the database's default collation is.
CREATE TABLE findings (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  source text NOT NULL,
  bucket text NOT NULL,
  key text COLLATE "C" NOT NULL DEFAULT '',
  rule text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
  -- Sorting by severity must follow its meaning, not the alphabet; stored so it can be indexed.
  severity_rank smallint GENERATED ALWAYS AS (
    CASE severity
      WHEN 'critical' THEN 4
      WHEN 'high' THEN 3
      WHEN 'medium' THEN 2
      WHEN 'low' THEN 1
      ELSE 0
    END
  ) STORED,
  status text NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'acknowledged', 'resolved', 'false-positive', 'accepted-risk', 'remediated')),
  etag text,
  size bigint,
  last_modified timestamptz,
  capture_time timestamptz,
  capture_time_origin text CHECK (capture_time_origin IN ('exif-offset', 'exif-local', 'last-modified')),
  age_hours double precision,
  threshold text NOT NULL,
  reason text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',
  -- No foreign keys on these two: pruning old scans must not take the findings' history with it.
  first_scan_id text NOT NULL,
  last_scan_id text NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  remediated_at timestamptz,
  suppressed_by text,
  CONSTRAINT findings_identity UNIQUE (source, bucket, key, rule)
);

-- One index per sort of listFindings, ending in id for the keyset cursor. Findings without an age sort
-- as the youngest, so the age key is never NULL and row comparisons stay exact.
CREATE INDEX findings_severity_idx ON findings (severity_rank, id);
CREATE INDEX findings_first_seen_idx ON findings (first_seen, id);
CREATE INDEX findings_last_seen_idx ON findings (last_seen, id);
CREATE INDEX findings_age_idx ON findings ((COALESCE(age_hours, '-Infinity'::double precision)), id);
-- Filters that do not start with source (which findings_identity covers).
CREATE INDEX findings_status_idx ON findings (status);
CREATE INDEX findings_rule_idx ON findings (rule);
CREATE INDEX findings_bucket_idx ON findings (bucket);

-- Which scans saw which finding: last_scan_id alone loses that once a later scan refreshes it.
CREATE TABLE finding_scans (
  scan_id text NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  finding_id text NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
  PRIMARY KEY (scan_id, finding_id)
);
CREATE INDEX finding_scans_finding_idx ON finding_scans (finding_id);

CREATE TABLE finding_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  finding_id text NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  from_status text,
  to_status text NOT NULL,
  comment text NOT NULL DEFAULT '',
  until timestamptz
);
CREATE INDEX finding_history_finding_idx ON finding_history (finding_id, at, id);

CREATE TABLE objects (
  source text NOT NULL,
  bucket text NOT NULL,
  key text COLLATE "C" NOT NULL,
  etag text NOT NULL,
  size bigint NOT NULL,
  last_modified timestamptz NOT NULL,
  is_image boolean NOT NULL,
  read_error text,
  capture_time timestamptz,
  capture_time_origin text CHECK (capture_time_origin IN ('exif-offset', 'exif-local', 'last-modified')),
  exif_capture_time text,
  camera_make text,
  camera_model text,
  plate_hash text,
  signals jsonb NOT NULL DEFAULT '{}',
  perceptual_hash text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, bucket, key)
);
