/**
 * `production-data-outside-production`: a copy of a production image outside declared production
 * storage.
 */
import metaJson from './production-data-outside-production.meta.json' with { type: 'json' };
import type { ObjectSnapshot } from '../../model.js';
import { validateRuleMeta } from '../meta.js';
import { draft, type ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');

function whereFound(snapshot: ObjectSnapshot): string {
  if (!snapshot.bucketDeclared && snapshot.bucketTestLike) return 'undeclared, test-like bucket';
  return snapshot.bucketDeclared ? 'test-like bucket' : 'undeclared bucket';
}

/**
 * Flags objects the copy check matched to a production image, when they sit in an undeclared or
 * test-like bucket. A copy inside declared production storage is not this rule's business (it may
 * be a legitimate second processing step); its age is still judged by the retention rules.
 */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot) {
    const copy = snapshot.copyOf;
    if (copy === null || (snapshot.bucketDeclared && !snapshot.bucketTestLike)) return [];
    const how =
      copy.by === 'etag'
        ? 'the same file (identical ETag)'
        : `the same picture (perceptual hash differs in ${copy.distance} of 64 bits)`;
    const threshold =
      copy.by === 'etag' ? 'identical ETag' : `perceptual hash match (distance ${copy.distance} of 64 bits)`;
    const reason =
      `This image in the ${whereFound(snapshot)} "${snapshot.bucket}" is a copy of production image ` +
      `${copy.source}/${copy.bucket}/${copy.key}: ${how}; real camera images belong only in declared ` +
      'production storage.';
    return [
      draft(meta, threshold, reason, {
        copyOf: { ...copy },
        bucketDeclared: snapshot.bucketDeclared,
        bucketTestLike: snapshot.bucketTestLike,
      }),
    ];
  },
};
