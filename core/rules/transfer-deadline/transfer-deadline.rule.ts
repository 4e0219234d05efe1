/**
 * `transfer-deadline`: a vendor image that arrived (LastModified) more than the deadline after capture.
 */
import metaJson from './transfer-deadline.meta.json' with { type: 'json' };
import { formatHoursOf, formatLimit, formatTime, limitMs } from '../format.js';
import { validateRuleMeta } from '../meta.js';
import { draft, hoursBetween, type ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');

/**
 * Flags vendor images whose LastModified lies more than `transferDeadlineHours` (+ grace) after the
 * capture time. Skipped when the capture time is the LastModified fallback: the delay would be zero
 * by construction, which proves nothing either way. The contract's grace applies here as to the
 * retention limits, since both sides of the comparison are clocks with the same imprecision.
 */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot, ctx) {
    if (ctx.source.role !== 'vendor' || snapshot.captureTimeOrigin === 'last-modified') return [];
    const { transferDeadlineHours, graceMinutes, timezone } = ctx.contract;
    const delayMs = snapshot.lastModified.getTime() - snapshot.captureTime.getTime();
    if (delayMs <= limitMs(transferDeadlineHours, graceMinutes)) return [];
    const threshold = formatLimit(transferDeadlineHours, 'h', graceMinutes);
    const reason =
      `Image captured ${formatTime(snapshot.captureTime, timezone)} arrived on the vendor's server ` +
      `${formatTime(snapshot.lastModified, timezone)}, ${formatHoursOf(delayMs)} later; ` +
      `violation images must arrive within ${threshold}.`;
    return [
      draft(meta, threshold, reason, {
        captureTime: snapshot.captureTime.toISOString(),
        captureTimeOrigin: snapshot.captureTimeOrigin,
        exifCaptureTime: snapshot.exifCaptureTime,
        lastModified: snapshot.lastModified.toISOString(),
        delayHours: hoursBetween(snapshot.captureTime, snapshot.lastModified),
      }),
    ];
  },
};
