/**
 * `public-access`: a bucket or object readable without credentials.
 */
import metaJson from './public-access.meta.json' with { type: 'json' };
import { validateRuleMeta } from '../meta.js';
import { draft, type BucketRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'bucket');

/** Flags a bucket when any unsigned probe was served; the details keep every probe as evidence. */
export const rule: BucketRule = {
  meta,
  evaluate(bucket) {
    const served = bucket.anonymousProbes.filter((probe) => probe.allowed);
    if (served.length === 0) return [];
    const answered = served.map((probe) => `${probe.request} answered ${probe.status}`).join('; ');
    const reason =
      `Bucket "${bucket.bucket}" serves data to anyone without credentials (${answered}); ` +
      "access is allowed only with a user name from the municipality's IP address.";
    return [
      draft(meta, 'no access without credentials', reason, {
        probes: bucket.anonymousProbes.map((probe) => ({ ...probe })),
      }),
    ];
  },
};
