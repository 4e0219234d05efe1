/**
 * Every rule the auditor runs, in one list. Adding a rule means adding its folder and one line here;
 * the registry test fails when a folder with a meta.json is not listed.
 *
 * Each meta is validated when its rule module loads (see meta.ts); this module adds the checks that
 * need the whole set: the listed id matches the meta id, ids are unique, scopes match the list.
 */
import { rule as clockSkew } from './clock-skew/clock-skew.rule.js';
import { rule as edgeRetention } from './edge-retention/edge-retention.rule.js';
import { rule as lifecycleNotEnforcing } from './lifecycle-not-enforcing/lifecycle-not-enforcing.rule.js';
import { rule as noncurrentVersions } from './noncurrent-versions/noncurrent-versions.rule.js';
import { rule as missingTimestamp } from './missing-timestamp/missing-timestamp.rule.js';
import { rule as productionDataOutsideProduction } from './production-data-outside-production/production-data-outside-production.rule.js';
import { rule as publicAccess } from './public-access/public-access.rule.js';
import { rule as testEnvironment } from './test-environment/test-environment.rule.js';
import { rule as transferDeadline } from './transfer-deadline/transfer-deadline.rule.js';
import { rule as undeclaredBucket } from './undeclared-bucket/undeclared-bucket.rule.js';
import { rule as unreadableObject } from './unreadable-object/unreadable-object.rule.js';
import { rule as vendorRetention } from './vendor-retention/vendor-retention.rule.js';
import { rule as violationsOnly } from './violations-only/violations-only.rule.js';
import { validateRuleMeta } from './meta.js';
import type { BucketRule, ObjectRule, Rule } from './rule.js';

/** Checks one listed rule against the id it is listed under (its folder name). */
function checked<R extends Rule>(id: string, rule: R): R {
  validateRuleMeta(rule.meta, rule.meta.scope);
  if (rule.meta.id !== id) throw new Error(`rule listed as "${id}" has meta id "${rule.meta.id}"`);
  return rule;
}

function checkedAll<R extends Rule>(scope: R['meta']['scope'], entries: Array<[string, R]>): readonly R[] {
  return Object.freeze(
    entries.map(([id, rule]) => {
      if (rule.meta.scope !== scope)
        throw new Error(`rule "${id}" has scope ${rule.meta.scope}, listed as ${scope}`);
      return checked(id, rule);
    }),
  );
}

/** Rules judged once per object snapshot, in the order findings are reported. */
export const objectRules: readonly ObjectRule[] = checkedAll<ObjectRule>('object', [
  ['edge-retention', edgeRetention],
  ['vendor-retention', vendorRetention],
  ['transfer-deadline', transferDeadline],
  ['violations-only', violationsOnly],
  ['production-data-outside-production', productionDataOutsideProduction],
  ['missing-timestamp', missingTimestamp],
  ['clock-skew', clockSkew],
  ['unreadable-object', unreadableObject],
]);

/** Rules judged once per bucket observation. */
export const bucketRules: readonly BucketRule[] = checkedAll<BucketRule>('bucket', [
  ['undeclared-bucket', undeclaredBucket],
  ['test-environment', testEnvironment],
  ['public-access', publicAccess],
  ['lifecycle-not-enforcing', lifecycleNotEnforcing],
  ['noncurrent-versions', noncurrentVersions],
]);

/** Every rule, object rules first. */
export const allRules: readonly Rule[] = Object.freeze([...objectRules, ...bucketRules]);

const byId = new Map<string, Rule>();
for (const rule of allRules) {
  if (byId.has(rule.meta.id)) throw new Error(`rule id "${rule.meta.id}" is registered twice`);
  byId.set(rule.meta.id, rule);
}

/** The rule with this id, or undefined (e.g. for a rule id found in an old finding but since removed). */
export function ruleById(id: string): Rule | undefined {
  return byId.get(id);
}
