/**
 * What a bucket's lifecycle configuration, as minio parses it, says about expiring images. minio
 * hands the XML over as parsed: one `<Rule>` is an object, several an array; numbers and prefixes
 * that look like numbers come back as numbers. Pure.
 */
import type { ScopedExpiration } from '../rules/rule.js';

/** The enabled `Expiration/Days` rules, split into whole-bucket ones and scoped ones. */
export interface LifecycleExpirations {
  /** Days of the enabled rules that cover every object of the bucket. */
  expirationDays: number[];
  /** Enabled rules with days that cover only part of the bucket. */
  scopedExpirations: ScopedExpiration[];
}

type Node = Record<string, unknown>;

const asList = (value: unknown): unknown[] =>
  value === undefined || value === null || value === '' ? [] : Array.isArray(value) ? value : [value];

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null;

/** The parts of a filter (or a rule's legacy top-level `Prefix`) that narrow it, described. */
function scopeParts(filter: unknown): string[] {
  if (!isNode(filter)) return [];
  const parts: string[] = [];
  const and = isNode(filter.And) ? filter.And : undefined;
  for (const node of and ? [filter, and] : [filter]) {
    const prefix = node.Prefix === undefined || node.Prefix === null ? '' : String(node.Prefix);
    if (prefix !== '') parts.push(`prefix ${JSON.stringify(prefix)}`);
    for (const tag of asList(node.Tag)) {
      if (isNode(tag)) parts.push(`tag ${String(tag.Key)}=${String(tag.Value ?? '')}`);
    }
    if (node.ObjectSizeGreaterThan !== undefined) {
      parts.push(`objects over ${String(node.ObjectSizeGreaterThan)} bytes`);
    }
    if (node.ObjectSizeLessThan !== undefined) {
      parts.push(`objects under ${String(node.ObjectSizeLessThan)} bytes`);
    }
  }
  return parts;
}

/**
 * The enabled expirations in days of a lifecycle configuration (`getBucketLifecycle`'s result).
 * A rule counts for the whole bucket only when neither its `Filter` nor its legacy `Prefix` narrows
 * it: a rule that expires `logs/` after a day says nothing about the images beside it.
 */
export function lifecycleExpirations(config: unknown): LifecycleExpirations {
  const result: LifecycleExpirations = { expirationDays: [], scopedExpirations: [] };
  const rules = isNode(config) ? asList(config.Rule) : [];
  for (const rule of rules) {
    if (!isNode(rule) || rule.Status !== 'Enabled') continue;
    const expiration = isNode(rule.Expiration) ? rule.Expiration : undefined;
    const days = Number(expiration?.Days);
    if (!Number.isFinite(days) || days <= 0) continue;
    const scope = [...scopeParts({ Prefix: rule.Prefix }), ...scopeParts(rule.Filter)];
    if (scope.length === 0) result.expirationDays.push(days);
    else result.scopedExpirations.push({ scope: scope.join(' and '), days });
  }
  return result;
}
