-- What the API adds: suppression rules, the audit trail of API requests, and which scan found a
-- finding's object gone (for the per-scan delta). Runs unchanged on PostgreSQL and PGlite.

-- A saved filter of accepted situations. Every criterion left NULL matches anything, but at least one
-- must be set: a suppression of everything would silence the auditor altogether.
CREATE TABLE suppressions (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  rule text,
  source text,
  bucket text,
  -- Compared in byte order like the findings' keys.
  key_prefix text COLLATE "C" CHECK (key_prefix <> ''),
  reason text NOT NULL CHECK (reason <> ''),
  expires_at timestamptz NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_by text,
  revoked_at timestamptz,
  CHECK (rule IS NOT NULL OR source IS NOT NULL OR bucket IS NOT NULL OR key_prefix IS NOT NULL)
);
-- upsertFindings looks up the active ones for every batch.
CREATE INDEX suppressions_active_idx ON suppressions (expires_at) WHERE revoked_at IS NULL;

-- Kept when a remediated finding reappears: the scan that found it gone still did.
ALTER TABLE findings ADD COLUMN remediated_scan_id text;
CREATE INDEX findings_remediated_scan_idx ON findings (remediated_scan_id) WHERE remediated_scan_id IS NOT NULL;
CREATE INDEX findings_first_scan_idx ON findings (first_scan_id);
CREATE INDEX findings_suppressed_by_idx ON findings (suppressed_by) WHERE suppressed_by IS NOT NULL;

-- Who consulted or changed what through the API. A row is written before the request is served and
-- completed with its status afterwards, so a read whose audit row cannot be written is never served.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  request_id text NOT NULL,
  actor text,
  role text,
  method text NOT NULL,
  route text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}',
  query jsonb NOT NULL DEFAULT '{}',
  client text NOT NULL,
  status integer,
  duration_ms double precision
);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
