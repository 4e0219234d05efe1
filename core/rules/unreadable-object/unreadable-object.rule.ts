/**
 * `unreadable-object`: an object that is not a readable image where only images belong.
 */
import metaJson from './unreadable-object.meta.json' with { type: 'json' };
import type { ObjectSnapshot } from '../../model.js';
import { validateRuleMeta } from '../meta.js';
import { draft, type ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');

/**
 * What was wrong, in words an officer understands. The read error comes from the scan's parsers
 * and its wording is not a contract, so this matches loosely and falls back to quoting it.
 */
export function describeProblem(snapshot: ObjectSnapshot): string {
  const error = snapshot.readError ?? '';
  // The storage refused the read (see core/scan/object-reader.ts): nothing is known of its bytes.
  const refusal = /^cannot read object: (.*)$/s.exec(error);
  if (refusal) return `the storage refused to serve it (${refusal[1]})`;
  // Not asked for at all, after the storage refused a run of reads before it (core/scan/refusal-gate.ts).
  const notRead = /^not read: (.*)$/s.exec(error);
  if (notRead) return `it was not read, since ${notRead[1]}`;
  if (snapshot.size === 0 || /\b(zero|empty|0 bytes?)\b/i.test(error)) return 'it is empty (zero bytes)';
  if (/truncat|premature end|unexpected end/i.test(error)) {
    return 'it is truncated: the file ends before the image does';
  }
  if (/exif/i.test(error)) return 'its EXIF data could not be parsed, so its capture time cannot be read';
  if (!snapshot.isImage || /not an image|unsupported image|unknown format/i.test(error)) {
    return 'it is not an image';
  }
  return `it could not be read (${error})`;
}

/** Flags objects with a read error or that are not images, on every role. */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot) {
    if (snapshot.readError === null && snapshot.isImage) return [];
    const reason = `This object cannot be checked as a camera image: ${describeProblem(snapshot)}.`;
    return [
      draft(meta, 'readable image required', reason, {
        readError: snapshot.readError,
        isImage: snapshot.isImage,
        size: snapshot.size,
      }),
    ];
  },
};
