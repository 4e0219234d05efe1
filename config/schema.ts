/**
 * The schema of `auditor.yaml`. Field names are a contract with the municipalities' config files:
 * rename nothing, only add.
 */
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { IANAZone } from 'luxon';
import { cronPatternProblem } from '../core/time/cron.js';
import { EVERY_PATTERN, everyToMs } from '../core/time/every.js';

const httpUrl = z
  .string()
  .refine((value) => /^https?:\/\/[^/\s]+/.test(value) && URL.canParse(value), 'must be an http(s) URL');

/** Whether `value` is a Redis URL ioredis takes: `redis://` or `rediss://` (TLS), host and all. */
export function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\/[^/\s]*/.test(value) && URL.canParse(value);
}

/** Whether `value` is a PostgreSQL connection URL. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\/\S*$/.test(value) && URL.canParse(value);
}

/** An address to listen on: an IP address, or a host name of RFC 1123 labels. */
const listenHost = z
  .string()
  .refine(
    (host) =>
      ipaddr.isValid(host) ||
      (host.length <= 253 && /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/.test(host)),
    'must be an IP address or a host name',
  );

/** The longest `every`: a scan at least once a year. */
const MAX_EVERY_DAYS = 366;

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be the name of an environment variable (A-Z, 0-9, _)');

/** S3 bucket naming rules (the subset that matters for config typos). */
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 of a-z 0-9 . _ -)');

const timezone = z.string().refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone');

export const contractSchema = z
  .object({
    edgeRetentionHours: z.number().positive().default(48),
    vendorRetentionDays: z.number().positive().default(28),
    transferDeadlineHours: z.number().positive().default(48),
    graceMinutes: z.number().min(0).default(0),
    timezone: timezone.default('Europe/Amsterdam'),
    clockSkewToleranceMinutes: z.number().min(0).default(5),
  })
  .strict();

