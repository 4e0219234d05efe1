/**
 * `noncurrent-versions`: a bucket that keeps versions, and still holds deleted or overwritten
 * objects as noncurrent versions older than the retention limit of its role.
 */
import metaJson from './noncurrent-versions.meta.json' with { type: 'json' };
import { formatHoursOf, formatLimit, formatTime, limitMs } from '../format.js';
import { validateRuleMeta } from '../meta.js';
import { draft, type BucketRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'bucket');

/**
 * Flags a versioned bucket whose oldest noncurrent version was written more than the role's limit
 * before `ctx.now`. A version is at least as old as its LastModified (its image was captured
 * before it was written), so this never overstates an age; a younger version may still hold an
 * older image, which only reading it would show.
 */
export const rule: BucketRule = {
  meta,
  evaluate(bucket, ctx) {
    const versions = bucket.versioning;
    if (versions === undefined || (versions.state !== 'enabled' && versions.state !== 'suspended')) return [];
    const { edgeRetentionHours, vendorRetentionDays, graceMinutes, timezone } = ctx.contract;
    const edge = ctx.source.role === 'edge';
    const threshold = edge
      ? formatLimit(edgeRetentionHours, 'h', graceMinutes)
      : formatLimit(vendorRetentionDays, 'd', graceMinutes);
    const maxMs = limitMs(edge ? edgeRetentionHours : vendorRetentionDays * 24, graceMinutes);
    const over = versions.oldest.filter((v) => ctx.now.getTime() - Date.parse(v.lastModified) > maxMs);
    const first = over[0];
    if (first === undefined) return [];
    const written = new Date(first.lastModified);
    const atLeast = over.length === versions.oldest.length && versions.noncurrent > over.length;
    // Numbers stand apart from words, so that masking (`1 of its 5` reads as a plate) leaves them.
    const reason =
      `Bucket "${bucket.bucket}" keeps versions (${versions.state}): deleted or overwritten objects are still ` +
      `stored. Noncurrent versions: ${versions.noncurrent}; written more than ${threshold} before the scan: ` +
      `${atLeast ? 'at least ' : ''}${over.length}. The oldest, of ${first.key}, was written ` +
      `${formatTime(written, timezone)}, ${formatHoursOf(ctx.now.getTime() - written.getTime())} before.`;
    return [
      draft(meta, threshold, reason, {
        versioning: versions.state,
        noncurrentVersions: versions.noncurrent,
        deleteMarkers: versions.deleteMarkers,
        overLimit: over.map((v) => ({ ...v })),
        listedAt: versions.listedAt,
        judgedAt: ctx.now.toISOString(),
        maxAgeHours: maxMs / 3_600_000,
        role: ctx.source.role,
      }),
    ];
  },
};
