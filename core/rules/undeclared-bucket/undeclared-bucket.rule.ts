/**
 * `undeclared-bucket`: storage the vendor exposes that the municipality was never told about.
 */
import metaJson from './undeclared-bucket.meta.json' with { type: 'json' };
import { validateRuleMeta } from '../meta.js';
import { draft, type BucketRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'bucket');

/** Flags every bucket that is not in the source's declared inventory, whatever it holds. */
export const rule: BucketRule = {
  meta,
  evaluate(bucket) {
    if (bucket.declared) return [];
    const contents =
      bucket.imageCount === null
        ? ''
        : ` and holds ${bucket.imageCount} image${bucket.imageCount === 1 ? '' : 's'}`;
    const reason =
      `Bucket "${bucket.bucket}" on source "${bucket.source}" is not in the declared inventory${contents}; ` +
      'the municipality was never told this storage exists.';
    return [
      draft(meta, 'declared buckets only', reason, {
        imageCount: bucket.imageCount,
        testLike: bucket.testLike,
        testWords: bucket.testWords,
      }),
    ];
  },
};
