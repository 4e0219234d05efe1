/**
 * The end of a source's scan, once every bucket job has finished: bucket rules (undeclared, test
 * environment, public access, lifecycle, noncurrent versions), the copy check, remediation of what is gone, and the
 * source's verdict: complete only when every planned bucket and shard was evaluated in full.
 */
import type { ScanBucketResult, ScanSourceResult } from '../queue/jobs.js';
import type { BucketObservation } from '../rules/rule.js';
import { bucketRules } from '../rules/registry.js';
import type { FindingInput } from '../store/store.js';
import { findProductionCopies } from './copy-check.js';
import { evaluateObject, toSnapshot } from './evaluate.js';
import type { ScanDeps } from './scan-deps.js';
import { undeterminedOf, type DiscoveredBucket } from './source-discovery.js';

export interface SourceAggregateInput {
  scanId: string;
  sourceId: string;
  now: Date;
  buckets: DiscoveredBucket[];
  /** Why ListBuckets was refused, when it was: then only the declared buckets were planned. */
  listBucketsError: string | null;
  /** Errors and notes from discovery. */
  errors: string[];
  notes: string[];
  results: ScanBucketResult[];
  /** Bucket jobs that failed after all their attempts, by reason. */
  failures: string[];
}

function bucketFindings(
  deps: ScanDeps,
  input: SourceAggregateInput,
  bucket: DiscoveredBucket,
  imageCount: number | null,
): { findings: FindingInput[]; errors: string[] } {
  const ctx = deps.ruleContext(input.sourceId, input.now);
  const observation: BucketObservation = {
    source: input.sourceId,
    bucket: bucket.bucket,
    declared: bucket.declared,
    testLike: bucket.testLike,
    testWords: bucket.testWords,
    imageCount,
    anonymousProbes: bucket.anonymousProbes,
    lifecycle: bucket.lifecycle,
    ...(bucket.versioning ? { versioning: bucket.versioning } : {}),
  };
  const findings: FindingInput[] = [];
  const errors: string[] = [];
  for (const rule of bucketRules) {
    try {
      for (const found of rule.evaluate(observation, ctx)) {
        findings.push({
          ...found,
          source: input.sourceId,
          bucket: bucket.bucket,
          key: '',
          etag: null,
          size: null,
          lastModified: null,
          captureTime: null,
          captureTimeOrigin: null,
          ageHours: null,
        });
      }
    } catch (error) {
      errors.push(`rule ${rule.meta.id} failed on bucket ${bucket.bucket}: ${(error as Error).message}`);
    }
  }
  return { findings, errors };
}

/** Judges the source's buckets and closes its part of the scan. */
export async function aggregateSource(
  deps: ScanDeps,
  input: SourceAggregateInput,
): Promise<ScanSourceResult> {
  const errors = [...input.errors, ...input.failures];
  if (input.listBucketsError !== null) {
    errors.push(
      `ListBuckets failed (${input.listBucketsError}): only the declared buckets were scanned; undeclared buckets cannot be ruled out`,
    );
  }
  const notes = [...input.notes];
  const findings: FindingInput[] = [];
  const completeBuckets = new Set<string>();

  for (const bucket of input.buckets) {
    const results = input.results.filter((r) => r.bucket === bucket.bucket);
    const complete = results.length === bucket.shards.length && results.every((r) => r.complete);
    for (const r of results) errors.push(...r.errors);
    if (!complete) errors.push(`bucket ${bucket.bucket} was not scanned completely`);
    else completeBuckets.add(bucket.bucket);
    for (const check of undeterminedOf(bucket)) {
      // Public access is the contract's gravest exposure: not knowing it leaves the scan incomplete.
      // The lifecycle is evidence, not proof: a note from discovery says it could not be read.
      if (check.rule === 'public-access')
        errors.push(`bucket ${bucket.bucket}: public access could not be determined (${check.reason})`);
      // Versions no listing shows may hold images: not knowing them is not reading everything.
      if (check.rule === 'noncurrent-versions')
        errors.push(`bucket ${bucket.bucket}: its noncurrent versions could not be checked: ${check.reason}`);
    }
    const images = complete ? results.reduce((sum, r) => sum + r.images, 0) : null;
    const verdict = bucketFindings(deps, input, bucket, images);
    findings.push(...verdict.findings);
    errors.push(...verdict.errors);
  }

  const suspicious = input.buckets
    .filter((b) => (!b.declared || b.testLike) && completeBuckets.has(b.bucket))
    .map((b) => ({ source: input.sourceId, bucket: b.bucket }));
  await deps.store.upsertFindings(input.scanId, findings, input.now);
  const ctx = deps.ruleContext(input.sourceId, input.now);
  const copies = await findProductionCopies(deps, suspicious, async (hits) => {
    const copyFindings = hits.flatMap((hit) => {
      const bucket = input.buckets.find((b) => b.bucket === hit.state.bucket)!;
      const listed = {
        key: hit.state.key,
        etag: hit.state.etag,
        size: hit.state.size,
        lastModified: hit.state.lastModified,
      };
      const snapshot = toSnapshot(listed, hit.state, {
        bucketDeclared: bucket.declared,
        bucketTestLike: bucket.testLike,
        register: null,
        copyOf: hit.copyOf,
      });
      return evaluateObject(snapshot, ctx).findings.filter(
        (f) => f.rule === 'production-data-outside-production',
      );
    });
    await deps.store.upsertFindings(input.scanId, copyFindings, input.now);
  });
  errors.push(...copies.errors);
  if (copies.hashed > 0)
    notes.push(`perceptual hashes computed for ${copies.hashed} images (whole-image reads)`);

  // Only a complete look at a bucket proves that what was not seen is gone, and only while this is
  // the source's newest scan and still running: an older or cancelled scan did not list what a
  // newer one found, and must not close its findings.
  const newest = (await deps.store.listScans({ source: input.sourceId, limit: 1 }))[0];
  const current = newest?.id === input.scanId && newest.status === 'running';
  if (!current)
    notes.push('a newer scan of this source started (or this one was cancelled): nothing was remediated');
  if (copies.errors.length === 0 && current) {
    for (const bucket of input.buckets.filter((b) => completeBuckets.has(b.bucket))) {
      await deps.store.remediateUnseen(input.scanId, input.sourceId, bucket.bucket, input.now, {
        includeBucketLevel: true,
        keepRules: undeterminedOf(bucket).map((check) => check.rule),
      });
    }
  }
  const complete = errors.length === 0;
  if (complete && current && input.listBucketsError === null) {
    // Buckets that no longer exist at all: their findings are remediated too (the vendor removed
    // them). Only when ListBuckets answered: otherwise what was not listed was not looked for.
    const listed = new Set(input.buckets.map((b) => b.bucket));
    for (const bucket of await deps.store.bucketsWithFindings(input.sourceId)) {
      if (!listed.has(bucket)) {
        await deps.store.remediateUnseen(input.scanId, input.sourceId, bucket, input.now, {
          includeBucketLevel: true,
        });
      }
    }
  }
  return { sourceId: input.sourceId, complete, errors: errors.slice(0, 200), notes };
}
