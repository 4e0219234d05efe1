/**
 * The age test shared by `edge-retention` and `vendor-retention`: only the role, the limit and the
 * wording differ, and the edges (exactly at the limit, LastModified fallback) must not.
 */
import type { Contract, FindingDraft, ObjectSnapshot, RuleContext } from '../model.js';
import { formatTime, minutesMs } from './format.js';
import { draft, hoursBetween, type RuleMeta } from './rule.js';

/** What a retention rule plugs into {@link judgeRetention}. */
export interface RetentionLimit {
  /** Maximum age in ms, grace included. Exactly this old is still allowed. */
  limitMs: number;
  /** The threshold as written in the finding (`48 h + 15 min grace`). */
  threshold: string;
  /** The rest of the sentence after the age (`edge devices may keep images at most 48 h`). */
  rule: string;
  /** How to write the age (`72.5 h`, `30.1 d (722.4 h)`). */
  formatAge(ageMs: number): string;
}

/**
 * Where an object's proven age starts: its capture time, or its LastModified when the capture time
 * lies after it by more than the clock-skew tolerance (a camera clock running fast, which
 * `clock-skew` reports: the object cannot have been stored before it was captured). Within the
 * tolerance the capture time stands: S3 keeps LastModified in whole seconds, so an honest capture
 * with sub-seconds can fall just after it.
 */
export function ageStart(
  snapshot: Pick<ObjectSnapshot, 'captureTime' | 'lastModified'>,
  contract: Pick<Contract, 'clockSkewToleranceMinutes'>,
): { from: Date; storedFirst: boolean } {
  const aheadMs = snapshot.captureTime.getTime() - snapshot.lastModified.getTime();
  const storedFirst = aheadMs > minutesMs(contract.clockSkewToleranceMinutes);
  return { from: storedFirst ? snapshot.lastModified : snapshot.captureTime, storedFirst };
}

/**
 * One finding when the image is older than the limit at `ctx.now`, none otherwise.
 * A LastModified fallback still counts: LastModified is when the object was last written, so the
 * image is at least that old, and if even that is over the limit the image certainly is. For the
 * same reason a capture time well after LastModified does not make the image younger than its
 * LastModified proves (see {@link ageStart}).
 */
export function judgeRetention(
  meta: RuleMeta,
  snapshot: ObjectSnapshot,
  ctx: RuleContext,
  limit: RetentionLimit,
): FindingDraft[] {
  const { from: agedFrom, storedFirst } = ageStart(snapshot, ctx.contract);
  const ageMs = ctx.now.getTime() - agedFrom.getTime();
  if (ageMs <= limit.limitMs) return [];
  const tz = ctx.contract.timezone;
  const when = formatTime(agedFrom, tz);
  // An object whose bytes are not an image (or were not served) is still kept too long: it is
  // called what it is known to be.
  const noun = snapshot.isImage ? 'image' : 'object';
  const Noun = snapshot.isImage ? 'Image' : 'Object';
  const subject =
    snapshot.captureTimeOrigin === 'last-modified'
      ? `${Noun} stored ${when} (LastModified, used because its capture time could not be read; the ${noun} is at least this old)`
      : storedFirst
        ? `${Noun} stored ${when} (LastModified, earlier than the capture time ${formatTime(snapshot.captureTime, tz)} ` +
          `its camera wrote, so the camera clock runs fast; the ${noun} is at least this old)`
        : `${Noun} captured ${when}`;
  return [
    draft(meta, limit.threshold, `${subject} is ${limit.formatAge(ageMs)} old; ${limit.rule}.`, {
      captureTime: snapshot.captureTime.toISOString(),
      captureTimeOrigin: snapshot.captureTimeOrigin,
      exifCaptureTime: snapshot.exifCaptureTime,
      ...(storedFirst
        ? { agedFrom: 'last-modified', lastModified: snapshot.lastModified.toISOString() }
        : {}),
      judgedAt: ctx.now.toISOString(),
      ageHours: hoursBetween(agedFrom, ctx.now),
      maxAgeHours: limit.limitMs / 3_600_000,
    }),
  ];
}
