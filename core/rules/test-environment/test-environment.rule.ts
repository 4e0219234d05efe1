/**
 * `test-environment`: images in a test/acceptance/dev/backup-like environment.
 */
import metaJson from './test-environment.meta.json' with { type: 'json' };
import { classifyBucketName } from '../bucket-names.js';
import { validateRuleMeta } from '../meta.js';
import { draft, type BucketRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'bucket');

/**
 * Flags test-like buckets that hold at least one image. A declared bucket is flagged too: declaring
 * a test environment does not make real photos in it allowed. An empty one, or one not scanned yet
 * (imageCount null), is left alone: the name alone is not a breach.
 */
export const rule: BucketRule = {
  meta,
  evaluate(bucket) {
    if (!bucket.testLike || bucket.imageCount === null || bucket.imageCount <= 0) return [];
    // Discovery normally fills testWords; classify again rather than name no word at all.
    const words = bucket.testWords.length > 0 ? bucket.testWords : classifyBucketName(bucket.bucket).words;
    const named = words.length > 0 ? ` (${words.map((word) => `"${word}"`).join(', ')})` : '';
    const reason =
      `Bucket "${bucket.bucket}" holds ${bucket.imageCount} image${bucket.imageCount === 1 ? '' : 's'} ` +
      `and its name marks a non-production environment${named}; camera images may never be used in a test system.`;
    return [
      draft(meta, 'no images in test-like buckets', reason, {
        testWords: words,
        imageCount: bucket.imageCount,
        declared: bucket.declared,
      }),
    ];
  },
};
