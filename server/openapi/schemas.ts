/**
 * The response bodies of the API as zod schemas, registered under the names the OpenAPI document
 * gives them (components/schemas). Handlers build these shapes; the conformance test validates every
 * response against the JSON Schema generated from them.
 */
import { z } from 'zod';
import { FINDING_STATUSES, SCAN_STATUSES, SEVERITIES } from '../../core/model.js';

/** The schemas that become components, by name. */
export const components = z.registry<{ id: string }>();

function component<S extends z.ZodType>(id: string, schema: S): S {
  components.add(schema, { id });
  return schema;
}

const instant = z.iso.datetime({ offset: true });
const role = z.enum(['admin', 'officer', 'viewer']);

export const ErrorSchema = component(
  'Error',
  z.object({
    error: z.enum([
      'bad-request',
      'unauthorized',
      'forbidden',
      'not-found',
      'conflict',
      'payload-too-large',
      'unsupported-media-type',
      'too-many-requests',
      'internal',
      'unavailable',
    ]),
    message: z.string(),
    problems: z.array(z.string()).optional(),
    current: z.string().optional(),
    allowed: z.array(z.string()).optional(),
    requestId: z.string().optional(),
  }),
);

export const FindingSchema = component(
  'Finding',
  z.object({
    id: z.string(),
    rule: z.string(),
    severity: z.enum(SEVERITIES),
    status: z.enum(FINDING_STATUSES),
    source: z.string(),
    bucket: z.string(),
    key: z.string(),
    etag: z.string().nullable(),
    size: z.number().nullable(),
    lastModified: instant.nullable(),
    captureTime: instant.nullable(),
    captureTimeOrigin: z.enum(['exif-offset', 'exif-local', 'last-modified']).nullable(),
    ageHours: z.number().nullable(),
    threshold: z.string(),
    reason: z.string(),
    details: z.record(z.string(), z.unknown()),
    scanId: z.string(),
    firstSeen: instant,
    lastSeen: instant,
    remediatedAt: instant.nullable(),
    /** Until when the risk is accepted (status accepted-risk); a scan after it reopens the finding. */
    acceptedUntil: instant.nullable(),
    suppressedBy: z.string().nullable(),
    /** True for a viewer: plate-like parts of key and reason masked, no ETag and no details. */
    redacted: z.boolean(),
  }),
);

export const FindingPageSchema = component(
  'FindingPage',
  z.object({ items: z.array(FindingSchema), nextCursor: z.string().nullable() }),
);

export const HistoryEntrySchema = component(
  'HistoryEntry',
  z.object({
    at: instant,
    actor: z.string(),
    from: z.enum(FINDING_STATUSES).nullable(),
    to: z.enum(FINDING_STATUSES),
    comment: z.string(),
    until: instant.nullable(),
  }),
);

export const FindingDetailSchema = component(
  'FindingDetail',
  z.object({
    finding: FindingSchema,
    history: z.array(HistoryEntrySchema),
    /** The statuses an officer may move it to next. */
    allowedTransitions: z.array(z.enum(FINDING_STATUSES)),
  }),
);

export const HistorySchema = component('History', z.object({ items: z.array(HistoryEntrySchema) }));

const bucketProgress = z.object({
  source: z.string(),
  bucket: z.string(),
  shard: z.number().int().optional(),
  listed: z.number().int(),
  evaluated: z.number().int(),
  fetched: z.number().int(),
  state: z.enum(['pending', 'running', 'completed', 'incomplete']),
});

export const ScanSchema = component(
  'Scan',
  z.object({
    id: z.string(),
    sources: z.array(z.string()),
    trigger: z.enum(['cli', 'api', 'schedule']),
    status: z.enum(SCAN_STATUSES),
    startedAt: instant,
    finishedAt: instant.nullable(),
    judgedAt: instant,
    objectsListed: z.number().int(),
    objectsEvaluated: z.number().int(),
    findingsByRule: z.record(z.string(), z.number().int()),
    errors: z.array(z.string()),
    notes: z.array(z.string()),
    buckets: z.array(bucketProgress),
  }),
);

export const ScanListSchema = component('ScanList', z.object({ items: z.array(ScanSchema) }));

export const ScanDetailSchema = component(
  'ScanDetail',
  z.object({
    scan: ScanSchema,
    progress: z.object({
      listed: z.number().int(),
      evaluated: z.number().int(),
      fetched: z.number().int(),
      buckets: z.number().int(),
      bucketsDone: z.number().int(),
      /** Evaluated of listed so far, 0..100; listing runs ahead, so it can fall back while running. */
      percent: z.number().min(0).max(100),
    }),
  }),
);

