/**
 * `clock-skew`: a device clock that is off, so its timestamps cannot be trusted.
 */
import metaJson from './clock-skew.meta.json' with { type: 'json' };
import { formatDuration, formatNumber, formatTime, minutesMs } from '../format.js';
import { validateRuleMeta } from '../meta.js';
import { ageStart } from '../retention.js';
import { draft, type ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');

/**
 * Flags EXIF capture times more than `clockSkewToleranceMinutes` after the scan clock or after
 * LastModified. A LastModified fallback is skipped: it is the server's clock, not the camera's, and
 * compared with itself it can never be ahead. A clock running behind is not detectable from one
 * image (an old image looks the same), so only "ahead" is judged.
 */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot, ctx) {
    if (snapshot.captureTimeOrigin === 'last-modified') return [];
    const { clockSkewToleranceMinutes, timezone } = ctx.contract;
    const toleranceMs = minutesMs(clockSkewToleranceMinutes);
    const capture = snapshot.captureTime.getTime();
    const aheadOfNowMs = capture - ctx.now.getTime();
    const aheadOfStoredMs = capture - snapshot.lastModified.getTime();
    const facts: string[] = [];
    // The same test the retention rules use to age an image from its LastModified instead.
    if (ageStart(snapshot, ctx.contract).storedFirst) {
      facts.push(
        `${formatDuration(aheadOfStoredMs)} after the image was stored ` +
          `(${formatTime(snapshot.lastModified, timezone)})`,
      );
    }
    if (aheadOfNowMs > toleranceMs) {
      facts.push(`${formatDuration(aheadOfNowMs)} after the time of this scan`);
    }
    if (facts.length === 0) return [];
    const reason =
      `The camera says the image was captured ${formatTime(snapshot.captureTime, timezone)}, ` +
      `${facts.join(' and ')}, so the camera's clock is wrong and its timestamps cannot be trusted.`;
    return [
      draft(meta, `${formatNumber(clockSkewToleranceMinutes)} min tolerance`, reason, {
        captureTime: snapshot.captureTime.toISOString(),
        captureTimeOrigin: snapshot.captureTimeOrigin,
        exifCaptureTime: snapshot.exifCaptureTime,
        lastModified: snapshot.lastModified.toISOString(),
        judgedAt: ctx.now.toISOString(),
        aheadOfStoredMinutes: Math.round(aheadOfStoredMs / 600) / 100,
        aheadOfNowMinutes: Math.round(aheadOfNowMs / 600) / 100,
        cameraMake: snapshot.cameraMake,
        cameraModel: snapshot.cameraModel,
      }),
    ];
  },
};
