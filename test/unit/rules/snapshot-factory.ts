/**
 * Builders for what rules judge, with sane defaults: a readable vendor image captured with an EXIF
 * offset one hour before `NOW`, in a declared production bucket. Tests override only what matters.
 */
import type { Contract, ObjectSnapshot, RuleContext, SourceRef, SourceRole } from '../../../core/model.js';
import type { BucketObservation } from '../../../core/rules/rule.js';

/** The scan clock of every test: 2026-11-20 08:30:00 +01:00 (Europe/Amsterdam). */
export const NOW = new Date('2026-11-20T07:30:00.000Z');

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
export const SECOND = 1000;

/** An instant `ms` before {@link NOW}. */
export function ago(ms: number): Date {
  return new Date(NOW.getTime() - ms);
}

export const CONTRACT: Contract = {
  edgeRetentionHours: 48,
  vendorRetentionDays: 28,
  transferDeadlineHours: 48,
  graceMinutes: 0,
  timezone: 'Europe/Amsterdam',
  clockSkewToleranceMinutes: 5,
};

export function makeSource(overrides: Partial<SourceRef> = {}): SourceRef {
  return {
    id: 'vendor-1',
    role: 'vendor',
    buckets: ['ars-prod'],
    hasViolationSignal: true,
    hasRegister: true,
    ...overrides,
  };
}

/** A context for `role`, with contract and source overrides. */
export function makeContext(
  role: SourceRole = 'vendor',
  overrides: { contract?: Partial<Contract>; source?: Partial<SourceRef>; now?: Date } = {},
): RuleContext {
  return {
    source: makeSource({ id: `${role}-1`, role, ...overrides.source }),
    contract: { ...CONTRACT, ...overrides.contract },
    now: overrides.now ?? NOW,
  };
}

export function makeSnapshot(overrides: Partial<ObjectSnapshot> = {}): ObjectSnapshot {
  const captureTime = overrides.captureTime ?? ago(HOUR);
  return {
    source: 'vendor-1',
    bucket: 'ars-prod',
    key: 'cam1/2026/11/20/img-0001.jpg',
    etag: '"0123456789abcdef0123456789abcdef"',
    size: 412_000,
    lastModified: new Date(captureTime.getTime() + MINUTE),
    isImage: true,
    readError: null,
    contentServed: true,
    captureTime,
    captureTimeOrigin: 'exif-offset',
    exifCaptureTime: '2026:11:20 07:30:00 +01:00',
    cameraMake: 'ARS',
    cameraModel: 'ANPR-3',
    plateHash: null,
    signals: { metadata: null, exif: null, register: { matched: true, by: 'key' } },
    bucketDeclared: true,
    bucketTestLike: false,
    copyOf: null,
    ...overrides,
  };
}

export function makeBucket(overrides: Partial<BucketObservation> = {}): BucketObservation {
  return {
    source: 'vendor-1',
    bucket: 'ars-prod',
    declared: true,
    testLike: false,
    testWords: [],
    imageCount: 10,
    anonymousProbes: [],
    lifecycle: { supported: true, expirationDays: [28] },
    ...overrides,
  };
}
