/**
 * What each role sees of the store's records. A viewer gets findings with plate-like parts of the key
 * and the reason masked and without the evidence (ETag, details), enough to follow the numbers and
 * not enough to point at a car.
 */
import type { SourceConfig } from '../config/load.js';
import type { Finding, Scan } from '../core/model.js';
import type { Suppression } from '../core/store/store.js';
import { hasRole, type Principal } from './auth.js';
import type { SourceSchedule } from './deps.js';
import { maskPlates } from './mask.js';
import type { FindingOut, ScanOut, SourceOut } from './openapi/schemas.js';

/** Whether the principal may see evidence (keys in clear, ETags, details). */
export function seesEvidence(principal: Principal): boolean {
  return hasRole(principal.role, 'officer');
}

/** A finding as `principal` may see it. */
export function findingView(finding: Finding, principal: Principal): FindingOut {
  if (seesEvidence(principal)) return { ...finding, redacted: false };
  return {
    ...finding,
    key: maskPlates(finding.key),
    reason: maskPlates(finding.reason),
    etag: null,
    details: {},
    redacted: true,
  };
}

/** A suppression as `principal` may see it: its key prefix and reason masked for a viewer. */
export function suppressionView(suppression: Suppression, principal: Principal): Suppression {
  if (seesEvidence(principal)) return suppression;
  return {
    ...suppression,
    keyPrefix: suppression.keyPrefix === null ? null : maskPlates(suppression.keyPrefix),
    reason: maskPlates(suppression.reason),
  };
}

/** A scan as the API shows it (the store's shape). */
export function scanView(scan: Scan): ScanOut {
  return scan;
}

/** Totals of a scan's bucket rows, for progress bars. */
export function scanProgress(scan: Scan) {
  const listed = scan.buckets.reduce((n, b) => n + b.listed, 0);
  const evaluated = scan.buckets.reduce((n, b) => n + b.evaluated, 0);
  const fetched = scan.buckets.reduce((n, b) => n + b.fetched, 0);
  const done = scan.buckets.filter((b) => b.state === 'completed' || b.state === 'incomplete').length;
  const finished = scan.status !== 'running';
  return {
    listed,
    evaluated,
    fetched,
    buckets: scan.buckets.length,
    bucketsDone: done,
    percent: finished ? 100 : listed === 0 ? 0 : Math.min(100, Math.floor((evaluated / listed) * 100)),
  };
}

/** The endpoint without user name, password, query or fragment: it may have been written with them. */
function safeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return '(invalid)';
  }
}

/**
 * A configured source as the API shows it: never credentials (only the names of the variables that
 * hold them), with its last scan and next scheduled run.
 */
export function sourceView(
  source: SourceConfig,
  lastScan: Scan | null,
  schedule: SourceSchedule | undefined,
): SourceOut {
  return {
    id: source.id,
    role: source.role,
    endpoint: safeEndpoint(source.endpoint),
    region: source.region,
    buckets: [...source.buckets],
    credentials: { accessKeyEnv: source.accessKeyEnv, secretKeyEnv: source.secretKeyEnv },
    concurrency: source.concurrency,
    requestsPerSecond: source.requestsPerSecond ?? null,
    violationSignal: {
      metadata: source.violationSignal?.metadata ?? null,
      exif: source.violationSignal?.exif ?? null,
    },
    hasRegister: source.register !== undefined,
    schedule: {
      every: source.schedule?.every ?? null,
      cron: source.schedule?.cron ?? null,
      timezone: schedule?.timezone ?? null,
      nextRun: schedule?.nextRun ?? null,
    },
    lastScan: lastScan
      ? {
          id: lastScan.id,
          status: lastScan.status,
          startedAt: lastScan.startedAt,
          finishedAt: lastScan.finishedAt,
        }
      : null,
  };
}
