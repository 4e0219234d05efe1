/**
 * `edge-retention`: an image on an edge device older than the edge limit by its capture time.
 */
import metaJson from './edge-retention.meta.json' with { type: 'json' };
import { formatHoursOf, formatLimit, limitMs } from '../format.js';
import { validateRuleMeta } from '../meta.js';
import { judgeRetention } from '../retention.js';
import type { ObjectRule } from '../rule.js';

const meta = validateRuleMeta(metaJson, 'object');

/** Flags edge images older than `edgeRetentionHours + graceMinutes`; exactly at the limit passes. */
export const rule: ObjectRule = {
  meta,
  evaluate(snapshot, ctx) {
    if (ctx.source.role !== 'edge') return [];
    const { edgeRetentionHours, graceMinutes } = ctx.contract;
    const threshold = formatLimit(edgeRetentionHours, 'h', graceMinutes);
    return judgeRetention(meta, snapshot, ctx, {
      limitMs: limitMs(edgeRetentionHours, graceMinutes),
      threshold,
      rule: `edge devices may keep images at most ${threshold}`,
      formatAge: formatHoursOf,
    });
  },
};