const scheduleSchema = z
  .object({
    cron: z
      .string()
      .min(1)
      .superRefine((pattern, ctx) => {
        const problem = cronPatternProblem(pattern);
        if (problem)
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a cron expression (${problem})` });
      })
      .optional(),
    every: z
      .string()
      .regex(EVERY_PATTERN, 'must be a duration like 30m, 1h or 1d')
      // BullMQ refuses a scheduler that repeats every 0 ms: say so now, not when `serve` starts.
      .refine((every) => !/^0+\s*[smhd]$/.test(every), 'must be longer than 0')
      // The form is checked above; zod runs this check too when the form is wrong.
      .refine(
        (every) => !EVERY_PATTERN.test(every) || everyToMs(every) <= everyToMs(`${MAX_EVERY_DAYS}d`),
        `must be at most ${MAX_EVERY_DAYS} days`,
      )
      .optional(),
  })
  .strict()
  .refine((s) => (s.cron === undefined) !== (s.every === undefined), 'set exactly one of cron or every');

const violationSignalSchema = z
  .object({
    metadata: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'must be a lower-case user-metadata name without x-amz-meta-')
      .optional(),
    exif: z
      .string()
      .regex(/^[A-Za-z]+(\.[A-Za-z0-9_]+)?$/, 'must be an EXIF tag, optionally .jsonField')
      .optional(),
  })
  .strict();

export const sourceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes'),
    role: z.enum(['edge', 'vendor']),
    endpoint: httpUrl,
    region: z.string().min(1).default('us-east-1'),
    accessKeyEnv: envName,
    secretKeyEnv: envName,
    buckets: z.array(bucketName).min(1, 'must declare at least one bucket'),
    /** Reads in flight against the source, one budget for every worker process (shared in Redis). */
    concurrency: z.number().int().min(1).max(256).default(8),
    requestsPerSecond: z.number().positive().optional(),
    violationSignal: violationSignalSchema.optional(),
    register: z.string().min(1).optional(),
    /** The EXIF text tag (optionally `.jsonField`) holding the plate, hashed for register matching. */
    plateTag: z
      .string()
      .regex(/^[A-Za-z]+(\.[A-Za-z0-9_]+)?$/, 'must be an EXIF tag, optionally .jsonField')
      .default('ImageDescription.plate'),
    schedule: scheduleSchema.optional(),
    /**
     * The zone of this source's EXIF times without an offset, when its cameras are not set to
     * `contract.timezone` (a camera kept on UTC all year).
     */
    cameraTimezone: timezone.optional(),
    /** Objects per shard when a bucket is split among workers. */
    shardSize: z.number().int().min(100).default(50000),
    /**
     * The most shards the first scan of a bucket is cut into at its folders, when the bucket holds
     * more than one listing page and none of its keys is known yet; 1 scans it as one shard.
     */
    firstScanShards: z.number().int().min(1).max(256).default(16),
  })
  .strict();

/** An IPv4 or IPv6 network in CIDR notation, or a single address. */
const network = z
  .string()
  .refine(
    (value) => ipaddr.isValid(value) || isValidCidr(value),
    'must be an IP address or a CIDR network such as 10.0.0.0/8',
  );

function isValidCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

const tokenSchema = z
  .object({
    name: z.string().min(1),
    role: z.enum(['admin', 'officer', 'viewer']),
    sha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be the lower-case hex SHA-256 of the token'),
  })
  .strict();

export const configSchema = z
  .object({
    contract: contractSchema.default(contractSchema.parse({})),
    sources: z.array(sourceSchema).min(1, 'must list at least one source'),
    scan: z
      .object({
        headBytes: z.number().int().min(4096).default(65536),
        maxHeadBytes: z.number().int().min(65536).default(1048576),
        listPageSize: z.number().int().min(1).max(1000).default(1000),
        /** Perceptual-hash distance (of 64 bits) at or under which two images are the same picture. */
        copyMaxDistance: z.number().int().min(0).max(32).default(10),
        /** Tries of one S3 request on throttling, 5xx and dropped connections, with exponential backoff. */
        requestRetries: z.number().int().min(0).max(10).default(4),
        retryMinMs: z.number().int().min(1).default(100),
        retryMaxMs: z.number().int().min(1).default(3000),
        /** A scan still `running` after this long is taken for abandoned by the scheduler and closed as failed. */
        abandonedAfterHours: z.number().positive().default(24),
      })
      .strict()
      .refine((scan) => scan.headBytes <= scan.maxHeadBytes, {
        message: 'must not be larger than scan.maxHeadBytes',
        path: ['headBytes'],
      })
      .refine((scan) => scan.retryMinMs <= scan.retryMaxMs, {
        message: 'must not be larger than scan.retryMaxMs',
        path: ['retryMinMs'],
      })
      .default({
        headBytes: 65536,
        maxHeadBytes: 1048576,
        listPageSize: 1000,
        copyMaxDistance: 10,
        requestRetries: 4,
        retryMinMs: 100,
        retryMaxMs: 3000,
        abandonedAfterHours: 24,
      }),
    privacy: z.object({ plateHashKeyEnv: envName.optional() }).strict().default({}),
    redis: z
      .object({
        url: z
          .string()
          .refine(isRedisUrl, 'must be a redis:// or rediss:// URL')
          .default('redis://127.0.0.1:6379'),
        prefix: z.string().default('anpr'),
      })
      .strict()
      .default({ url: 'redis://127.0.0.1:6379', prefix: 'anpr' }),
    queue: z
      .object({
        /** Tries of a scan job before it counts as failed (the scan then ends incomplete). */
        attempts: z.number().int().min(1).max(20).default(5),
        /** First retry delay; doubles each try. */
        backoffMs: z.number().int().min(10).default(1000),
        /** How long a worker holds a job without renewing; a killed worker's job is taken over after it. */
        lockDurationMs: z.number().int().min(1000).default(30000),
        stalledIntervalMs: z.number().int().min(500).default(15000),
        /**
         * How long a stopping `worker` lets its jobs in flight run on; then it stops them, and they
         * go back to the queue and resume from their checkpoints.
         */
        shutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
        /**
         * How often `serve` and `anpr-audit worker` look for schedules left with no run to come and
         * give them their next run (workers/schedule-repairs.ts). Fractions allowed (tests).
         */
        scheduleRepairSeconds: z.number().min(0.1).max(86400).default(60),
      })
      .strict()
      .default({
        attempts: 5,
        backoffMs: 1000,
        lockDurationMs: 30000,
        stalledIntervalMs: 15000,
        shutdownTimeoutSeconds: 30,
        scheduleRepairSeconds: 60,
      }),
    database: z
      .object({
        urlEnv: envName.default('DATABASE_URL'),
        dataDir: z.string().default('data/pglite'),
        /** PostgreSQL schema to keep the tables in (created when missing); the default search path when unset. */
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
          .optional(),
      })
      .strict()
      .default({ urlEnv: 'DATABASE_URL', dataDir: 'data/pglite' }),
    api: z
      .object({
        port: z.number().int().min(0).max(65535).default(8080),
        host: listenHost.default('127.0.0.1'),
        tokens: z.array(tokenSchema).default([]),
        /** Client networks allowed to reach the API (CIDR or single address); empty allows any. */
        allowedNetworks: z.array(network).default([]),
        rateLimitPerMinute: z.number().int().min(1).default(600),
        /**
         * Proxies whose X-Forwarded-For is believed (CIDRs or addresses); empty: none, the client
         * address is the TCP peer's. Without this behind a proxy, the network allowlist sees the proxy.
         */
        trustedProxies: z.array(network).default([]),
        /** How long a stopping server waits for requests and scan jobs in flight before giving up. */
        shutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
      })
      .strict()
      .default({
        port: 8080,
        host: '127.0.0.1',
        tokens: [],
        allowedNetworks: [],
        rateLimitPerMinute: 600,
        trustedProxies: [],
        shutdownTimeoutSeconds: 30,
      }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.sources.forEach((source, index) => {
      if (seen.has(source.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', index, 'id'],
          message: `duplicate source id "${source.id}"`,
        });
      }
      seen.add(source.id);
    });
    // Token names are who the audit trail says acted: two tokens with one name would blur that.
    const names = new Set<string>();
    config.api.tokens.forEach((token, index) => {
      if (names.has(token.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['api', 'tokens', index, 'name'],
          message: `duplicate token name "${token.name}"`,
        });
      }
      names.add(token.name);
    });
  });

/** The config file as written, after defaults. */
export type ConfigFile = z.infer<typeof configSchema>;
export type SourceConfigFile = z.infer<typeof sourceSchema>;