export const ScanStartedSchema = component(
  'ScanStarted',
  z.object({ scanId: z.string(), sources: z.array(z.string()), status: z.literal('running') }),
);

export const SourceSchema = component(
  'Source',
  z.object({
    id: z.string(),
    role: z.enum(['edge', 'vendor']),
    /** Without any user name or password the URL might carry. */
    endpoint: z.string(),
    region: z.string(),
    buckets: z.array(z.string()),
    /** Names of the environment variables holding the credentials, never their values. */
    credentials: z.object({ accessKeyEnv: z.string(), secretKeyEnv: z.string() }),
    concurrency: z.number().int(),
    requestsPerSecond: z.number().nullable(),
    violationSignal: z.object({ metadata: z.string().nullable(), exif: z.string().nullable() }),
    hasRegister: z.boolean(),
    schedule: z.object({
      every: z.string().nullable(),
      cron: z.string().nullable(),
      timezone: z.string().nullable(),
      nextRun: instant.nullable(),
    }),
    lastScan: z
      .object({
        id: z.string(),
        status: z.enum(SCAN_STATUSES),
        startedAt: instant,
        finishedAt: instant.nullable(),
      })
      .nullable(),
  }),
);

export const SourceListSchema = component('SourceList', z.object({ items: z.array(SourceSchema) }));

export const SuppressionSchema = component(
  'Suppression',
  z.object({
    id: z.string(),
    rule: z.string().nullable(),
    source: z.string().nullable(),
    bucket: z.string().nullable(),
    keyPrefix: z.string().nullable(),
    reason: z.string(),
    expiresAt: instant,
    createdBy: z.string(),
    createdAt: instant,
    revokedBy: z.string().nullable(),
    revokedAt: instant.nullable(),
    active: z.boolean(),
    findings: z.number().int(),
  }),
);

export const SuppressionListSchema = component(
  'SuppressionList',
  z.object({ items: z.array(SuppressionSchema) }),
);

const ruleCompliance = z.object({
  rule: z.string(),
  title: z.string(),
  severity: z.enum(SEVERITIES),
  /** `not-verified` when no scan of the source completed in the period and nothing was found. */
  verdict: z.enum(['compliant', 'non-compliant', 'not-verified']),
  present: z.number().int(),
  open: z.number().int(),
  acknowledged: z.number().int(),
  resolved: z.number().int(),
  falsePositive: z.number().int(),
  acceptedRisk: z.number().int(),
  remediated: z.number().int(),
  suppressed: z.number().int(),
  newInPeriod: z.number().int(),
  remediatedInPeriod: z.number().int(),
});

export const ComplianceReportSchema = component(
  'ComplianceReport',
  z.object({
    period: z.object({ from: instant, to: instant }),
    generatedAt: instant,
    sources: z.array(
      z.object({
        source: z.string(),
        configured: z.boolean(),
        scans: z.object({
          total: z.number().int(),
          completed: z.number().int(),
          incomplete: z.number().int(),
          failed: z.number().int(),
          cancelled: z.number().int(),
          running: z.number().int(),
          lastCompleted: z.object({ id: z.string(), finishedAt: instant }).nullable(),
        }),
        rules: z.array(ruleCompliance),
      }),
    ),
    /** Suppression rules in force during the period: shown, never hidden. */
    suppressions: z.array(SuppressionSchema),
  }),
);

const deltaCounts = z.object({ total: z.number().int(), byRule: z.record(z.string(), z.number().int()) });

export const ScanDeltaSchema = component(
  'ScanDelta',
  z.object({
    scanId: z.string(),
    status: z.enum(SCAN_STATUSES),
    new: deltaCounts,
    stillOpen: deltaCounts,
    remediated: deltaCounts,
  }),
);

export const AuditEntrySchema = component(
  'AuditEntry',
  z.object({
    id: z.string(),
    at: instant,
    requestId: z.string(),
    actor: z.string().nullable(),
    role: role.nullable(),
    method: z.string(),
    route: z.string(),
    params: z.record(z.string(), z.string()),
    query: z.record(z.string(), z.unknown()),
    client: z.string(),
    status: z.number().int().nullable(),
    durationMs: z.number().nullable(),
  }),
);

export const AuditPageSchema = component(
  'AuditPage',
  z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }),
);

export const HealthSchema = component('Health', z.object({ status: z.literal('ok') }));

export const ReadinessSchema = component(
  'Readiness',
  z.object({
    status: z.enum(['ready', 'not-ready']),
    checks: z.object({ database: z.enum(['ok', 'unavailable']), redis: z.enum(['ok', 'unavailable']) }),
  }),
);

export type FindingOut = z.infer<typeof FindingSchema>;
export type ScanOut = z.infer<typeof ScanSchema>;
export type SourceOut = z.infer<typeof SourceSchema>;
