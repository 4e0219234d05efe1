/**
 * `missing-timestamp`: an image whose capture time cannot be read, so retention cannot be proven.
 */
import metaJson from './missing-timestamp.meta.json' with { type: 'json' };
import { formatTime } from '../format.js';
import { validateRuleMeta } from '../meta.js';
import { draft, type ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');

/**
 * Flags images (not other objects: those are `unreadable-object`) whose capture time fell back to
 * LastModified. Applies to every role, since every limit in the contract is counted from capture.
 */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot, ctx) {
    if (!snapshot.isImage || snapshot.captureTimeOrigin !== 'last-modified') return [];
    const reason =
      'The image carries no readable capture time, so its age can only be estimated from its storage time ' +
      `(LastModified ${formatTime(snapshot.lastModified, ctx.contract.timezone)}), ` +
      'which a copy resets; retention cannot be proven.';
    return [
      draft(meta, 'EXIF capture time required', reason, {
        lastModified: snapshot.lastModified.toISOString(),
        readError: snapshot.readError,
        cameraMake: snapshot.cameraMake,
        cameraModel: snapshot.cameraModel,
      }),
    ];
  },
};
