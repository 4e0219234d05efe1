/**
 * Masking of what clients send and see: plate-like text (core/plate-mask.ts) in client text kept by
 * the audit trail, and in queries.
 */
import { maskPlates } from '../core/plate-mask.js';

export { hasPlateLike, maskPlates } from '../core/plate-mask.js';

/**
 * Client text as the audit trail stores it: masked, at most 200 characters, NUL replaced (the
 * database stores no NUL, and the entry must be written before the request is refused).
 */
export function maskText(text: string): string {
  // Masked before it is cut, so a plate across the cut is masked whole: a plate and its separators
  // fit in the 16 characters past it.
  return maskPlates(text.slice(0, 216).replaceAll('\u0000', '\uFFFD')).slice(0, 200);
}

/**
 * A request's query (strings, arrays of strings, nested objects from a permissive parser) with
 * every string as {@link maskText} gives it, for the audit trail.
 */
export function maskQuery(query: unknown): Record<string, unknown> {
  const mask = (value: unknown): unknown => {
    if (typeof value === 'string') return maskText(value);
    if (Array.isArray(value)) return value.slice(0, 50).map(mask);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [maskText(k), mask(v)]));
    }
    return value;
  };
  const out = mask(query ?? {});
  return out && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : {};
}
