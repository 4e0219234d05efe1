/**
 * `lifecycle-not-enforcing`: a bucket whose lifecycle configuration does not expire images within
 * the retention limit of its source's role.
 */
import metaJson from './lifecycle-not-enforcing.meta.json' with { type: 'json' };
import type { RuleContext } from '../../model.js';
import { validateRuleMeta } from '../meta.js';
import { draft, type BucketRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'bucket');

/**
 * The longest expiration, in whole days, that still fits the role's limit. S3 expiration only takes
 * whole days, so the edge limit in hours is rounded up: 48 h allows 2 days, 36 h also 2 days.
 */
export function lifecycleLimitDays(ctx: RuleContext): number {
  return ctx.source.role === 'edge'
    ? Math.ceil(ctx.contract.edgeRetentionHours / 24)
    : Math.ceil(ctx.contract.vendorRetentionDays);
}

const CAVEAT =
  'S3 expiration works in whole days rounded to midnight UTC, so even a 1-day rule can leave objects for up to ' +
  'about 48 hours: a rule is evidence, not proof.';

/** Flags a bucket whose lifecycle has no expiration, or only expirations longer than the limit. */
export const rule: BucketRule = {
  meta,
  evaluate(bucket, ctx) {
    // Unsupported lifecycle (e.g. a server without the API) is a scan note, not a finding.
    if (!bucket.lifecycle.supported) return [];
    const limitDays = lifecycleLimitDays(ctx);
    const days = bucket.lifecycle.expirationDays;
    const shortest = days.length > 0 ? Math.min(...days) : null;
    if (shortest !== null && shortest <= limitDays) return [];
    const scoped = bucket.lifecycle.scopedExpirations ?? [];
    const what =
      shortest === null
        ? `Bucket "${bucket.bucket}" has no lifecycle expiration rule for the whole bucket, so the storage never ` +
          'deletes images by itself'
        : `The shortest lifecycle expiration of bucket "${bucket.bucket}" is ${shortest} days, longer than the ` +
          `${limitDays}-day limit`;
    // Rules for part of the bucket are named, so that a reader sees why they do not count.
    const partial =
      scoped.length === 0
        ? ''
        : ` (rules for part of it only: ${scoped.map((s) => `${s.scope} after ${s.days} days`).join(', ')})`;
    return [
      draft(meta, `expiration within ${limitDays} d`, `${what}${partial}; ${CAVEAT}`, {
        expirationDays: [...days],
        scopedExpirations: scoped.map((s) => ({ ...s })),
        limitDays,
        role: ctx.source.role,
      }),
    ];
  },
};
