/**
 * Known findings for the API tests: two completed scans of two sources, keys with plates in them, a
 * finding the second scan no longer sees (remediated), one it sees for the first time (new).
 */
import type { Finding } from '../../../core/model.js';
import type { FindingInput, Store } from '../../../core/store/store.js';

/** Plates written into keys below; no log line and no viewer answer may show them. */
export const SEED_PLATES = ['GX-123-B', 'ZT-908-K', '12-HJK-3', 'NB-42-LX'];

const HOUR = 3_600_000;

export function input(
  partial: Partial<FindingInput> & Pick<FindingInput, 'source' | 'bucket' | 'key' | 'rule'>,
): FindingInput {
  return {
    severity: 'high',
    threshold: '48 h',
    reason: `object ${partial.key} is older than allowed`,
    details: { hoursOver: 3, plateHash: 'ab'.repeat(32) },
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    size: 1234,
    lastModified: new Date('2026-11-01T10:00:00Z'),
    captureTime: new Date('2026-11-01T09:00:00Z'),
    captureTimeOrigin: 'exif-offset',
    ageHours: 51,
    ...partial,
  };
}

export interface Seeded {
  scan1: string;
  scan2: string;
  /** By a short name. */
  findings: Record<'plateEdge' | 'plateVendor' | 'archived' | 'bucketLevel' | 'fresh' | 'formula', Finding>;
}

/** Seeds the store relative to `now`; scan ids are unique per call so several seeds can share a store. */
/** Letters only: a tag with digits could itself look like a plate and be masked. */
function letters(n: number): string {
  return Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
}

export async function seedFindings(store: Store, now: Date, tag = letters(6)): Promise<Seeded> {
  const scan1 = `scan-seed-${tag}-1`;
  const scan2 = `scan-seed-${tag}-2`;
  const t1 = new Date(now.getTime() - 3 * HOUR);
  const t2 = new Date(now.getTime() - 1 * HOUR);
  const keys = {
    plateEdge: `2026/11/20/cam1/${SEED_PLATES[0]}-${tag}.jpg`,
    plateVendor: `violations/${SEED_PLATES[1]}_${tag}.jpg`,
    archived: `archive/${SEED_PLATES[2]}-${tag}.jpg`,
    fresh: `2026/11/20/cam2/083500-${tag}.jpg`,
    formula: `=HYPERLINK("http://evil")-${tag}.jpg`,
  };
  await store.createScan({
    id: scan1,
    sources: ['edge-a', 'vendor-b'],
    trigger: 'cli',
    judgedAt: t1,
    startedAt: t1,
  });
  await store.upsertFindings(
    scan1,
    [
      input({ source: 'edge-a', bucket: 'edge-a-bucket', key: keys.plateEdge, rule: 'edge-retention' }),
      input({
        source: 'vendor-b',
        bucket: 'vendor-b-bucket',
        key: keys.plateVendor,
        rule: 'violations-only',
        severity: 'medium',
      }),
      input({ source: 'vendor-b', bucket: 'vendor-b-bucket', key: keys.archived, rule: 'vendor-retention' }),
      input({
        source: 'vendor-b',
        bucket: `acc-${tag}`,
        key: '',
        rule: 'undeclared-bucket',
        severity: 'critical',
      }),
      input({
        source: 'vendor-b',
        bucket: 'vendor-b-bucket',
        key: keys.formula,
        rule: 'unreadable-object',
        severity: 'low',
      }),
    ],
    t1,
  );
  await store.finishScan(scan1, 'completed', new Date(t1.getTime() + 300_000));

  await store.createScan({
    id: scan2,
    sources: ['edge-a', 'vendor-b'],
    trigger: 'schedule',
    judgedAt: t2,
    startedAt: t2,
  });
  await store.upsertFindings(
    scan2,
    [
      input({ source: 'edge-a', bucket: 'edge-a-bucket', key: keys.plateEdge, rule: 'edge-retention' }),
      input({
        source: 'vendor-b',
        bucket: 'vendor-b-bucket',
        key: keys.plateVendor,
        rule: 'violations-only',
        severity: 'medium',
      }),
      input({
        source: 'vendor-b',
        bucket: 'vendor-b-bucket',
        key: keys.formula,
        rule: 'unreadable-object',
        severity: 'low',
      }),
      input({
        source: 'edge-a',
        bucket: 'edge-a-bucket',
        key: keys.fresh,
        rule: 'clock-skew',
        severity: 'medium',
      }),
    ],
    t2,
  );
  await store.remediateUnseen(scan2, 'vendor-b', 'vendor-b-bucket', t2);
  await store.finishScan(scan2, 'completed', new Date(t2.getTime() + 300_000));

  const page = await store.listFindings({ limit: 1000 });
  const find = (key: string, rule: string) => {
    const found = page.items.find((f) => f.key === key && f.rule === rule);
    if (!found) throw new Error(`seeded finding ${rule} ${key} missing`);
    return found;
  };
  return {
    scan1,
    scan2,
    findings: {
      plateEdge: find(keys.plateEdge, 'edge-retention'),
      plateVendor: find(keys.plateVendor, 'violations-only'),
      archived: find(keys.archived, 'vendor-retention'),
      bucketLevel: find('', 'undeclared-bucket'),
      fresh: find(keys.fresh, 'clock-skew'),
      formula: find(keys.formula, 'unreadable-object'),
    },
  };
}
