/**
 * `vendor-retention`: an image on vendor storage kept longer than the contract's maximum.
 */
import metaJson from './vendor-retention.meta.json' with { type: 'json' };
import { formatHoursOf, formatLimit, formatNumber, limitMs } from '../format.js';
import { validateRuleMeta } from '../meta.js';
import { judgeRetention } from '../retention.js';
import type { ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');
const MS_PER_DAY = 86_400_000;

/**
 * Flags vendor images older than `vendorRetentionDays` x 24 h + `graceMinutes`. Days are counted as
 * 24 hours of elapsed time, not calendar days, so a DST change does not move the line.
 */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot, ctx) {
    if (ctx.source.role !== 'vendor') return [];
    const { vendorRetentionDays, graceMinutes } = ctx.contract;
    const threshold = formatLimit(vendorRetentionDays, 'd', graceMinutes);
    return judgeRetention(meta, snapshot, ctx, {
      limitMs: limitMs(vendorRetentionDays * 24, graceMinutes),
      threshold,
      rule: `the vendor's server may keep images at most ${threshold}`,
      formatAge: (ageMs) => `${formatNumber(ageMs / MS_PER_DAY)} d (${formatHoursOf(ageMs)})`,
    });
  },
};
