/**
 * From what was read to what is wrong: builds the snapshot rules judge and runs every object rule
 * on it. A rule that throws becomes a recorded error, never a lost object.
 */
import type { CopyMatch, ObjectSnapshot, RegisterMatch, RuleContext } from '../model.js';
import { hoursBetween } from '../rules/rule.js';
import { objectRules } from '../rules/registry.js';
import { ageStart } from '../rules/retention.js';
import type { FindingInput, ObjectState } from '../store/store.js';
import type { ListedObject } from '../storage/s3-storage.js';

/** Where an object's bucket stands, and what the scan knows beyond the object itself. */
export interface SnapshotExtras {
  bucketDeclared: boolean;
  bucketTestLike: boolean;
  register: RegisterMatch | null;
  copyOf: CopyMatch | null;
  /** See ObjectSnapshot.contentServed; true when absent (a state the store kept was served). */
  contentServed?: boolean;
}

/** Combines the listing entry, what was read from the object, and the scan's extras. */
export function toSnapshot(listed: ListedObject, state: ObjectState, extras: SnapshotExtras): ObjectSnapshot {
  const fromExif =
    state.captureTime !== null &&
    state.captureTimeOrigin !== null &&
    state.captureTimeOrigin !== 'last-modified';
  return {
    source: state.source,
    bucket: state.bucket,
    key: listed.key,
    etag: listed.etag,
    size: listed.size,
    lastModified: listed.lastModified,
    isImage: state.isImage,
    readError: state.readError,
    contentServed: extras.contentServed ?? true,
    captureTime: fromExif ? state.captureTime! : listed.lastModified,
    captureTimeOrigin: fromExif ? state.captureTimeOrigin! : 'last-modified',
    exifCaptureTime: state.exifCaptureTime,
    cameraMake: state.cameraMake,
    cameraModel: state.cameraModel,
    plateHash: state.plateHash,
    signals: { ...state.signals, register: extras.register },
    bucketDeclared: extras.bucketDeclared,
    bucketTestLike: extras.bucketTestLike,
    copyOf: extras.copyOf,
  };
}

/** The evidence every finding about this object carries. */
export function objectEvidence(
  snapshot: ObjectSnapshot,
  ctx: Pick<RuleContext, 'now' | 'contract'>,
): Omit<FindingInput, 'rule' | 'severity' | 'threshold' | 'reason' | 'details'> {
  return {
    source: snapshot.source,
    bucket: snapshot.bucket,
    key: snapshot.key,
    etag: snapshot.etag,
    size: snapshot.size,
    lastModified: snapshot.lastModified,
    captureTime: snapshot.captureTime,
    captureTimeOrigin: snapshot.captureTimeOrigin,
    // The proven age, as the retention rules judge it.
    ageHours: hoursBetween(ageStart(snapshot, ctx.contract).from, ctx.now),
  };
}

/**
 * Whether a listed object is a folder marker: a zero-byte key ending in `/`, which S3 consoles,
 * rclone and s3fs write to show a folder. It holds no image, so no object rule judges it.
 */
export function isFolderMarker(object: { key: string; size: number }): boolean {
  return object.size === 0 && object.key.endsWith('/');
}

/** Runs every object rule on a snapshot. */
export function evaluateObject(
  snapshot: ObjectSnapshot,
  ctx: RuleContext,
): { findings: FindingInput[]; errors: string[] } {
  const findings: FindingInput[] = [];
  const errors: string[] = [];
  if (isFolderMarker(snapshot)) return { findings, errors };
  const evidence = objectEvidence(snapshot, ctx);
  for (const rule of objectRules) {
    try {
      for (const found of rule.evaluate(snapshot, ctx)) findings.push({ ...evidence, ...found });
    } catch (error) {
      errors.push(
        `rule ${rule.meta.id} failed on ${snapshot.bucket}/${snapshot.key}: ${(error as Error).message}`,
      );
    }
  }
  return { findings, errors };
}
