/**
 * `violations-only`: an image on vendor storage that is not a registered violation.
 */
import metaJson from './violations-only.meta.json' with { type: 'json' };
import type { ViolationSignals } from '../../model.js';
import { validateRuleMeta } from '../meta.js';
import { draft, type ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');

/** What the camera's own signals (metadata and EXIF tag) say together. */
type CameraVerdict = 'violation' | 'passage' | 'disagree' | 'silent';

function cameraVerdict(signals: ViolationSignals): CameraVerdict {
  const said = [signals.metadata, signals.exif].filter((signal) => signal !== null);
  if (said.length === 0) return 'silent';
  if (said.every((signal) => signal)) return 'violation';
  if (said.every((signal) => !signal)) return 'passage';
  return 'disagree';
}

function disagreement(signals: ViolationSignals): string {
  const word = (signal: boolean | null): string => (signal ? 'a violation' : 'a passage');
  return `the camera's metadata marks this image as ${word(signals.metadata)} but its EXIF tag marks it as ${word(signals.exif)}`;
}

/** The reason when the source has a register and it did not match. */
function registerReason(signals: ViolationSignals): string {
  if (signals.register === null) {
    return 'The register was not consulted for this image, so nothing shows it is a registered violation.';
  }
  const camera = cameraVerdict(signals);
  if (camera === 'violation') return 'The camera flags a violation; no register entry matches this image.';
  if (camera === 'passage') {
    return 'No register entry matches this image and the camera marks it as a passage, not a violation.';
  }
  if (camera === 'disagree') return `No register entry matches this image and ${disagreement(signals)}.`;
  return 'No register entry matches this image and no camera flag marks it as a violation.';
}

/** The reason without a register, or null when the camera's signals say violation. */
function cameraReason(signals: ViolationSignals, hasSignal: boolean): string | null {
  const camera = cameraVerdict(signals);
  if (camera === 'violation') return null;
  if (camera === 'passage') return 'The camera marks this image as a passage, not a violation.';
  if (camera === 'disagree') return `The signals disagree: ${disagreement(signals)}.`;
  return hasSignal
    ? 'There is no evidence that this is a violation: neither the metadata nor the EXIF tag carries a flag.'
    : 'There is no evidence that this is a violation: no register or camera flag is configured for this source.';
}

/**
 * Judges vendor images only. With a register, a register match is the only proof (the seeds are
 * about not taking the processor's word for it), and the camera's flags only explain the finding.
 * Without one, the camera's flags decide; one flag true and the other false is reported, since a
 * contradiction cannot count as proof. A single true flag with the other silent counts as proof.
 * An object whose bytes the storage did not serve is not judged: its flags are unknown, and a
 * register entry could match it by what the bytes hold; `unreadable-object` reports it instead, as
 * it reports an object whose bytes are not an image (a text file, a zero-byte object).
 */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot, ctx) {
    if (ctx.source.role !== 'vendor' || !snapshot.contentServed || !snapshot.isImage) return [];
    const { signals } = snapshot;
    let reason: string | null;
    if (ctx.source.hasRegister) {
      reason = signals.register?.matched ? null : registerReason(signals);
    } else {
      reason = cameraReason(signals, ctx.source.hasViolationSignal);
    }
    if (reason === null) return [];
    const threshold = ctx.source.hasRegister
      ? "entry in the municipality's register of violations"
      : "camera's violation flag";
    return [
      draft(meta, threshold, reason, {
        signals: { metadata: signals.metadata, exif: signals.exif, register: signals.register },
        hasRegister: ctx.source.hasRegister,
      }),
    ];
  },
};
