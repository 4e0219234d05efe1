/**
 * Validation of the `<id>.meta.json` next to each rule. JSON imports are typed loosely (severity is
 * just a string), so every meta goes through here once, at load: a typo fails the import, not a scan.
 */
import { SEVERITIES, type Severity } from '../model.js';
import type { RuleMeta } from './rule.js';

const TEXT_FIELDS = ['id', 'title', 'description', 'risk', 'remediation', 'clause'] as const;

/** Rule ids are the kebab-case ids of DOMAIN.md, also used as folder and file names. */
const RULE_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Checks a parsed meta.json against {@link RuleMeta} and the scope the rule file declares.
 * @throws Error naming the rule and every field that is wrong.
 */
export function validateRuleMeta<S extends RuleMeta['scope']>(
  raw: unknown,
  scope: S,
): RuleMeta & { scope: S } {
  const problems: string[] = [];
  const value = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const label = typeof value.id === 'string' ? value.id : '(no id)';
  for (const field of TEXT_FIELDS) {
    const text = value[field];
    if (typeof text !== 'string' || text.trim() === '') problems.push(`${field} must be a non-empty string`);
  }
  if (typeof value.id === 'string' && !RULE_ID.test(value.id)) problems.push('id must be kebab-case');
  if (!SEVERITIES.includes(value.severity as Severity)) {
    problems.push(`severity must be one of ${SEVERITIES.join(', ')}`);
  }
  if (value.scope !== scope) problems.push(`scope must be "${scope}"`);
  const known = new Set<string>([...TEXT_FIELDS, 'severity', 'scope']);
  const unknown = Object.keys(value).filter((key) => !known.has(key));
  if (unknown.length > 0) problems.push(`unknown field(s): ${unknown.join(', ')}`);
  if (problems.length > 0) throw new Error(`rule meta ${label}: ${problems.join('; ')}`);
  return value as unknown as RuleMeta & { scope: S };
}
