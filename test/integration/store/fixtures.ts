/** Builders shared by the store suites. Every test makes its own names, so tests share one database. */
import type { FindingInput, ObjectState, Store } from '../../../core/store/store.js';

let counter = 0;

/** A name no other test of this run uses. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/** The clock the suites judge by: fixed, so first/last seen are exact. */
export const T0 = new Date('2026-11-01T00:00:00.000Z');

/** T0 plus `h` hours. */
export function at(h: number): Date {
  return new Date(T0.getTime() + h * 3_600_000);
}

/** Creates a running scan and returns its id. */
export async function newScan(store: Store, sources: string[] = ['src'], startedAt?: Date): Promise<string> {
  const id = uid('scan');
  await store.createScan({ id, sources, trigger: 'cli', judgedAt: startedAt ?? T0, startedAt });
  return id;
}

/** A finding input with plausible evidence; `over` replaces any field. */
export function finding(
  source: string,
  bucket: string,
  key: string,
  rule = 'edge-retention',
  over: Partial<FindingInput> = {},
): FindingInput {
  return {
    source,
    bucket,
    key,
    rule,
    severity: 'high',
    threshold: '48 h',
    reason: 'Kept longer than the edge retention.',
    details: { hoursOver: 2 },
    etag: 'etag-1',
    size: 1_000,
    lastModified: at(-50),
    captureTime: at(-50),
    captureTimeOrigin: 'exif-offset',
    ageHours: 50,
    ...over,
  };
}

/** An object state with every field set; `over` replaces any field. */
export function objectState(
  source: string,
  bucket: string,
  key: string,
  over: Partial<ObjectState> = {},
): ObjectState {
  return {
    source,
    bucket,
    key,
    etag: 'etag-1',
    size: 123_456,
    lastModified: new Date('2026-11-20T08:30:01.000Z'),
    isImage: true,
    readError: null,
    captureTime: new Date('2026-11-20T07:30:00.250Z'),
    captureTimeOrigin: 'exif-offset',
    exifCaptureTime: '2026:11:20 08:30:00.250 +01:00',
    cameraMake: 'Acme',
    cameraModel: 'ANPR-9',
    plateHash: 'a'.repeat(64),
    signals: { metadata: true, exif: null },
    perceptualHash: null,
    readSettings: 'settings-1',
    copyOf: null,
    ...over,
  };
}
