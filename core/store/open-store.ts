/** The entry point to the store: pick the engine, bring its schema up to date, compose the repositories. */
import { AuditRepository } from './audit.repository.js';
import { openDb, type Db } from './db.js';
import { FindingsRepository } from './findings.repository.js';
import { migrate } from './migrate.js';
import { ObjectsRepository } from './objects.repository.js';
import { ReportsRepository } from './reports.repository.js';
import { ScanControlRepository } from './scan-control.repository.js';
import { ScansRepository } from './scans.repository.js';
import { SuppressionsRepository } from './suppressions.repository.js';
import type { Store } from './store.js';

/** Where the store lives: PostgreSQL when `databaseUrl` is set, else PGlite at `dataDir`. */
export interface OpenStoreOptions {
  /** A `postgres://` URL. */
  databaseUrl?: string;
  /** A PGlite data directory (parents are created) or `memory://`. */
  dataDir?: string;
  /** A schema for every table, created when missing (see `OpenDbOptions.schema` in db.ts). */
  schema?: string;
  /** Most PostgreSQL connections (default 10). */
  poolSize?: number;
  /** Errors of idle PostgreSQL connections; see `OpenDbOptions.onPoolError` in db.ts. */
  onPoolError?: (error: Error) => void;
  /** How long the first PostgreSQL connection may take; see `OpenDbOptions.connectTimeoutMs` in db.ts. */
  connectTimeoutMs?: number;
}

/**
 * Opens the database, applies pending migrations (see {@link migrate}) and returns the {@link Store}.
 * Throws when neither location is given, the database does not answer or a migration fails; the
 * connections are closed again in that case. The caller owns the store and must `close()` it.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const db = await openDb(opts);
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return createStore(db);
}

/** The tables every scan rewrites (see {@link Store.tidyAfterScan}). */
const TIDY_PGLITE_SQL =
  'VACUUM (ANALYZE) findings, finding_scans, finding_history, objects, scans, scan_buckets, audit_log';

/**
 * A {@link Store} over an already migrated {@link Db}; closing the store closes `db`. For callers
 * (and tests) that manage the database themselves.
 */
export function createStore(db: Db): Store {
  const scans = new ScansRepository(db);
  const findings = new FindingsRepository(db);
  const objects = new ObjectsRepository(db);
  const scanControl = new ScanControlRepository(db, scans);
  const suppressions = new SuppressionsRepository(db);
  const audit = new AuditRepository(db);
  const reports = new ReportsRepository(db);
  return {
    kind: db.kind,
    ping: async () => {
      await db.query('SELECT 1');
    },
    close: () => db.close(),

    createScan: (scan) => scans.createScan(scan),
    getScan: (id) => scans.getScan(id),
    listScans: (opts) => scans.listScans(opts),
    setBucketProgress: (scanId, progress) => scans.setBucketProgress(scanId, progress),
    addScanCounts: (scanId, counts) => scans.addScanCounts(scanId, counts),
    addScanError: (scanId, error) => scans.addScanError(scanId, error),
    addScanNote: (scanId, note) => scans.addScanNote(scanId, note),
    finishScan: (scanId, status, at) => scans.finishScan(scanId, status, at),
    tidyAfterScan: async () => {
      if (db.kind === 'pglite') await db.exec(TIDY_PGLITE_SQL);
    },
    cancelScan: (id, at) => scanControl.cancelScan(id, at),
    scansFinishedAfter: (after, limit) => scanControl.scansFinishedAfter(after, limit),

    upsertFindings: (scanId, list, seenAt) => findings.upsertFindings(scanId, list, seenAt),
    unlinkGoneObjectFindings: (scanId, source, bucket, afterKey, upToKey, keep) =>
      findings.unlinkGoneObjectFindings(scanId, source, bucket, afterKey, upToKey, keep),
    remediateUnseen: (scanId, source, bucket, at, opts) =>
      findings.remediateUnseen(scanId, source, bucket, at, opts),
    getFinding: (id) => findings.getFinding(id),
    listFindings: (filter) => findings.listFindings(filter),
    findingsOfScan: (scanId) => findings.findingsOfScan(scanId),
    setFindingStatus: (id, change) => findings.setFindingStatus(id, change),
    findingHistory: (id) => findings.findingHistory(id),
    bucketsWithFindings: (source) => findings.bucketsWithFindings(source),
    countFindings: () => findings.countFindings(),
    complianceSummary: (period) => reports.complianceSummary(period),
    scanDelta: (scanId) => reports.scanDelta(scanId),

    createSuppression: (input) => suppressions.createSuppression(input),
    getSuppression: (id) => suppressions.getSuppression(id),
    listSuppressions: (opts) => suppressions.listSuppressions(opts),
    revokeSuppression: (id, actor, at) => suppressions.revokeSuppression(id, actor, at),

    recordAccess: (entry) => audit.recordAccess(entry),
    completeAccess: (id, status, durationMs) => audit.completeAccess(id, status, durationMs),
    listAccess: (filter) => audit.listAccess(filter),

    getObjectStates: (source, bucket, keys) => objects.getObjectStates(source, bucket, keys),
    putObjectStates: (states) => objects.putObjectStates(states),
    keyBoundaries: (source, bucket, every) => objects.keyBoundaries(source, bucket, every),
    pruneObjectStates: (source, bucket, afterKey, upToKey, keep) =>
      objects.pruneObjectStates(source, bucket, afterKey, upToKey, keep),
    listObjectStates: (source, bucket, afterKey, limit) =>
      objects.listObjectStates(source, bucket, afterKey, limit),
    setPerceptualHash: (source, bucket, key, etag, hash) =>
      objects.setPerceptualHash(source, bucket, key, etag, hash),
    setCopyOf: (object, copyOf) => objects.setCopyOf(object, copyOf),
    findImagesByEtag: (locations, etags) => objects.findImagesByEtag(locations, etags),
    copyCandidateKeys: (bucket, windows) => objects.copyCandidateKeys(bucket, windows),
    listUntimedImages: (bucket, afterKey, limit) => objects.listUntimedImages(bucket, afterKey, limit),
  };
}
